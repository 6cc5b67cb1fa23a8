import Fluent
import Vapor

/// `meander notify --scenario S (--user EMAIL | --organization ORG) [--values JSON] [--urgent]`: sends a
/// notification from the command line, through the same `Notifier` as every capability.
struct NotifyCommand: OperatorCommand {
    struct Signature: CommandSignature {
        @Option(name: "scenario", help: "The scenario, e.g. report_ready or security_alert ('meander notify --help' lists them).")
        var scenario: String?

        @Option(name: "user", help: "One user, by e-mail address.")
        var user: String?

        @Option(name: "organization", help: "Every active member of this organisation and those below it (UUID or org number).")
        var organization: String?

        @Option(name: "values", help: "The template's values as a JSON object of strings, e.g. '{\"link\": \"https://…\"}'.")
        var values: String?

        @Flag(name: "urgent", help: "Pass through quiet hours (only scenarios that may be urgent).")
        var urgent: Bool
    }

    var summary: String { "Send a notification to a user or to every member of an organisation." }

    var help: String {
        """
        Send a notification through the same path as the app's own: each user's preferences, channels, language and \
        quiet hours apply, and delivery runs on the job queue (workers of 'meander serve' or 'meander worker'). \
        Scenarios: \(Notification.Scenario.allCases.map(\.rawValue).joined(separator: ", ")).
        """
    }

    var requiredOptions: [String] { ["scenario"] }

    func run(using context: CommandContext, signature: Signature) async throws {
        guard let raw = signature.scenario, let scenario = Notification.Scenario(rawValue: raw) else {
            throw UsageError(
                "meander notify: --scenario must be one of \(Notification.Scenario.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        guard (signature.user == nil) != (signature.organization == nil) else {
            throw UsageError("meander notify: give either --user or --organization.")
        }
        var values: [String: String] = [:]
        if let json = signature.values {
            guard let decoded = JSONText.decode([String: String].self, from: json) else {
                throw UsageError("meander notify: --values must be a JSON object of strings.")
            }
            values = decoded
        }
        let missing = scenario.requiredPlaceholders.filter { $0 != "first_name" && values[$0] == nil }
        guard missing.isEmpty else {
            throw UsageError("meander notify: \(scenario.rawValue) needs --values with \(missing.joined(separator: ", ")).")
        }
        let app = context.application
        let db = app.db
        var recipients: [UUID] = []
        var organizationID: UUID?
        if let email = signature.user {
            guard let user = try await User.query(on: db).filter(\.$email == User.normalize(email: email)).first() else {
                throw AppError(.notFound, "No user with the e-mail address '\(email)'.")
            }
            recipients = [try user.requireID()]
        } else if let raw = signature.organization {
            let organization = try await BufdirCommand.organization(raw, on: db)
            organizationID = try organization.requireID()
            let ids = try await OrganizationTree.subtreeIDs(of: [try organization.requireID()], on: db)
            recipients = Array(
                Set(
                    try await OrganizationMembership.query(on: db).filter(\.$organization.$id ~~ ids)
                        .filter(\.$status == .active).all().map(\.$user.id)))
        }
        let deps = app.meander.dependencies
        let message = Notifier.Message(scenario, values: values, urgent: signature.urgent, organizationID: organizationID)
        let progress = ProgressReporter()
        var done = 0
        for batch in stride(from: 0, to: recipients.count, by: 200).map({ Array(recipients[$0..<min($0 + 200, recipients.count)]) }) {
            try await db.transaction { transaction in
                for userID in batch { try await Notifier.notify(userID, message, deps: deps, on: transaction) }
            }
            done += batch.count
            progress.update("users notified", done: done, total: recipients.count)
        }
        context.console.print("notified \(recipients.count) users (\(scenario.rawValue)); delivery runs on the job queue")
    }
}

import Fluent
import Foundation
import Vapor

/// `meander bufdir <subcommand>`: the Bufdir report from the command line.
struct BufdirCommand: OperatorCommandGroup {
    var summary: String { "The yearly Bufdir report: export, finalise, counting rules." }

    var help: String {
        """
        The yearly Bufdir report: export it (the same export, audit and files as the API's one-click export), \
        finalise it, and show, change or re-apply a year's counting rules.
        """
    }

    var subcommands: [(name: String, command: any OperatorCommand)] {
        [
            ("export", BufdirExportCommand()),
            ("finalize", BufdirFinalizeCommand()),
            ("rules", BufdirRulesCommand()),
            ("rejudge", BufdirRejudgeCommand()),
        ]
    }

    /// An organisation by UUID or 9-digit organisation number.
    static func organization(_ raw: String, on db: any Database) async throws -> Organization {
        guard let organization = try await Organizations.find(idOrNumber: raw, on: db) else {
            throw AppError(.notFound, "No organisation with the id or organisation number '\(raw)'.")
        }
        return organization
    }

    /// The report of an organisation and period, a new draft when there is none.
    static func report(
        organization: Organization, year: Int, start: String?, end: String?, deps: AppDependencies,
        on db: any Database
    ) async throws -> BufdirReport {
        let period = try BufdirReportLifecycle.period(year: year, start: start, end: end)
        let id = try organization.requireID()
        if let existing = try await BufdirReports.find(organizationID: id, period: period, on: db) {
            return existing
        }
        return try await BufdirReportLifecycle.create(
            organizationID: id, year: year, start: start, end: end, actor: .cli, deps: deps, on: db)
    }
}

/// `meander bufdir export --org <id> --year 2026 --format xlsx --out file`.
struct BufdirExportCommand: OperatorCommand {
    struct Signature: CommandSignature {
        @Option(name: "org", help: "The organisation: its UUID or its 9-digit organisation number.")
        var organization: String?

        @Option(name: "year", help: "The reporting year (the period defaults to the calendar year).")
        var year: Int?

        @Option(name: "format", help: "csv, xlsx, json or zip (the evidence bundle). Default xlsx.")
        var format: String?

        @Option(name: "out", help: "Where to write the file; an existing file is replaced.")
        var out: String?

        @Option(name: "period-start", help: "First day, yyyy-MM-dd, within the year (default 1 January).")
        var periodStart: String?

        @Option(name: "period-end", help: "Last day, yyyy-MM-dd, within the year (default 31 December).")
        var periodEnd: String?
    }

    var summary: String { "Export an organisation's report for a year (csv, xlsx, json or zip), with progress." }

    var requiredOptions: [String] { ["org", "year", "out"] }

    var help: String {
        """
        Export an organisation's Bufdir report for a year, creating the draft report if there is none (a draft is \
        recomputed first). Shows progress on standard error, records the export in the export audit and the audit \
        chain (client: cli), and prints the file's size and SHA-256.
        """
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        guard let raw = signature.organization, let year = signature.year, let out = signature.out else {
            throw AppError(.badRequest, "--org, --year and --out are required; see `meander bufdir export --help`.")
        }
        guard let format = BufdirExportAudit.Format(rawValue: signature.format ?? "xlsx") else {
            throw AppError(.invalidParameter, "--format must be csv, xlsx, json or zip, not '\(signature.format ?? "")'.")
        }
        let app = context.application
        let organization = try await BufdirCommand.organization(raw, on: app.db)
        let report = try await BufdirCommand.report(
            organization: organization, year: year, start: signature.periodStart, end: signature.periodEnd,
            deps: app.meander.dependencies, on: app.db)
        let progress = ProgressReporter()
        let audit: BufdirExportAudit
        do {
            audit = try await BufdirExportRun.run(
                .init(reportID: try report.requireID(), format: format, client: .cli, actor: .cli, jobID: nil),
                deps: app.meander.dependencies, db: app.db,
                files: app.meander.files, temporaryDirectory: FileManager.default.temporaryDirectory, logger: app.logger,
                progress: { done, total in progress.update("export \(format.rawValue)", done: done, total: total) })
        } catch let failure as JobFailure {
            throw AppError(
                .internalError, "export failed: \(failure.message) (recorded as export \(failure.result["export_id"] ?? "?"))")
        }
        guard let key = audit.storageKey else { throw AppError(.internalError, "The export stored no file.") }
        let destination = URL(fileURLWithPath: out)
        _ = FileManager.default.createFile(atPath: destination.path, contents: nil)
        let handle = try FileHandle(forWritingTo: destination)
        defer { try? handle.close() }
        try handle.truncate(atOffset: 0)
        for try await chunk in try await app.meander.files.stream(key).chunks {
            try handle.write(contentsOf: chunk.readableBytesView)
        }
        context.console.print(
            """
            \(out): \(audit.sizeBytes ?? 0) bytes, sha256 \(audit.sha256 ?? "")
            report \(try report.requireID().uuidString.lowercased()) (\(report.status.rawValue)), \
            export \(try audit.requireID().uuidString.lowercased()), audit entry \(audit.auditSequence.map(String.init) ?? "?")
            """)
    }
}

/// `meander bufdir finalize --org <id> --year 2026`.
struct BufdirFinalizeCommand: OperatorCommand {
    struct Signature: CommandSignature {
        @Option(name: "org", help: "The organisation: its UUID or its 9-digit organisation number.")
        var organization: String?

        @Option(name: "year", help: "The reporting year.")
        var year: Int?
    }

    var summary: String { "Finalise an organisation's report for a calendar year (the year becomes read-only)." }

    var requiredOptions: [String] { ["org", "year"] }

    var help: String {
        "Finalise an organisation's report for a calendar year: recompute, freeze, hash, and close the period."
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        guard let raw = signature.organization, let year = signature.year else {
            throw AppError(.badRequest, "--org and --year are required.")
        }
        let db = context.application.db
        let organization = try await BufdirCommand.organization(raw, on: db)
        let report = try await BufdirCommand.report(
            organization: organization, year: year, start: nil, end: nil,
            deps: context.application.meander.dependencies, on: db)
        try await BufdirReportLifecycle.finalize(
            report, actor: .cli, deps: context.application.meander.dependencies, on: db)
        context.console.print("finalized \(try report.requireID().uuidString.lowercased()): content sha256 \(report.contentSHA256 ?? "")")
    }
}

/// `meander bufdir rules --year 2026 [--set rules.json]`.
struct BufdirRulesCommand: OperatorCommand {
    struct Signature: CommandSignature {
        @Option(name: "year", help: "The reporting year.")
        var year: Int?

        @Option(name: "set", help: "A JSON file {\"rules\": [...]} as for PUT /api/v1/bufdir-rules/{year}; replaces the year's rules.")
        var set: String?
    }

    var summary: String { "Print a year's counting rules, or replace them (--set) and re-judge the year." }

    var requiredOptions: [String] { ["year"] }

    var help: String {
        """
        Print a year's counting rules (one line each: key, parameters as JSON, valid from), or replace them with \
        --set (validated, audited, refused once a report of the year is finalised) and re-judge the year's activities.
        """
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        guard let year = signature.year else { throw AppError(.badRequest, "--year is required.") }
        let db = context.application.db
        if let path = signature.set {
            struct File: Decodable {
                struct Rule: Decodable {
                    var key: String
                    var parameters: [String: JSONValue]
                    var validFrom: String?
                    var source: String?
                }
                var rules: [Rule]
            }
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            let file: File
            do {
                file = try decoder.decode(File.self, from: try Data(contentsOf: URL(fileURLWithPath: path)))
            } catch {
                throw AppError(.malformedJSON, "\(path) is not a rules file: \(error)")
            }
            let rules = file.rules.map {
                BufdirRuleChange.Rule(
                    key: $0.key, parameters: $0.parameters, validFrom: $0.validFrom ?? String(format: "%04d-01-01", year),
                    source: $0.source)
            }
            do {
                try await BufdirRuleChange.replace(rules, year: year, actor: .cli, on: db)
            } catch let error as AppError {
                for field in error.fieldErrors { context.console.error("\(field.field): \(field.message)") }
                throw error
            }
            context.console.print("replaced the rules of \(year)")
            try await BufdirRejudgeCommand.rejudge(year: year, context: context)
        }
        let rows = try await BufdirRuleChange.ruleSet(year: year, on: db).rules
        guard !rows.isEmpty else { throw AppError(.notFound, "No counting rules are stored for \(year).") }
        for row in rows {
            context.console.print("\(row.ruleKey) \(row.parameters) (valid from \(row.validFrom))")
        }
    }
}

/// `meander bufdir rejudge --year 2026`.
struct BufdirRejudgeCommand: OperatorCommand {
    struct Signature: CommandSignature {
        @Option(name: "year", help: "The reporting year.")
        var year: Int?
    }

    var summary: String { "Judge every activity of a year again with its stored counting rules." }

    var requiredOptions: [String] { ["year"] }

    var help: String { "Judge every activity of a year again with that year's stored counting rules." }

    func run(using context: CommandContext, signature: Signature) async throws {
        guard let year = signature.year else { throw AppError(.badRequest, "--year is required.") }
        try await Self.rejudge(year: year, context: context)
    }

    static func rejudge(year: Int, context: CommandContext) async throws {
        let progress = ProgressReporter()
        let changed = try await BufdirRuleChange.rejudge(
            year: year, deps: context.application.meander.dependencies, on: context.application.db
        ) { done, total in
            progress.update("activities re-judged", done: done, total: total)
        }
        context.console.print("\(changed) activities of \(year) changed verdict")
    }
}

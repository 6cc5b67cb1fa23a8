import Fluent
import FluentSQL
import Foundation

/// Changing a year's counting rules without a release: validate, replace, and re-judge that year's activities with
/// the very code that judges them at logging time (`BufdirEligibility.evaluate`).
enum BufdirRuleChange {
    /// One rule as given.
    struct Rule: Sendable, Equatable {
        var key: String
        var parameters: [String: JSONValue]
        var validFrom: String
        var source: String?
    }

    static let keys = ["countries", "one_to_one", "group_activity", "mentor_training", "scoring", "small_cell_suppression"]

    /// Every problem with the rules, as field errors under `/rules/<index>`.
    static func problems(_ rules: [Rule], year: Int) -> [AppError.FieldError] {
        var errors: [AppError.FieldError] = []
        var seen: Set<String> = []
        func fail(_ index: Int, _ path: String, _ code: String, _ message: String) {
            errors.append(.init(field: "/rules/\(index)\(path)", code: code, message: message))
        }
        func integer(_ index: Int, _ parameters: [String: JSONValue], _ name: String, _ range: ClosedRange<Int>) {
            guard let value = parameters[name]?.numericValue, value == value.rounded(), range.contains(Int(value)) else {
                fail(index, "/parameters/\(name)", "invalid_value", "An integer from \(range.lowerBound) to \(range.upperBound).")
                return
            }
        }
        func strings(_ parameters: [String: JSONValue], _ name: String) -> [String]? {
            guard case .array(let values)? = parameters[name] else { return nil }
            let texts = values.compactMap { value -> String? in if case .string(let text) = value { text } else { nil } }
            return texts.count == values.count ? texts : nil
        }
        for (index, rule) in rules.enumerated() {
            if !seen.insert(rule.key).inserted { fail(index, "/key", "duplicate", "Each rule key once per year.") }
            if let day = BufdirPeriod.date(rule.validFrom) {
                if BufdirPeriod.calendar.component(.year, from: day) > year {
                    fail(index, "/valid_from", "invalid_value", "A rule of \(year) must be valid from a day in or before it.")
                }
            } else {
                fail(index, "/valid_from", "invalid_format", "A calendar day, yyyy-MM-dd.")
            }
            let parameters = rule.parameters
            switch rule.key {
            case "countries":
                guard let allowed = strings(parameters, "allowed"), !allowed.isEmpty,
                    allowed.allSatisfy({ $0.count == 2 && $0.allSatisfy { $0.isASCII && $0.isUppercase } })
                else {
                    fail(index, "/parameters/allowed", "invalid_value", "A non-empty list of ISO 3166 codes such as \"NO\".")
                    continue
                }
            case "one_to_one":
                let known = Set(Activity.Channel.allCases.map(\.rawValue))
                guard let channels = strings(parameters, "channels"), !channels.isEmpty, channels.allSatisfy(known.contains) else {
                    fail(index, "/parameters/channels", "invalid_value", "A non-empty list of \(known.sorted().joined(separator: ", ")).")
                    continue
                }
            case "group_activity":
                integer(index, parameters, "min_participants", 1...1000)
                integer(index, parameters, "min_minutes", 0...1440)
            case "mentor_training":
                integer(index, parameters, "min_minutes", 0...10_080)
            case "scoring":
                guard case .string("day")? = parameters["per"] else {
                    fail(index, "/parameters/per", "invalid_value", "Only \"day\" is supported.")
                    continue
                }
            case "small_cell_suppression":
                integer(index, parameters, "min_people", 1...100)
            default:
                fail(index, "/key", "invalid_value", "One of \(keys.joined(separator: ", ")).")
            }
        }
        return errors
    }

    /// Whether a finalised or submitted report of `year` has frozen its rules.
    static func isFrozen(year: Int, on db: any Database) async throws -> Bool {
        try await BufdirReport.query(on: db)
            .filter(\.$reportingYear == year).filter(\.$status ~~ [.finalized, .submitted]).count() > 0
    }

    /// Replaces the year's rules in one transaction, audited; `then` runs last in the same transaction.
    @discardableResult
    static func replace<Result: Sendable>(
        _ rules: [Rule], year: Int, actor: Caller, on db: any Database,
        then: @escaping @Sendable (any Database) async throws -> Result = { _ in () }
    ) async throws -> Result {
        let problems = problems(rules, year: year)
        guard problems.isEmpty else { throw AppError.validation(problems) }
        return try await db.writeTransaction { transaction in
            guard try await !isFrozen(year: year, on: transaction) else {
                throw AppError(.conflict, "A report of \(year) is finalised, so that year's rules are frozen.")
            }
            try await BufdirCountingRule.query(on: transaction).filter(\.$reportingYear == year).delete()
            for rule in rules {
                try await BufdirCountingRule(
                    reportingYear: year, ruleKey: rule.key, parameters: JSONValue.object(rule.parameters).jsonText,
                    validFrom: rule.validFrom, source: rule.source
                ).create(on: transaction)
            }
            try await AuditLog.append(
                actor.event(
                    "bufdir_rules.replaced", organizationID: nil, targetType: "bufdir_rules", targetID: Self.targetID(year),
                    metadata: ["year": String(year), "keys": rules.map(\.key).sorted().joined(separator: ",")]),
                on: transaction)
            return try await then(transaction)
        }
    }

    /// A year's stored rules, for any signed-in user; 404 when none are stored.
    static func read(year: Int, access: Access, on db: any Database) async throws -> BufdirRuleSet {
        _ = try access.authorizeSelf()
        let set = try await ruleSet(year: year, on: db)
        guard !set.rules.isEmpty else { throw AppError(.notFound, "No counting rules are stored for \(year).") }
        return set
    }

    /// Replaces a year's rules (platform admins) and enqueues re-judging the year's activities by them, in the same
    /// transaction. Returns the rules as now stored and the job.
    static func replaceAndRejudge(
        _ rules: [Rule], year: Int, access: Access, deps: AppDependencies, on db: any Database
    ) async throws -> (rules: BufdirRuleSet, job: Job) {
        try access.authorizeAnywhere()
        let actor = access.caller
        var request = JobRequest(
            kind: Self.rejudgeJobKind, queue: JobQueues.exports, payload: JSONText.encode(["year": String(year)]),
            maxAttempts: 3)
        request.requestedByID = actor.userID
        let enqueue = request
        let job = try await replace(rules, year: year, actor: actor, on: db) { transaction in
            try await JobQueue.enqueue(enqueue, deps: deps, on: transaction).job
        }
        return (try await ruleSet(year: year, on: db), job)
    }

    /// The job kind that re-judges a year.
    static let rejudgeJobKind = "bufdir_rejudge"

    /// Re-judges a year's activities by its stored rules, reporting progress; running it again is harmless.
    static let rejudgeKind = JobKind(
        rejudgeJobKind, queue: JobQueues.exports, retry: RetryPolicy(maxAttempts: 3, base: 30, cap: 600)
    ) { context in
        guard let year = try context.payload([String: String].self)["year"].flatMap({ Int($0) }) else {
            throw JobFailure(message: "The job names no year.", result: [:])
        }
        let changed = try await rejudge(year: year, deps: context.deps, on: context.db) { done, total in
            await context.progress.report(done: done, total: total)
        }
        return ["changed": String(changed)]
    }

    /// The rules stored for a year, by key, and whether they are frozen.
    static func ruleSet(year: Int, on db: any Database) async throws -> BufdirRuleSet {
        let rows = try await BufdirCountingRule.query(on: db).filter(\.$reportingYear == year).sort(\.$ruleKey).all()
        return BufdirRuleSet(year: year, rules: rows, frozen: try await isFrozen(year: year, on: db))
    }

    /// A stable id naming a year's rule set in the audit chain.
    static func targetID(_ year: Int) -> UUID {
        UUID(uuidString: String(format: "00000000-0000-4000-8000-%012d", year))!
    }

    /// Re-judges every activity of `year` by its rules as now stored (`Activities.rejudge`); returns how many
    /// changed. `progress` gets (done, total).
    @discardableResult
    static func rejudge(
        year: Int, deps: AppDependencies, on db: any Database,
        progress: @escaping @Sendable (Int, Int) async -> Void = { _, _ in }
    ) async throws -> Int {
        let rules = try await BufdirRules.load(year: year, on: db)
        return try await Activities.rejudge(year: year, rules: rules, at: deps.now, on: db, progress: progress)
    }
}

extension JSONValue {
    /// Compact JSON text with sorted keys.
    var jsonText: String {
        switch self {
        case .null: "null"
        case .bool(let value): value ? "true" : "false"
        case .integer(let value): String(value)
        case .number(let value): value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case .string(let value): JSONText.encode(value)
        case .array(let values): "[" + values.map(\.jsonText).joined(separator: ",") + "]"
        case .object(let object):
            "{" + object.keys.sorted().map { JSONText.encode($0) + ":" + (object[$0]?.jsonText ?? "null") }.joined(separator: ",") + "}"
        }
    }
}

/// A year's counting rules as stored, and whether a final report has frozen them.
struct BufdirRuleSet: Sendable {
    let year: Int
    let rules: [BufdirCountingRule]
    let frozen: Bool
}

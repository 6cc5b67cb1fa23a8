import Fluent
import Foundation
import OpenAPIRuntime
import Vapor

extension APIHandler {
    func getBufdirRules(_ input: Operations.GetBufdirRules.Input) async throws -> Operations.GetBufdirRules.Output {
        let request = try RequestContext.request
        _ = try request.access.authorizeSelf()
        let year = Int(input.path.year)
        let set = try await BufdirRulesView.make(year: year, rejudgeJobID: nil, on: request.db)
        guard !set.rules.isEmpty else { throw AppError(.notFound, "No counting rules are stored for \(year).") }
        return .ok(.init(body: .json(set)))
    }

    func replaceBufdirRules(_ input: Operations.ReplaceBufdirRules.Input) async throws -> Operations.ReplaceBufdirRules.Output {
        let request = try RequestContext.request
        try request.access.authorizeAnywhere()
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let year = Int(input.path.year)
        let rules = try body.rules.map { rule in
            let data = try JSONEncoder().encode(rule.parameters.additionalProperties)
            guard case .object(let parameters) = try JSONDecoder().decode(JSONValue.self, from: data) else {
                throw AppError.validation([.init(field: "/rules", code: "invalid_value", message: "Parameters must be an object.")])
            }
            return BufdirRuleChange.Rule(
                key: rule.key.rawValue, parameters: parameters, validFrom: rule.validFrom, source: rule.source)
        }
        let actor = try Caller(request)
        try await BufdirRuleChange.replace(rules, year: year, actor: actor, on: request.db)

        let job = Job(
            id: request.dependencies.uuid(), kind: "bufdir_rejudge", payload: JSONText.encode(["year": String(year)]), maxAttempts: 1,
            requestedByID: actor.userID)
        job.status = .running
        job.attempts = 1
        try await job.create(on: request.db)
        let db = request.application.db
        let deps = request.dependencies
        try request.application.meander.background.start(job, on: db, clock: deps.clock, logger: request.logger) {
            progress in
            let changed = try await BufdirRuleChange.rejudge(year: year, deps: deps, on: db) { done, total in
                await progress.report(done: done, total: total)
            }
            return ["changed": String(changed)]
        }
        return .ok(.init(body: .json(try await BufdirRulesView.make(year: year, rejudgeJobID: job.id, on: request.db))))
    }
}

enum BufdirRulesView {
    static func make(year: Int, rejudgeJobID: UUID?, on db: any Database) async throws -> Components.Schemas.BufdirRuleSet {
        let rows = try await BufdirCountingRule.query(on: db).filter(\.$reportingYear == year).sort(\.$ruleKey).all()
        let rules = try rows.compactMap { row -> Components.Schemas.BufdirRule? in
            guard let key = Components.Schemas.BufdirRule.KeyPayload(rawValue: row.ruleKey) else { return nil }
            let parameters = try JSONDecoder().decode(OpenAPIObjectContainer.self, from: Data(row.parameters.utf8))
            return .init(
                key: key, parameters: .init(additionalProperties: parameters), validFrom: row.validFrom, source: row.source)
        }
        return .init(
            reportingYear: Int32(year), rules: rules, frozen: try await BufdirRuleChange.isFrozen(year: year, on: db),
            rejudgeJobId: rejudgeJobID?.uuidString.lowercased())
    }
}

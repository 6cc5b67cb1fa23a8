import Foundation
import OpenAPIRuntime
import Vapor

extension APIHandler {
    func getBufdirRules(_ input: Operations.GetBufdirRules.Input) async throws -> Operations.GetBufdirRules.Output {
        let request = try RequestContext.request
        let set = try await BufdirRuleChange.read(year: Int(input.path.year), access: request.access, on: request.db)
        return .ok(.init(body: .json(try BufdirRulesView.make(set, rejudgeJobID: nil))))
    }

    func replaceBufdirRules(_ input: Operations.ReplaceBufdirRules.Input) async throws -> Operations.ReplaceBufdirRules.Output {
        let request = try RequestContext.request
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let rules = try body.rules.map { rule in
            let data = try JSONEncoder().encode(rule.parameters.additionalProperties)
            guard case .object(let parameters) = try JSONDecoder().decode(JSONValue.self, from: data) else {
                throw AppError.validation([.init(field: "/rules", code: "invalid_value", message: "Parameters must be an object.")])
            }
            return BufdirRuleChange.Rule(
                key: rule.key.rawValue, parameters: parameters, validFrom: rule.validFrom, source: rule.source)
        }
        let (set, job) = try await BufdirRuleChange.replaceAndRejudge(
            rules, year: Int(input.path.year), access: request.access, deps: request.dependencies, on: request.db)
        return .ok(.init(body: .json(try BufdirRulesView.make(set, rejudgeJobID: job.id))))
    }
}

enum BufdirRulesView {
    static func make(_ set: BufdirRuleSet, rejudgeJobID: UUID?) throws -> Components.Schemas.BufdirRuleSet {
        let rules = try set.rules.compactMap { row -> Components.Schemas.BufdirRule? in
            guard let key = Components.Schemas.BufdirRule.KeyPayload(rawValue: row.ruleKey) else { return nil }
            let parameters = try JSONDecoder().decode(OpenAPIObjectContainer.self, from: Data(row.parameters.utf8))
            return .init(
                key: key, parameters: .init(additionalProperties: parameters), validFrom: row.validFrom, source: row.source)
        }
        return .init(
            reportingYear: Int32(set.year), rules: rules, frozen: set.frozen,
            rejudgeJobId: rejudgeJobID?.uuidString.lowercased())
    }
}

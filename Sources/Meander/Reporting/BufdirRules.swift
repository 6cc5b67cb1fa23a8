import Fluent
import FluentSQL
import Foundation
import NIOConcurrencyHelpers
import PostgresNIO

/// Bufdir's counting rules of one reporting year, as stored in `bufdir_counting_rules`.
struct BufdirRules: Sendable, Equatable {
    let year: Int
    /// The parameters of each rule, by `rule_key`.
    let parameters: [String: [String: JSONValue]]

    /// The rules of `year`, or `nil` when none are stored for it.
    /// Read as plain columns: activity logging asks for them on every write.
    static func load(year: Int, on db: any Database) async throws -> BufdirRules? {
        let rows = try await CountingRulesStatement(year: year).rows(on: db)
        guard !rows.isEmpty else { return nil }
        var parameters: [String: [String: JSONValue]] = [:]
        for row in rows {
            parameters[row.ruleKey] = decodedParameters(row.parameters)
        }
        return BufdirRules(year: year, parameters: parameters)
    }

    /// A rule's parameters from their stored JSON text. Decoding is memoised by the text itself, so a changed rule
    /// is never served stale: the rows are read every time, only the parsing of text seen before is skipped.
    private static func decodedParameters(_ text: String) -> [String: JSONValue] {
        if let known = parsed.withLockedValue({ $0[text] }) { return known }
        let decoded = JSONText.decode([String: JSONValue].self, from: text) ?? [:]
        parsed.withLockedValue { memo in
            if memo.count >= 512 { memo.removeAll() }
            memo[text] = decoded
        }
        return decoded
    }

    private static let parsed = NIOLockedValueBox<[String: [String: JSONValue]]>([:])

    func integer(_ rule: String, _ name: String) -> Int? {
        parameters[rule]?[name]?.numericValue.map { Int($0) }
    }

    func strings(_ rule: String, _ name: String) -> [String]? {
        guard case .array(let values)? = parameters[rule]?[name] else { return nil }
        return values.compactMap { value in
            if case .string(let text) = value { text } else { nil }
        }
    }
}

/// Bufdir's rules by year, loaded once per request (a batch spans few years).
actor BufdirRulesCache {
    private var byYear: [Int: BufdirRules?] = [:]

    func rules(for year: Int, on db: any Database) async throws -> BufdirRules? {
        if let cached = byYear[year] { return cached }
        let loaded = try await BufdirRules.load(year: year, on: db)
        byYear[year] = loaded
        return loaded
    }
}

/// A reporting year's counting rules, as stored (`BufdirRules.load`).
struct CountingRulesStatement: SharedStatement {
    static let name = "meander.counting_rules"

    struct Row: Sendable {
        var ruleKey: String
        var parameters: String
    }

    static let sql = "SELECT rule_key, parameters FROM bufdir_counting_rules WHERE reporting_year = $1"

    let year: Int

    var values: [StatementValue] { [.integer(year)] }

    static func decode(_ row: any SQLRow) throws -> Row {
        Row(
            ruleKey: try row.decode(column: "rule_key", as: String.self),
            parameters: try row.decode(column: "parameters", as: String.self))
    }
}

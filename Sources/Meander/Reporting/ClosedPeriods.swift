import Fluent
import FluentSQL
import Foundation
import PostgresNIO

/// Bufdir periods that are closed: a finalised or submitted report freezes the activities it covers.
enum ClosedPeriods {
    /// Whether an activity of `organization` (lineage nearest first) on `date` lies in a finalised report's period.
    /// One prepared statement: every write to an activity asks it.
    static func contains(_ date: Date, lineage: [Organization], on db: any Database) async throws -> Bool {
        let ids = try lineageIDs(lineage)
        guard !ids.isEmpty else { return false }
        return try await ClosedPeriodStatement(organizationIDs: ids, day: Self.day(of: date)).first(on: db) != nil
    }

    /// The lineage's ids, as the closed-period statements take them.
    static func lineageIDs(_ lineage: [Organization]) throws -> [UUID] {
        let ids = lineage.compactMap(\.id)
        // `OrganizationTree.lineage` stops at 16 levels.
        guard ids.count <= ClosedPeriodStatement.maxLineage else {
            throw AppError(.internalError, "An organisation tree deeper than \(ClosedPeriodStatement.maxLineage) levels.")
        }
        return ids
    }

    /// The calendar day in Norway, `yyyy-MM-dd`.
    static func day(of date: Date) -> String { NorwegianCalendar.day(of: date) }
}

/// Whether a finalised or submitted Bufdir report of the lineage covers a day (`ClosedPeriods.contains`). The
/// lineage (at most `maxLineage` organisations) fills a fixed list of parameters, the rest NULL, so that the
/// statement keeps one shape.
struct ClosedPeriodStatement: SharedStatement {
    static let name = "meander.closed_period"

    typealias Row = Int

    static let maxLineage = 16

    static let sql = "SELECT 1 AS closed FROM bufdir_reports WHERE \(condition(firstParameter: 1)) LIMIT 1"

    /// The `bufdir_reports` condition, its lineage in `maxLineage` parameters from `firstParameter` on and the day
    /// in the one after them (`values(_:day:)` gives them).
    static func condition(firstParameter first: Int) -> String {
        let day = first + maxLineage
        return """
            organization_id IN (\((first..<day).map { "$\($0)" }.joined(separator: ", ")))
                AND status IN ('finalized', 'submitted') AND period_start <= $\(day) AND period_end >= $\(day)
            """
    }

    /// The values of `condition(firstParameter:)`: the lineage padded with NULL, then the day (`yyyy-MM-dd`).
    static func values(_ organizationIDs: [UUID], day: String) -> [StatementValue] {
        (0..<maxLineage).map { .uuid(organizationIDs.indices.contains($0) ? organizationIDs[$0] : nil) } + [.text(day)]
    }

    let organizationIDs: [UUID]
    let day: String

    var values: [StatementValue] { Self.values(organizationIDs, day: day) }

    static func decode(_ row: any SQLRow) throws -> Int {
        try row.decode(column: "closed", as: Int.self)
    }
}

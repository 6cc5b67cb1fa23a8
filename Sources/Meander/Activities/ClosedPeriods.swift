import Fluent
import Foundation

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

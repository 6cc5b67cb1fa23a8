import Fluent
import FluentSQL
import Foundation

/// Bufdir periods that are closed: a finalised or submitted report freezes the activities it covers.
enum ClosedPeriods {
    /// Whether an activity of `organization` (lineage nearest first) on `date` lies in a finalised report's period.
    /// One plain query: every write to an activity asks it.
    static func contains(_ date: Date, lineage: [Organization], on db: any Database) async throws -> Bool {
        let ids = lineage.compactMap(\.id)
        guard !ids.isEmpty else { return false }
        let day = Self.day(of: date)
        let closed: [BufdirReport.Status] = [.finalized, .submitted]
        let row = try await db.sqlDatabase().raw(
            """
            SELECT 1 AS closed FROM bufdir_reports
            WHERE organization_id IN (\(binds: ids)) AND status IN (\(binds: closed.map(\.rawValue)))
                AND period_start <= \(bind: day) AND period_end >= \(bind: day)
            LIMIT 1
            """
        ).first()
        return row != nil
    }

    /// The calendar day in Norway, `yyyy-MM-dd`.
    static func day(of date: Date) -> String { NorwegianCalendar.day(of: date) }
}

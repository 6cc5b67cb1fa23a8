import Fluent
import Foundation

/// Bufdir periods that are closed: a finalised or submitted report freezes the activities it covers.
enum ClosedPeriods {
    /// Whether an activity of `organization` (lineage nearest first) on `date` lies in a finalised report's period.
    static func contains(_ date: Date, lineage: [Organization], on db: any Database) async throws -> Bool {
        let day = Self.day(of: date)
        return try await BufdirReport.query(on: db)
            .filter(\.$organization.$id ~~ lineage.compactMap(\.id))
            .filter(\.$status ~~ [.finalized, .submitted])
            .filter(\.$periodStart <= day)
            .filter(\.$periodEnd >= day)
            .count() > 0
    }

    /// The calendar day in Norway, `yyyy-MM-dd`.
    static func day(of date: Date) -> String { NorwegianCalendar.day(of: date) }
}

import Fluent
import FluentSQL
import Foundation

extension Activities {
    /// Re-judges every activity of `year` (deleted ones too, which never count anyway) by `rules`, with the very code
    /// that judges them at logging time (`BufdirEligibility.evaluate`), in pages of 1,000, each in its own write
    /// transaction. A changed activity gets `updated_at = now`. Returns how many changed; `progress` gets
    /// (done, total).
    @discardableResult
    static func rejudge(
        year: Int, rules: BufdirRules?, at now: Date, on db: any Database,
        progress: @escaping @Sendable (Int, Int) async -> Void = { _, _ in }
    ) async throws -> Int {
        guard let period = BufdirPeriod.year(year) else { return 0 }
        let sql = try db.sqlDatabase()
        struct Count: Decodable { var n: Int }
        let total =
            try await sql.raw(
                "SELECT COUNT(*) AS n FROM activities WHERE occurred_at >= \(bind: period.from) AND occurred_at < \(bind: period.until)"
            ).first(decoding: Count.self)?.n ?? 0
        struct Row: Decodable {
            var id: UUID
            var category: String
            var reportable: Bool
            var channel: String?
            var participantCount: Int
            var durationMinutes: Int
            var countryCode: String
            var status: String
            var countsForBufdir: Bool
            var bufdirReason: String?
        }
        var after: UUID?
        var done = 0
        var changed = 0
        await progress(0, total)
        while true {
            let page = try await sql.raw(
                """
                SELECT a.id AS id, t.bufdir_category AS category, t.reportable AS reportable, a.channel AS channel,
                    a.participant_count AS participant_count, a.duration_minutes AS duration_minutes,
                    a.country_code AS country_code, a.status AS status, a.counts_for_bufdir AS counts_for_bufdir,
                    a.bufdir_reason AS bufdir_reason
                FROM activities a JOIN activity_types t ON t.id = a.activity_type_id
                WHERE a.occurred_at >= \(bind: period.from) AND a.occurred_at < \(bind: period.until)
                    \(after.map { id -> SQLQueryString in "AND a.id > \(bind: id)" } ?? "")
                ORDER BY a.id LIMIT 1000
                """
            ).all(decoding: Row.self, keyDecodingStrategy: .convertFromSnakeCase)
            guard let last = page.last else { break }
            changed += try await db.writeTransaction { transaction -> Int in
                let sql = try transaction.sqlDatabase()
                var changed = 0
                for row in page {
                    let verdict = BufdirEligibility.evaluate(
                        .init(
                            category: ActivityType.BufdirCategory(rawValue: row.category) ?? .other, reportable: row.reportable,
                            channel: row.channel.flatMap(Activity.Channel.init(rawValue:)), participants: row.participantCount,
                            minutes: row.durationMinutes, countryCode: row.countryCode,
                            status: Activity.Status(rawValue: row.status) ?? .registered),
                        rules: rules, year: year)
                    guard verdict.counts != row.countsForBufdir || verdict.reason != row.bufdirReason else { continue }
                    try await sql.raw(
                        """
                        UPDATE activities SET counts_for_bufdir = \(bind: verdict.counts),
                            bufdir_reason = \(bind: verdict.reason), updated_at = \(bind: now)
                        WHERE id = \(bind: row.id)
                        """
                    ).run()
                    changed += 1
                }
                return changed
            }
            done += page.count
            after = last.id
            await progress(done, total)
        }
        return changed
    }
}

import FluentSQL
import Foundation

/// Inserts Bufdir's counting rules for peer work, per reporting year, as data (`BufdirCountingRule`).
///
/// The rules are those the organisations' own guides describe: a one-to-one contact counts where the mentor and
/// the person meet (a visit, a call or a video call; a written message does not); a group activity counts with at
/// least 3 participants and 45 minutes; a mentor training course with at least 2 × 45 minutes; only activities held
/// in Norway count; activity is scored per day; cells under 5 people are suppressed. A later year with other rules is
/// a new set of rows, not a code change. Written with SQLKit so that it keeps working as the model grows.
struct SeedBufdirCountingRules: AsyncMigration {
    static let years = 2024...2027

    static let rules: [(key: String, parameters: String)] = [
        ("countries", #"{"allowed":["NO"]}"#),
        ("one_to_one", #"{"channels":["in_person","phone","video"]}"#),
        ("group_activity", #"{"min_participants":3,"min_minutes":45}"#),
        ("mentor_training", #"{"min_minutes":90}"#),
        ("scoring", #"{"per":"day"}"#),
        ("small_cell_suppression", #"{"min_people":5}"#),
    ]

    static let source = "Bufdir, tilskudd til likepersonsarbeid: organisasjonenes veiledere for rapportering"

    func prepare(on database: any Database) async throws {
        let sql = try database.sqlDatabase()
        let now = Date()
        for year in Self.years {
            for rule in Self.rules {
                try await sql.insert(into: BufdirCountingRule.schema)
                    .columns("id", "created_at", "updated_at", "reporting_year", "rule_key", "parameters", "valid_from", "source")
                    .values(
                        SQLBind(UUID()), SQLBind(now), SQLBind(now), SQLBind(year), SQLBind(rule.key),
                        SQLBind(rule.parameters), SQLBind(String(format: "%04d-01-01", year)), SQLBind(Self.source)
                    )
                    .run()
            }
        }
    }

    func revert(on database: any Database) async throws {
        try await database.sqlDatabase().delete(from: BufdirCountingRule.schema)
            .where("reporting_year", .in, Array(Self.years))
            .where("rule_key", .in, Self.rules.map(\.key))
            .run()
    }
}

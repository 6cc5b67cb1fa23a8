import FluentSQL

/// Creates `bufdir_counting_rules`.
struct CreateBufdirCountingRule: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(BufdirCountingRule.schema)
            .id()
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .field("reporting_year", .int64, .required)
            .field("rule_key", .string, .required)
            .field("parameters", .string, .required, .sql(.default("{}")))
            .field("valid_from", .string, .required)
            .field("source", .string)
            .unique(on: "reporting_year", "rule_key")
            .check(
                named: "ck_bufdir_counting_rules_values",
                "reporting_year BETWEEN 2000 AND 2100 AND length(valid_from) = 10"
            )
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(BufdirCountingRule.schema).delete()
    }
}

import FluentSQL

/// Creates `badges`.
struct CreateBadge: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Badge.schema)
            .id()
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .field("key", .string, .required)
            .field("name_nb", .string, .required)
            .field("name_en", .string, .required)
            .field("description_nb", .string)
            .field("description_en", .string)
            .field("icon_key", .string)
            .field("rule_kind", .string, .required)
            .field("rule_threshold", .int64)
            .field("rule_parameters", .string, .required, .sql(.default("{}")))
            .field("is_active", .bool, .required)
            .field("sort_order", .int64, .required, .sql(.default(0)))
            .unique(on: "key")
            .check("rule_kind", in: Badge.RuleKind.self)
            .check(named: "ck_badges_threshold", "rule_threshold IS NULL OR rule_threshold > 0")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(Badge.schema).delete()
    }
}

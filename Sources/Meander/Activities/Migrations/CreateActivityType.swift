import FluentSQL

/// Creates `activity_types`.
struct CreateActivityType: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(ActivityType.schema)
            .id()
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .field("organization_id", .uuid, .references(Organization.schema, "id", onDelete: .cascade))
            .field("key", .string, .required)
            .field("name_nb", .string, .required)
            .field("name_en", .string, .required)
            .field("bufdir_category", .string, .required)
            .field("reportable", .bool, .required)
            .field("requires_evidence", .bool, .required)
            .field("default_duration_minutes", .int64, .required)
            .field("is_active", .bool, .required)
            .field("sort_order", .int64, .required, .sql(.default(0)))
            .unique(on: "organization_id", "key")
            .check("bufdir_category", in: ActivityType.BufdirCategory.self)
            .check(named: "ck_activity_types_duration", "default_duration_minutes > 0")
            .create()
        try await database.createIndexes(Self.indexes)
    }

    func revert(on database: any Database) async throws {
        try await database.dropIndexes(Self.indexes)
        try await database.schema(ActivityType.schema).delete()
    }

    static let indexes = [
        SchemaIndex(
            "uq_activity_types_global_key", on: ActivityType.schema, ["key"],
            unique: true, where: "organization_id IS NULL"
        )
    ]
}

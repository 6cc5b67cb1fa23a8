import FluentSQL

/// Creates `events`.
struct CreateEvent: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Event.schema)
            .id()
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .field("deleted_at", .datetime)
            .field("organization_id", .uuid, .required, .references(Organization.schema, "id", onDelete: .restrict))
            .field("created_by_id", .uuid, .required, .references(User.schema, "id", onDelete: .restrict))
            .field("activity_type_id", .uuid, .references(ActivityType.schema, "id", onDelete: .setNull))
            .field("title", .string, .required)
            .field("details", .string)
            .field("starts_at", .datetime, .required)
            .field("ends_at", .datetime, .required)
            .field("place", .string)
            .field("is_online", .bool, .required)
            .field("capacity", .int64)
            .field("registration_deadline", .datetime)
            .field("visibility", .string, .required)
            .field("status", .string, .required)
            .field("counts_for_bufdir", .bool, .required)
            .check("visibility", in: Event.Visibility.self)
            .check("status", in: Event.Status.self)
            .check(named: "ck_events_period", "ends_at >= starts_at")
            .check(named: "ck_events_capacity", "capacity IS NULL OR capacity > 0")
            .create()
        try await database.createIndexes(Self.indexes)
    }

    func revert(on database: any Database) async throws {
        try await database.dropIndexes(Self.indexes)
        try await database.schema(Event.schema).delete()
    }

    static let indexes = [
        SchemaIndex("idx_events_organization_id_starts_at", on: Event.schema, ["organization_id", "starts_at"])
    ]
}

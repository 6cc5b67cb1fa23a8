import FluentSQL

/// Creates `event_registrations`.
struct CreateEventRegistration: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(EventRegistration.schema)
            .id()
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .field("organization_id", .uuid, .required, .references(Organization.schema, "id", onDelete: .restrict))
            .field("event_id", .uuid, .required, .references(Event.schema, "id", onDelete: .cascade))
            .field("user_id", .uuid, .required, .references(User.schema, "id", onDelete: .cascade))
            .field("registered_by_id", .uuid, .references(User.schema, "id", onDelete: .setNull))
            .field("status", .string, .required)
            .field("waitlist_position", .int64)
            .field("checked_in_at", .datetime)
            .field("cancelled_at", .datetime)
            .unique(on: "event_id", "user_id")
            .check("status", in: EventRegistration.Status.self)
            .check(named: "ck_event_registrations_waitlist", "waitlist_position IS NULL OR waitlist_position > 0")
            .create()
        try await database.createIndexes(Self.indexes)
    }

    func revert(on database: any Database) async throws {
        try await database.dropIndexes(Self.indexes)
        try await database.schema(EventRegistration.schema).delete()
    }

    static let indexes = [
        SchemaIndex("idx_event_registrations_event_id_status", on: EventRegistration.schema, ["event_id", "status"]),
        SchemaIndex("idx_event_registrations_user_id", on: EventRegistration.schema, ["user_id"]),
    ]
}

import FluentSQL

/// Creates `activities`.
struct CreateActivity: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Activity.schema)
            .id()
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .field("deleted_at", .datetime)
            .field("organization_id", .uuid, .required, .references(Organization.schema, "id", onDelete: .restrict))
            .field("mentor_id", .uuid, .required, .references(User.schema, "id", onDelete: .restrict))
            .field("registered_by_id", .uuid, .required, .references(User.schema, "id", onDelete: .restrict))
            .field("contact_id", .uuid, .references(Contact.schema, "id", onDelete: .restrict))
            .field("activity_type_id", .uuid, .required, .references(ActivityType.schema, "id", onDelete: .restrict))
            .field("event_id", .uuid, .references(Event.schema, "id", onDelete: .setNull))
            .field("approved_by_id", .uuid, .references(User.schema, "id", onDelete: .setNull))
            .field("client_id", .uuid, .required)
            .field("occurred_at", .datetime, .required)
            .field("duration_minutes", .int64, .required)
            .field("participant_count", .int64, .required, .sql(.default(1)))
            .field("place", .string)
            .field("channel", .string)
            .field("country_code", .string, .required, .sql(.default("NO")))
            .field("municipality_code", .string)
            .field("summary_ciphertext", .data)
            .field("key_version", .int64)
            .field("status", .string, .required)
            .field("rejection_reason", .string)
            .field("approved_at", .datetime)
            .field("counts_for_bufdir", .bool, .required, .sql(.default(false)))
            .field("bufdir_reason", .string)
            .unique(on: "organization_id", "client_id")
            .check("status", in: Activity.Status.self)
            .check("channel", in: Activity.Channel.self)
            .check(named: "ck_activities_duration", "duration_minutes > 0 AND duration_minutes <= 1440")
            .check(named: "ck_activities_participants", "participant_count >= 1")
            .check(
                named: "ck_activities_codes",
                "length(country_code) = 2 AND (municipality_code IS NULL OR length(municipality_code) = 4)"
            )
            .create()
        try await database.createIndexes(Self.indexes)
    }

    func revert(on database: any Database) async throws {
        try await database.dropIndexes(Self.indexes)
        try await database.schema(Activity.schema).delete()
    }

    static let indexes = [
        SchemaIndex(
            "idx_activities_organization_id_occurred_at", on: Activity.schema, ["organization_id", "occurred_at"]
        ),
        SchemaIndex("idx_activities_mentor_id_occurred_at", on: Activity.schema, ["mentor_id", "occurred_at"]),
        SchemaIndex("idx_activities_contact_id", on: Activity.schema, ["contact_id"]),
    ]
}

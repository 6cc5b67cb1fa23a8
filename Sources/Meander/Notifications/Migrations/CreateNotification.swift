import FluentSQL

/// Creates `notifications`.
struct CreateNotification: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Notification.schema)
            .id()
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .field("user_id", .uuid, .required, .references(User.schema, "id", onDelete: .cascade))
            .field("organization_id", .uuid, .references(Organization.schema, "id", onDelete: .setNull))
            .field("channel", .string, .required)
            .field("scenario", .string, .required)
            .field("title", .string, .required)
            .field("body", .string, .required)
            .field("data", .string, .required, .sql(.default("{}")))
            .field("is_urgent", .bool, .required, .sql(.default(false)))
            .field("status", .string, .required)
            .field("scheduled_for", .datetime)
            .field("attempts", .int64, .required, .sql(.default(0)))
            .field("last_error", .string)
            .field("sent_at", .datetime)
            .field("delivered_at", .datetime)
            .field("read_at", .datetime)
            .check("channel", in: Notification.Channel.self)
            .check("scenario", in: Notification.Scenario.self)
            .check("status", in: Notification.Status.self)
            .check(named: "ck_notifications_attempts", "attempts >= 0")
            .create()
        try await database.createIndexes(Self.indexes)
    }

    func revert(on database: any Database) async throws {
        try await database.dropIndexes(Self.indexes)
        try await database.schema(Notification.schema).delete()
    }

    static let indexes = [
        SchemaIndex("idx_notifications_user_id_status", on: Notification.schema, ["user_id", "status"]),
        SchemaIndex("idx_notifications_user_id_created_at", on: Notification.schema, ["user_id", "created_at"]),
        SchemaIndex("idx_notifications_status_scheduled_for", on: Notification.schema, ["status", "scheduled_for"]),
    ]
}

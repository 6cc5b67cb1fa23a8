import FluentSQL

/// Creates `notification_preferences`.
struct CreateNotificationPreference: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(NotificationPreference.schema)
            .id()
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .field("user_id", .uuid, .required, .references(User.schema, "id", onDelete: .cascade))
            .field("push_enabled", .bool, .required)
            .field("email_enabled", .bool, .required)
            .field("sms_enabled", .bool, .required)
            .field("in_app_enabled", .bool, .required)
            .field("quiet_hours_start", .string)
            .field("quiet_hours_end", .string)
            .field("scenario_overrides", .string, .required, .sql(.default("{}")))
            .unique(on: "user_id")
            .check(
                named: "ck_notification_preferences_quiet_hours",
                "(quiet_hours_start IS NULL AND quiet_hours_end IS NULL)"
                    + " OR (quiet_hours_start IS NOT NULL AND quiet_hours_end IS NOT NULL"
                    + " AND length(quiet_hours_start) = 5 AND length(quiet_hours_end) = 5)"
            )
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(NotificationPreference.schema).delete()
    }
}

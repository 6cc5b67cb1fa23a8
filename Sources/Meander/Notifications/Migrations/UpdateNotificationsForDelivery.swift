import FluentSQL

/// Readies notifications for delivery through the job queue: why a message was suppressed, its deduplication key and
/// the language it was written in; quiet hours by weekday; the scenarios of the later capabilities; and the table of
/// users' push devices.
struct UpdateNotificationsForDelivery: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Notification.schema).field("suppressed_reason", .string).update()
        try await database.schema(Notification.schema).field("dedupe_key", .string).update()
        try await database.schema(Notification.schema).field("locale", .string).update()
        try await database.replaceCheck(
            on: Notification.schema, named: "ck_notifications_scenario",
            Self.inList("scenario", Notification.Scenario.allCases.map(\.rawValue)))
        try await database.schema(NotificationPreference.schema).field("quiet_hours_weekdays", .string).update()
        try await database.schema(NotificationDevice.schema)
            .id()
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .field("user_id", .uuid, .required, .references(User.schema, "id", onDelete: .cascade))
            .field("platform", .string, .required)
            .field("token", .string, .required)
            .field("label", .string)
            .field("last_used_at", .datetime)
            .field("disabled_at", .datetime)
            .field("disabled_reason", .string)
            .unique(on: "platform", "token")
            .check("platform", in: NotificationDevice.Platform.self)
            .check(named: "ck_notification_devices_token", "length(token) BETWEEN 8 AND 4096")
            .create()
        try await database.createIndexes(Self.indexes)
    }

    func revert(on database: any Database) async throws {
        try await database.dropIndexes(Self.indexes)
        try await database.schema(NotificationDevice.schema).delete()
        try await database.schema(NotificationPreference.schema).deleteField("quiet_hours_weekdays").update()
        for column in ["locale", "dedupe_key", "suppressed_reason"] {
            try await database.schema(Notification.schema).deleteField(.string(column)).update()
        }
    }

    static func inList(_ column: String, _ values: [String]) -> String {
        "\"\(column)\" IN (" + values.map { "'\($0)'" }.joined(separator: ", ") + ")"
    }

    static let indexes = [
        SchemaIndex("idx_notification_devices_user_id", on: NotificationDevice.schema, ["user_id"]),
        SchemaIndex(
            "uq_notifications_user_id_channel_dedupe_key", on: Notification.schema, ["user_id", "channel", "dedupe_key"],
            unique: true, where: "dedupe_key IS NOT NULL AND status <> 'suppressed'"),
    ]
}

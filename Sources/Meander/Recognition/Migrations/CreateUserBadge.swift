import FluentSQL

/// Creates `user_badges`.
struct CreateUserBadge: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(UserBadge.schema)
            .id()
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .field("user_id", .uuid, .required, .references(User.schema, "id", onDelete: .cascade))
            .field("badge_id", .uuid, .required, .references(Badge.schema, "id", onDelete: .restrict))
            .field("organization_id", .uuid, .references(Organization.schema, "id", onDelete: .setNull))
            .field("awarded_by_id", .uuid, .references(User.schema, "id", onDelete: .setNull))
            .field("awarded_at", .datetime, .required)
            .field("award_method", .string, .required)
            .field("reason", .string)
            .field("notified_at", .datetime)
            .field("seen_at", .datetime)
            .unique(on: "user_id", "badge_id")
            .check("award_method", in: UserBadge.AwardMethod.self)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(UserBadge.schema).delete()
    }
}

import FluentSQL

/// Creates `users`.
struct CreateUser: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(User.schema)
            .id()
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .field("email", .string, .required)
            .field("phone", .string)
            .field("password_hash", .string)
            .field("password_changed_at", .datetime)
            .field("first_name", .string, .required)
            .field("last_name", .string, .required)
            .field("locale", .string, .required, .sql(.default(User.Language.nb.rawValue)))
            .field("time_zone", .string, .required, .sql(.default(User.defaultTimeZone)))
            .field("status", .string, .required)
            .field("email_verified_at", .datetime)
            .field("failed_login_count", .int64, .required, .sql(.default(0)))
            .field("locked_until", .datetime)
            .field("last_login_at", .datetime)
            .field("external_identities", .string, .required, .sql(.default("[]")))
            .unique(on: "email")
            .check("locale", in: User.Language.self)
            .check("status", in: User.Status.self)
            .check(named: "ck_users_email", "email = lower(email) AND length(email) >= 3")
            .check(named: "ck_users_failed_login_count", "failed_login_count >= 0")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(User.schema).delete()
    }
}

import FluentSQL

/// Creates `login_throttles`: per-account and per-IP failure counters and back-off, shared by all app instances.
struct CreateLoginThrottle: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(LoginThrottle.schema)
            .id()
            .field("updated_at", .datetime)
            .field("key", .string, .required)
            .field("consecutive_failures", .int64, .required, .sql(.default(0)))
            .field("last_failure_at", .datetime)
            .field("blocked_until", .datetime)
            .unique(on: "key")
            .check(named: "ck_login_throttles_consecutive_failures", "consecutive_failures >= 0")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(LoginThrottle.schema).delete()
    }
}

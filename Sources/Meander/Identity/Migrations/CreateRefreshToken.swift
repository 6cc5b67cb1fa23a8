import FluentSQL

/// Creates `refresh_tokens`.
struct CreateRefreshToken: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(RefreshToken.schema)
            .id()
            .field("session_id", .uuid, .required, .references(Session.schema, "id", onDelete: .cascade))
            .field("parent_id", .uuid, .references(RefreshToken.schema, "id", onDelete: .setNull))
            .field("replaced_by_id", .uuid, .references(RefreshToken.schema, "id", onDelete: .setNull))
            .field("token_hash", .string, .required)
            .field("issued_at", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .field("used_at", .datetime)
            .field("revoked_at", .datetime)
            .unique(on: "token_hash")
            // A token is spent once: at most one child, whatever the races.
            .unique(on: "parent_id")
            .create()
        try await database.createIndexes(Self.indexes)
    }

    func revert(on database: any Database) async throws {
        try await database.dropIndexes(Self.indexes)
        try await database.schema(RefreshToken.schema).delete()
    }

    static let indexes = [
        SchemaIndex("idx_refresh_tokens_session_id", on: RefreshToken.schema, ["session_id"]),
        SchemaIndex("idx_refresh_tokens_parent_id", on: RefreshToken.schema, ["parent_id"]),
    ]
}

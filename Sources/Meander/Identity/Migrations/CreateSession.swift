import FluentSQL

/// Creates `sessions`.
struct CreateSession: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Session.schema)
            .id()
            .field("created_at", .datetime)
            .field("user_id", .uuid, .required, .references(User.schema, "id", onDelete: .cascade))
            .field("organization_id", .uuid, .references(Organization.schema, "id", onDelete: .setNull))
            .field("user_agent", .string)
            .field("ip", .string)
            .field("auth_method", .string, .required)
            .field("last_seen_at", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .field("revoked_at", .datetime)
            .field("revoked_reason", .string)
            .check("auth_method", in: Session.AuthMethod.self)
            .check("revoked_reason", in: Session.RevocationReason.self)
            .create()
        try await database.createIndexes(Self.indexes)
    }

    func revert(on database: any Database) async throws {
        try await database.dropIndexes(Self.indexes)
        try await database.schema(Session.schema).delete()
    }

    static let indexes = [SchemaIndex("idx_sessions_user_id", on: Session.schema, ["user_id"])]
}

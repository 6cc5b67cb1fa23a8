import FluentSQL

/// Creates `action_tokens` (invitation and password-reset links).
struct CreateActionToken: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(ActionToken.schema)
            .id()
            .field("created_at", .datetime)
            .field("user_id", .uuid, .required, .references(User.schema, "id", onDelete: .cascade))
            .field("organization_id", .uuid, .references(Organization.schema, "id", onDelete: .cascade))
            .field("membership_id", .uuid, .references(OrganizationMembership.schema, "id", onDelete: .cascade))
            .field("created_by_id", .uuid, .references(User.schema, "id", onDelete: .setNull))
            .field("kind", .string, .required)
            .field("token_hash", .string, .required)
            .field("payload", .string, .required, .sql(.default("{}")))
            .field("expires_at", .datetime, .required)
            .field("used_at", .datetime)
            .unique(on: "token_hash")
            .check("kind", in: ActionToken.Kind.self)
            .create()
        try await database.createIndexes(Self.indexes)
    }

    func revert(on database: any Database) async throws {
        try await database.dropIndexes(Self.indexes)
        try await database.schema(ActionToken.schema).delete()
    }

    static let indexes = [
        SchemaIndex("idx_action_tokens_user_id_kind", on: ActionToken.schema, ["user_id", "kind"])
    ]
}

import FluentSQL

/// Creates `organization_memberships`.
struct CreateOrganizationMembership: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(OrganizationMembership.schema)
            .id()
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .field("organization_id", .uuid, .required, .references(Organization.schema, "id", onDelete: .cascade))
            .field("user_id", .uuid, .required, .references(User.schema, "id", onDelete: .cascade))
            .field("invited_by_id", .uuid, .references(User.schema, "id", onDelete: .setNull))
            .field("status", .string, .required)
            .field("joined_at", .datetime)
            .field("paused_reason_ciphertext", .data)
            .field("key_version", .int64)
            .field("paused_at", .datetime)
            .field("paused_until", .datetime)
            .field("ended_at", .datetime)
            .unique(on: "organization_id", "user_id")
            .check("status", in: OrganizationMembership.Status.self)
            .create()
        try await database.createIndexes(Self.indexes)
    }

    func revert(on database: any Database) async throws {
        try await database.dropIndexes(Self.indexes)
        try await database.schema(OrganizationMembership.schema).delete()
    }

    static let indexes = [
        SchemaIndex("idx_organization_memberships_user_id", on: OrganizationMembership.schema, ["user_id"])
    ]
}

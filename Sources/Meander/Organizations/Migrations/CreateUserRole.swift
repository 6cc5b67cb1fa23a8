import FluentSQL

/// Creates `user_roles`.
struct CreateUserRole: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(UserRole.schema)
            .id()
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .field("user_id", .uuid, .required, .references(User.schema, "id", onDelete: .cascade))
            .field("organization_id", .uuid, .references(Organization.schema, "id", onDelete: .cascade))
            .field("granted_by_id", .uuid, .references(User.schema, "id", onDelete: .setNull))
            .field("revoked_by_id", .uuid, .references(User.schema, "id", onDelete: .setNull))
            .field("role", .string, .required)
            .field("granted_at", .datetime, .required)
            .field("revoked_at", .datetime)
            .check("role", in: UserRole.Role.self)
            .check(
                named: "ck_user_roles_scope",
                "(role = 'platform_admin' AND organization_id IS NULL)"
                    + " OR (role <> 'platform_admin' AND organization_id IS NOT NULL)"
            )
            .create()
        try await database.createIndexes(Self.indexes)
    }

    func revert(on database: any Database) async throws {
        try await database.dropIndexes(Self.indexes)
        try await database.schema(UserRole.schema).delete()
    }

    static let indexes = [
        SchemaIndex("idx_user_roles_user_id_organization_id", on: UserRole.schema, ["user_id", "organization_id"]),
        SchemaIndex("idx_user_roles_organization_id", on: UserRole.schema, ["organization_id"]),
        SchemaIndex(
            "uq_user_roles_live_grant", on: UserRole.schema, ["user_id", "organization_id", "role"],
            unique: true, where: "revoked_at IS NULL"
        ),
        SchemaIndex(
            "uq_user_roles_live_platform_grant", on: UserRole.schema, ["user_id", "role"],
            unique: true, where: "organization_id IS NULL AND revoked_at IS NULL"
        ),
    ]
}

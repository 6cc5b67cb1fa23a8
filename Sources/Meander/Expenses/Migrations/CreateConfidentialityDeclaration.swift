import FluentSQL

/// Creates `confidentiality_declarations`.
struct CreateConfidentialityDeclaration: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(ConfidentialityDeclaration.schema)
            .id()
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .field("organization_id", .uuid, .required, .references(Organization.schema, "id", onDelete: .restrict))
            .field("user_id", .uuid, .required, .references(User.schema, "id", onDelete: .restrict))
            .field("capacity", .string, .required)
            .field("text_version", .string, .required)
            .field("signed_at", .datetime, .required)
            .field("method", .string, .required)
            .field("valid_until", .datetime)
            .field("revoked_at", .datetime)
            .check("capacity", in: ConfidentialityDeclaration.Capacity.self)
            .check("method", in: ConfidentialityDeclaration.SigningMethod.self)
            .create()
        try await database.createIndexes(Self.indexes)
    }

    func revert(on database: any Database) async throws {
        try await database.dropIndexes(Self.indexes)
        try await database.schema(ConfidentialityDeclaration.schema).delete()
    }

    static let indexes = [
        SchemaIndex(
            "idx_confidentiality_declarations_user_id_organization_id", on: ConfidentialityDeclaration.schema,
            ["user_id", "organization_id"]
        )
    ]
}

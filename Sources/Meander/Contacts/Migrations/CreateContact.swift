import FluentSQL

/// Creates `contacts`.
struct CreateContact: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Contact.schema)
            .id()
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .field("deleted_at", .datetime)
            .field("organization_id", .uuid, .required, .references(Organization.schema, "id", onDelete: .restrict))
            .field("created_by_id", .uuid, .references(User.schema, "id", onDelete: .setNull))
            .field("first_name", .string)
            .field("last_name", .string)
            .field("birth_year", .int64)
            .field("phone", .string)
            .field("address", .string)
            .field("postal_code", .string)
            .field("postal_place", .string)
            .field("municipality_code", .string)
            .field("county_code", .string)
            .field("status", .string, .required)
            .field("consent_given_at", .datetime)
            .field("consent_scope", .string)
            .field("consent_withdrawn_at", .datetime)
            .field("needs_ciphertext", .data)
            .field("notes_ciphertext", .data)
            .field("key_version", .int64)
            .field("erased_at", .datetime)
            .check("status", in: Contact.Status.self)
            .check(named: "ck_contacts_birth_year", "birth_year IS NULL OR birth_year BETWEEN 1900 AND 2100")
            .check(
                named: "ck_contacts_codes",
                "(municipality_code IS NULL OR length(municipality_code) = 4)"
                    + " AND (county_code IS NULL OR length(county_code) = 2)"
            )
            .create()
        try await database.createIndexes(Self.indexes)
    }

    func revert(on database: any Database) async throws {
        try await database.dropIndexes(Self.indexes)
        try await database.schema(Contact.schema).delete()
    }

    static let indexes = [
        SchemaIndex("idx_contacts_organization_id_status", on: Contact.schema, ["organization_id", "status"])
    ]
}

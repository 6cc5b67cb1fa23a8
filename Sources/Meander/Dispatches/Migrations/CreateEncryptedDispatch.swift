import FluentSQL

/// Creates `encrypted_dispatches`.
struct CreateEncryptedDispatch: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(EncryptedDispatch.schema)
            .id()
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .field("organization_id", .uuid, .required, .references(Organization.schema, "id", onDelete: .restrict))
            .field("sender_id", .uuid, .required, .references(User.schema, "id", onDelete: .restrict))
            .field("recipient_id", .uuid, .required, .references(User.schema, "id", onDelete: .restrict))
            .field("contact_id", .uuid, .references(Contact.schema, "id", onDelete: .setNull))
            .field("revoked_by_id", .uuid, .references(User.schema, "id", onDelete: .setNull))
            .field("payload_ciphertext", .data)
            .field("key_version", .int64)
            .field("status", .string, .required)
            .field("read_at", .datetime)
            .field("expires_at", .datetime, .required)
            .field("revoked_at", .datetime)
            .field("destroyed_at", .datetime)
            .check("status", in: EncryptedDispatch.Status.self)
            .create()
        try await database.createIndexes(Self.indexes)
    }

    func revert(on database: any Database) async throws {
        try await database.dropIndexes(Self.indexes)
        try await database.schema(EncryptedDispatch.schema).delete()
    }

    static let indexes = [
        SchemaIndex(
            "idx_encrypted_dispatches_recipient_id_status", on: EncryptedDispatch.schema, ["recipient_id", "status"]
        ),
        SchemaIndex("idx_encrypted_dispatches_expires_at", on: EncryptedDispatch.schema, ["expires_at"]),
    ]
}

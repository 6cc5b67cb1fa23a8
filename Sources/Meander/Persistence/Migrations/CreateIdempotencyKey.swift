import FluentSQL

/// Creates `idempotency_keys`.
struct CreateIdempotencyKey: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(IdempotencyKey.schema)
            .id()
            .field("created_at", .datetime)
            .field("user_id", .uuid, .required, .references(User.schema, "id", onDelete: .cascade))
            .field("key", .string, .required)
            .field("request_hash", .string, .required)
            .field("response_status", .int64)
            .field("response_body", .data)
            .field("response_headers", .string)
            .field("expires_at", .datetime, .required)
            .unique(on: "user_id", "key")
            .create()
        try await database.createIndexes(Self.indexes)
    }

    func revert(on database: any Database) async throws {
        try await database.dropIndexes(Self.indexes)
        try await database.schema(IdempotencyKey.schema).delete()
    }

    static let indexes = [SchemaIndex("idx_idempotency_keys_expires_at", on: IdempotencyKey.schema, ["expires_at"])]
}

import FluentSQL

/// Creates `receipts`.
struct CreateReceipt: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Receipt.schema)
            .id()
            .field("created_at", .datetime)
            .field("organization_id", .uuid, .required, .references(Organization.schema, "id", onDelete: .restrict))
            .field("expense_item_id", .uuid, .required, .references(ExpenseItem.schema, "id", onDelete: .cascade))
            .field("uploaded_by_id", .uuid, .required, .references(User.schema, "id", onDelete: .restrict))
            .field("duplicate_of_id", .uuid, .references(Receipt.schema, "id", onDelete: .setNull))
            .field("storage_key", .string, .required)
            .field("media_type", .string, .required)
            .field("size_bytes", .int64, .required)
            .field("sha256", .string, .required)
            .field("captured_at", .datetime)
            .field("was_compressed", .bool, .required, .sql(.default(false)))
            .unique(on: "storage_key")
            .check(named: "ck_receipts_size", "size_bytes >= 0")
            .check(named: "ck_receipts_sha256", "length(sha256) = 64")
            .create()
        try await database.createIndexes(Self.indexes)
    }

    func revert(on database: any Database) async throws {
        try await database.dropIndexes(Self.indexes)
        try await database.schema(Receipt.schema).delete()
    }

    static let indexes = [
        SchemaIndex("idx_receipts_organization_id_sha256", on: Receipt.schema, ["organization_id", "sha256"]),
        SchemaIndex("idx_receipts_expense_item_id", on: Receipt.schema, ["expense_item_id"]),
    ]
}

import FluentSQL

/// Creates `activity_attachments`.
struct CreateActivityAttachment: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(ActivityAttachment.schema)
            .id()
            .field("created_at", .datetime)
            .field("deleted_at", .datetime)
            .field("organization_id", .uuid, .required, .references(Organization.schema, "id", onDelete: .restrict))
            .field("activity_id", .uuid, .required, .references(Activity.schema, "id", onDelete: .cascade))
            .field("uploaded_by_id", .uuid, .required, .references(User.schema, "id", onDelete: .restrict))
            .field("file_name", .string, .required)
            .field("media_type", .string, .required)
            .field("size_bytes", .int64, .required)
            .field("sha256", .string, .required)
            .field("storage_key", .string, .required)
            .field("kind", .string, .required)
            .unique(on: "storage_key")
            .check("kind", in: ActivityAttachment.Kind.self)
            .check(named: "ck_activity_attachments_size", "size_bytes >= 0")
            .check(named: "ck_activity_attachments_sha256", "length(sha256) = 64")
            .create()
        try await database.createIndexes(Self.indexes)
    }

    func revert(on database: any Database) async throws {
        try await database.dropIndexes(Self.indexes)
        try await database.schema(ActivityAttachment.schema).delete()
    }

    static let indexes = [
        SchemaIndex("idx_activity_attachments_activity_id", on: ActivityAttachment.schema, ["activity_id"])
    ]
}

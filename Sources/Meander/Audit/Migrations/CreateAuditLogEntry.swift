import FluentSQL

/// Creates `audit_log_entries`; no foreign keys by design (see `AuditLogEntry`).
struct CreateAuditLogEntry: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(AuditLogEntry.schema)
            .id()
            .field("sequence", .int64, .required)
            .field("created_at", .datetime, .required)
            .field("actor_user_id", .uuid)
            .field("session_id", .uuid)
            .field("organization_id", .uuid)
            .field("target_id", .uuid)
            .field("action", .string, .required)
            .field("target_type", .string)
            .field("outcome", .string, .required)
            .field("client", .string, .required)
            .field("ip", .string)
            .field("user_agent", .string)
            .field("metadata", .string, .required, .sql(.default("{}")))
            .field("previous_hash", .string, .required)
            .field("hash", .string, .required)
            .unique(on: "sequence")
            .unique(on: "hash")
            .check("outcome", in: AuditLogEntry.Outcome.self)
            .check("client", in: AuditLogEntry.Client.self)
            .check(named: "ck_audit_log_entries_sequence", "sequence >= 1")
            .check(
                named: "ck_audit_log_entries_hashes",
                "length(hash) = 64 AND length(previous_hash) = 64"
            )
            .create()
        try await database.createIndexes(Self.indexes)
    }

    func revert(on database: any Database) async throws {
        try await database.dropIndexes(Self.indexes)
        try await database.schema(AuditLogEntry.schema).delete()
    }

    static let indexes = [
        SchemaIndex(
            "idx_audit_log_entries_organization_id_created_at", on: AuditLogEntry.schema,
            ["organization_id", "created_at"]
        ),
        SchemaIndex("idx_audit_log_entries_actor_user_id", on: AuditLogEntry.schema, ["actor_user_id"]),
    ]
}

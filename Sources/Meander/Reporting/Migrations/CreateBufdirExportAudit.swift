import FluentSQL

/// Creates `bufdir_export_audits`; no foreign keys by design (see `BufdirExportAudit`).
struct CreateBufdirExportAudit: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(BufdirExportAudit.schema)
            .id()
            .field("created_at", .datetime)
            .field("actor_user_id", .uuid)
            .field("organization_id", .uuid)
            .field("report_id", .uuid)
            .field("client", .string, .required)
            .field("format", .string)
            .field("parameters", .string, .required, .sql(.default("{}")))
            .field("result", .string, .required)
            .field("size_bytes", .int64)
            .field("sha256", .string)
            .field("row_counts", .string)
            .field("duration_ms", .int64, .required)
            .field("error", .string)
            .check("client", in: BufdirExportAudit.Client.self)
            .check("format", in: BufdirExportAudit.Format.self)
            .check("result", in: BufdirExportAudit.Outcome.self)
            .check(named: "ck_bufdir_export_audits_numbers", "duration_ms >= 0 AND (size_bytes IS NULL OR size_bytes >= 0)")
            .create()
        try await database.createIndexes(Self.indexes)
    }

    func revert(on database: any Database) async throws {
        try await database.dropIndexes(Self.indexes)
        try await database.schema(BufdirExportAudit.schema).delete()
    }

    static let indexes = [
        SchemaIndex(
            "idx_bufdir_export_audits_organization_id_created_at", on: BufdirExportAudit.schema,
            ["organization_id", "created_at"]
        )
    ]
}

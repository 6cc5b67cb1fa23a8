import FluentSQL

/// Readies Bufdir reporting for exports: the report remembers when and at which audit-chain head its figures were
/// computed and the corrections made after finalisation, and `bufdir_export_audits` is rebuilt with the evidence-bundle format, the figures of each export (to
/// show what changed between exports), the stored file and the chain entry, and made append-only.
///
/// The export audit is rebuilt rather than altered because SQLite cannot change a CHECK constraint; nothing wrote
/// to it before this migration, and it refuses to run if something did.
struct UpdateBufdirReportingForExports: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(BufdirReport.schema)
            .field("computed_at", .datetime)
            .update()
        try await database.schema(BufdirReport.schema)
            .field("audit_sequence", .int64)
            .update()
        try await database.schema(BufdirReport.schema)
            .field("audit_hash", .string)
            .update()
        try await database.schema(BufdirReport.schema)
            .field("adjustments", .string)
            .update()

        let existing = try await BufdirExportAudit.query(on: database).count()
        guard existing == 0 else {
            throw MigrationRefused("bufdir_export_audits holds \(existing) rows; this migration rebuilds an empty table only")
        }
        try await database.dropIndexes(CreateBufdirExportAudit.indexes)
        try await database.schema(BufdirExportAudit.schema).delete()
        try await database.schema(BufdirExportAudit.schema)
            .id()
            .field("created_at", .datetime)
            .field("actor_user_id", .uuid)
            .field("organization_id", .uuid)
            .field("report_id", .uuid)
            .field("job_id", .uuid)
            .field("client", .string, .required)
            .field("format", .string)
            .field("parameters", .string, .required, .sql(.default("{}")))
            .field("result", .string, .required)
            .field("size_bytes", .int64)
            .field("sha256", .string)
            .field("row_counts", .string)
            .field("figures", .string)
            .field("storage_key", .string)
            .field("audit_sequence", .int64)
            .field("duration_ms", .int64, .required)
            .field("error", .string)
            .check("client", in: BufdirExportAudit.Client.self)
            .check("format", in: BufdirExportAudit.Format.self)
            .check("result", in: BufdirExportAudit.Outcome.self)
            .check(named: "ck_bufdir_export_audits_numbers", "duration_ms >= 0 AND (size_bytes IS NULL OR size_bytes >= 0)")
            .check(
                named: "ck_bufdir_export_audits_success",
                "result = 'failed' OR (sha256 IS NOT NULL AND size_bytes IS NOT NULL AND storage_key IS NOT NULL)"
            )
            .create()
        try await database.createIndexes(Self.indexes)
        try await AppendOnlyTable.install(on: BufdirExportAudit.schema, database)
    }

    func revert(on database: any Database) async throws {
        try await AppendOnlyTable.remove(from: BufdirExportAudit.schema, database)
        try await database.dropIndexes(Self.indexes)
        try await database.schema(BufdirExportAudit.schema).delete()
        try await CreateBufdirExportAudit().prepare(on: database)
        for column in ["computed_at", "audit_sequence", "audit_hash", "adjustments"] {
            try await database.schema(BufdirReport.schema).deleteField(.string(column)).update()
        }
    }

    static let indexes =
        CreateBufdirExportAudit.indexes + [
            SchemaIndex(
                "idx_bufdir_export_audits_report_id_created_at", on: BufdirExportAudit.schema, ["report_id", "created_at"])
        ]
}

/// A migration that stops because running it would lose data.
struct MigrationRefused: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

import FluentKit
import Foundation

/// An immutable record of one Bufdir export, successful or not.
///
/// Append-only. Who, organisation and report are plain UUID columns without foreign keys so that the record
/// outlives what it mentions.
final class BufdirExportAudit: Model, @unchecked Sendable {
    static let schema = "bufdir_export_audits"

    /// Where the export was started.
    enum Client: String, Codable, CaseIterable, Sendable {
        case mobile
        case portal
        case cli
        /// Any other API client.
        case api
    }

    /// How the export ended.
    enum Outcome: String, Codable, CaseIterable, Sendable {
        case succeeded
        case failed
    }

    /// File format produced.
    enum Format: String, Codable, CaseIterable, Sendable {
        case csv
        case xlsx
        case json
        /// The evidence bundle: report files, evidence files and a manifest of their hashes.
        case zip
    }

    @ID(key: .id)
    var id: UUID?

    // managed

    @Timestamp(key: "created_at", on: .create)
    var createdAt: Date?

    // references (plain ids)

    @OptionalField(key: "actor_user_id")
    var actorUserID: UUID?

    @OptionalField(key: "organization_id")
    var organizationID: UUID?

    @OptionalField(key: "report_id")
    var reportID: UUID?

    /// The job that ran the export (none from the CLI).
    @OptionalField(key: "job_id")
    var jobID: UUID?

    // data

    @Field(key: "client")
    var client: Client

    @OptionalField(key: "format")
    var format: Format?

    /// JSON object of the export's parameters (period, subtree, options).
    @Field(key: "parameters")
    var parameters: String

    @Field(key: "result")
    var result: Outcome

    @OptionalField(key: "size_bytes")
    var sizeBytes: Int?

    /// Hex SHA-256 of the bytes produced.
    @OptionalField(key: "sha256")
    var sha256: String?

    /// JSON object of row counts per sheet or section.
    @OptionalField(key: "row_counts")
    var rowCounts: String?

    /// JSON object of every figure of the export (`totals.activities` → 120), unsuppressed, to show what changed
    /// between two exports of one report; never leaves the tenant.
    @OptionalField(key: "figures")
    var figures: String?

    /// Where the produced file is stored (`BlobKey.export`).
    @OptionalField(key: "storage_key")
    var storageKey: String?

    /// The audit chain entry that records this export.
    @OptionalField(key: "audit_sequence")
    var auditSequence: Int64?

    @Field(key: "duration_ms")
    var durationMs: Int

    @OptionalField(key: "error")
    var error: String?

    init() {}

    init(
        id: UUID? = nil,
        client: Client,
        result: Outcome,
        durationMs: Int,
        actorUserID: UUID? = nil,
        organizationID: UUID? = nil,
        reportID: UUID? = nil,
        format: Format? = nil,
        parameters: String = "{}",
        sizeBytes: Int? = nil,
        sha256: String? = nil,
        rowCounts: String? = nil,
        error: String? = nil
    ) {
        self.id = id
        self.client = client
        self.result = result
        self.durationMs = durationMs
        self.actorUserID = actorUserID
        self.organizationID = organizationID
        self.reportID = reportID
        self.format = format
        self.parameters = parameters
        self.sizeBytes = sizeBytes
        self.sha256 = sha256
        self.rowCounts = rowCounts
        self.error = error
    }
}

import FluentKit
import Foundation

/// The yearly (or other period's) report to Bufdir for one organisation and its subtree.
///
/// `aggregates` is the JSON document of the numbers Bufdir asks for (activities by category, hours, distinct
/// contacts, participants, active mentors, events and course days, per county, evidence completeness, plus chapter,
/// member, county and mentor counts). Once `finalized`, the row is frozen: `aggregates` no longer changes and
/// `content_sha256` is the hash of the exact bytes every later export must reproduce. Period bounds are calendar
/// dates `yyyy-MM-dd`, both inclusive.
final class BufdirReport: Model, @unchecked Sendable {
    static let schema = "bufdir_reports"

    /// Report lifecycle.
    enum Status: String, Codable, CaseIterable, Sendable {
        case draft
        case finalized
        case submitted
    }

    @ID(key: .id)
    var id: UUID?

    // managed

    @Timestamp(key: "created_at", on: .create)
    var createdAt: Date?

    @Timestamp(key: "updated_at", on: .update)
    var updatedAt: Date?

    // references

    @Parent(key: "organization_id")
    var organization: Organization

    @OptionalParent(key: "created_by_id")
    var createdBy: User?

    @OptionalParent(key: "finalized_by_id")
    var finalizedBy: User?

    @OptionalParent(key: "submitted_by_id")
    var submittedBy: User?

    // data

    /// Selects the counting rules (`bufdir_counting_rules.reporting_year`).
    @Field(key: "reporting_year")
    var reportingYear: Int

    @Field(key: "period_start")
    var periodStart: String

    @Field(key: "period_end")
    var periodEnd: String

    @Field(key: "status")
    var status: Status

    @Field(key: "aggregates")
    var aggregates: String

    @OptionalField(key: "content_sha256")
    var contentSHA256: String?

    /// When `aggregates` were last computed (they change only when the data did).
    @OptionalField(key: "computed_at")
    var computedAt: Date?

    /// The audit chain's head (sequence and hash) when `aggregates` last changed; the evidence bundle states it.
    @OptionalField(key: "audit_sequence")
    var auditSequence: Int64?

    @OptionalField(key: "audit_hash")
    var auditHash: String?

    /// JSON array of corrections recorded after finalisation (`BufdirAdjustmentRecord`); NULL means none.
    @OptionalField(key: "adjustments")
    var adjustments: String?

    @OptionalField(key: "finalized_at")
    var finalizedAt: Date?

    @OptionalField(key: "submitted_at")
    var submittedAt: Date?

    init() {}

    init(
        id: UUID? = nil,
        organizationID: UUID,
        reportingYear: Int,
        periodStart: String,
        periodEnd: String,
        status: Status = .draft,
        aggregates: String = "{}",
        createdByID: UUID? = nil
    ) {
        self.id = id
        self.$organization.id = organizationID
        self.reportingYear = reportingYear
        self.periodStart = periodStart
        self.periodEnd = periodEnd
        self.status = status
        self.aggregates = aggregates
        self.$createdBy.id = createdByID
    }
}

import FluentKit
import Foundation

/// A training or certification course peer mentors and coordinators can enrol in.
final class Course: Model, @unchecked Sendable {
    static let schema = "courses"

    /// Course lifecycle.
    enum Status: String, Codable, CaseIterable, Sendable {
        case draft
        case published
        case cancelled
        case completed
    }

    @ID(key: .id)
    var id: UUID?

    // managed

    @Timestamp(key: "created_at", on: .create)
    var createdAt: Date?

    @Timestamp(key: "updated_at", on: .update)
    var updatedAt: Date?

    @Timestamp(key: "deleted_at", on: .delete)
    var deletedAt: Date?

    // references

    @Parent(key: "organization_id")
    var organization: Organization

    @OptionalParent(key: "created_by_id")
    var createdBy: User?

    @Children(for: \.$course)
    var enrollments: [CourseEnrollment]

    // data

    @Field(key: "title")
    var title: String

    @OptionalField(key: "details")
    var details: String?

    @Field(key: "starts_at")
    var startsAt: Date

    @Field(key: "ends_at")
    var endsAt: Date

    /// Human-readable schedule of the sessions, e.g. "Tirsdager 18–20, 4 ganger".
    @OptionalField(key: "schedule")
    var schedule: String?

    @OptionalField(key: "place")
    var place: String?

    @Field(key: "is_online")
    var isOnline: Bool

    /// NULL: no limit.
    @OptionalField(key: "capacity")
    var capacity: Int?

    @OptionalField(key: "enrollment_deadline")
    var enrollmentDeadline: Date?

    @Field(key: "status")
    var status: Status

    @Field(key: "issues_certificate")
    var issuesCertificate: Bool

    /// How long a certificate from this course is valid; NULL: it does not expire.
    @OptionalField(key: "certificate_validity_months")
    var certificateValidityMonths: Int?

    init() {}

    init(
        id: UUID? = nil,
        organizationID: UUID,
        title: String,
        startsAt: Date,
        endsAt: Date,
        createdByID: UUID? = nil,
        details: String? = nil,
        schedule: String? = nil,
        place: String? = nil,
        isOnline: Bool = false,
        capacity: Int? = nil,
        enrollmentDeadline: Date? = nil,
        status: Status = .draft,
        issuesCertificate: Bool = true,
        certificateValidityMonths: Int? = nil
    ) {
        self.id = id
        self.$organization.id = organizationID
        self.title = title
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.$createdBy.id = createdByID
        self.details = details
        self.schedule = schedule
        self.place = place
        self.isOnline = isOnline
        self.capacity = capacity
        self.enrollmentDeadline = enrollmentDeadline
        self.status = status
        self.issuesCertificate = issuesCertificate
        self.certificateValidityMonths = certificateValidityMonths
    }
}

import FluentKit
import Foundation

/// A user's enrolment in a course; the certificate it produced links back through `Certificate.enrollment`.
///
/// One row per (course, user).
final class CourseEnrollment: Model, @unchecked Sendable {
    static let schema = "course_enrollments"

    /// Enrolment lifecycle.
    enum Status: String, Codable, CaseIterable, Sendable {
        case enrolled
        case waitlisted
        case cancelled
        case completed
        case failed
    }

    @ID(key: .id)
    var id: UUID?

    // managed

    @Timestamp(key: "created_at", on: .create)
    var createdAt: Date?

    @Timestamp(key: "updated_at", on: .update)
    var updatedAt: Date?

    // references

    /// The course's organisation (the tenant that owns the row).
    @Parent(key: "organization_id")
    var organization: Organization

    @Parent(key: "course_id")
    var course: Course

    @Parent(key: "user_id")
    var user: User

    @OptionalParent(key: "enrolled_by_id")
    var enrolledBy: User?

    /// The certificate issued on completion, if any.
    @OptionalChild(for: \.$enrollment)
    var certificate: Certificate?

    // data

    @Field(key: "status")
    var status: Status

    /// Order on the waitlist (1 is next); NULL unless waitlisted.
    @OptionalField(key: "waitlist_position")
    var waitlistPosition: Int?

    @OptionalField(key: "completed_at")
    var completedAt: Date?

    @OptionalField(key: "cancelled_at")
    var cancelledAt: Date?

    init() {}

    init(
        id: UUID? = nil,
        organizationID: UUID,
        courseID: UUID,
        userID: UUID,
        status: Status = .enrolled,
        enrolledByID: UUID? = nil,
        waitlistPosition: Int? = nil,
        completedAt: Date? = nil
    ) {
        self.id = id
        self.$organization.id = organizationID
        self.$course.id = courseID
        self.$user.id = userID
        self.status = status
        self.$enrolledBy.id = enrolledByID
        self.waitlistPosition = waitlistPosition
        self.completedAt = completedAt
    }
}

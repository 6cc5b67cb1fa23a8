import FluentKit
import Foundation

/// A certificate issued on completing a course, checkable by third parties through its verification code.
final class Certificate: Model, @unchecked Sendable {
    static let schema = "certificates"

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

    @Parent(key: "user_id")
    var user: User

    @Parent(key: "course_id")
    var course: Course

    /// The enrolment that produced it; unique, so one enrolment yields at most one certificate.
    @Parent(key: "enrollment_id")
    var enrollment: CourseEnrollment

    @OptionalParent(key: "revoked_by_id")
    var revokedBy: User?

    // data

    /// Human-facing certificate number, unique, e.g. `NHF-2025-000123`.
    @Field(key: "number")
    var number: String

    /// Unguessable code a third party enters to verify the certificate without logging in.
    @Field(key: "verification_code")
    var verificationCode: String

    @Field(key: "issued_at")
    var issuedAt: Date

    /// NULL: does not expire.
    @OptionalField(key: "valid_until")
    var validUntil: Date?

    @OptionalField(key: "revoked_at")
    var revokedAt: Date?

    @OptionalField(key: "revoked_reason")
    var revokedReason: String?

    /// When the last reminder before expiry went out.
    @OptionalField(key: "expiry_reminder_sent_at")
    var expiryReminderSentAt: Date?

    init() {}

    init(
        id: UUID? = nil,
        organizationID: UUID,
        userID: UUID,
        courseID: UUID,
        enrollmentID: UUID,
        number: String,
        verificationCode: String,
        issuedAt: Date = Date(),
        validUntil: Date? = nil
    ) {
        self.id = id
        self.$organization.id = organizationID
        self.$user.id = userID
        self.$course.id = courseID
        self.$enrollment.id = enrollmentID
        self.number = number
        self.verificationCode = verificationCode
        self.issuedAt = issuedAt
        self.validUntil = validUntil
    }
}

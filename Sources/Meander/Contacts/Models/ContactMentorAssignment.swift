import FluentKit
import Foundation

/// A peer mentor assigned to a contact for a while; ending an assignment sets `unassigned_at` and keeps the row.
///
/// A partial unique index allows one open assignment per (contact, mentor).
final class ContactMentorAssignment: Model, @unchecked Sendable {
    static let schema = "contact_mentor_assignments"

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

    @Parent(key: "contact_id")
    var contact: Contact

    @Parent(key: "mentor_id")
    var mentor: User

    @OptionalParent(key: "assigned_by_id")
    var assignedBy: User?

    // data

    @Field(key: "assigned_at")
    var assignedAt: Date

    @OptionalField(key: "unassigned_at")
    var unassignedAt: Date?

    init() {}

    init(
        id: UUID? = nil,
        organizationID: UUID,
        contactID: UUID,
        mentorID: UUID,
        assignedByID: UUID? = nil,
        assignedAt: Date = Date(),
        unassignedAt: Date? = nil
    ) {
        self.id = id
        self.$organization.id = organizationID
        self.$contact.id = contactID
        self.$mentor.id = mentorID
        self.$assignedBy.id = assignedByID
        self.assignedAt = assignedAt
        self.unassignedAt = unassignedAt
    }
}

import FluentKit
import Foundation

/// A user's sign-up for an event, possibly made on their behalf by a coordinator.
///
/// One row per (event, user); cancelling and re-registering updates it.
final class EventRegistration: Model, @unchecked Sendable {
    static let schema = "event_registrations"

    /// Sign-up lifecycle.
    enum Status: String, Codable, CaseIterable, Sendable {
        case registered
        case waitlisted
        case cancelled
        case attended
        case noShow = "no_show"
    }

    @ID(key: .id)
    var id: UUID?

    // managed

    @Timestamp(key: "created_at", on: .create)
    var createdAt: Date?

    @Timestamp(key: "updated_at", on: .update)
    var updatedAt: Date?

    // references

    /// The event's organisation (the tenant that owns the row).
    @Parent(key: "organization_id")
    var organization: Organization

    @Parent(key: "event_id")
    var event: Event

    @Parent(key: "user_id")
    var user: User

    /// Who made the registration; differs from `user` when a coordinator registers someone.
    @OptionalParent(key: "registered_by_id")
    var registeredBy: User?

    // data

    @Field(key: "status")
    var status: Status

    /// Order on the waitlist (1 is next); NULL unless waitlisted.
    @OptionalField(key: "waitlist_position")
    var waitlistPosition: Int?

    @OptionalField(key: "checked_in_at")
    var checkedInAt: Date?

    @OptionalField(key: "cancelled_at")
    var cancelledAt: Date?

    init() {}

    init(
        id: UUID? = nil,
        organizationID: UUID,
        eventID: UUID,
        userID: UUID,
        status: Status = .registered,
        registeredByID: UUID? = nil,
        waitlistPosition: Int? = nil,
        checkedInAt: Date? = nil
    ) {
        self.id = id
        self.$organization.id = organizationID
        self.$event.id = eventID
        self.$user.id = userID
        self.status = status
        self.$registeredBy.id = registeredByID
        self.waitlistPosition = waitlistPosition
        self.checkedInAt = checkedInAt
    }
}

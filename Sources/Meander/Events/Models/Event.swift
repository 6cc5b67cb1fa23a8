import FluentKit
import Foundation

/// An event created by mentors or coordinators in an organisation, with time, place and capacity.
final class Event: Model, @unchecked Sendable {
    static let schema = "events"

    /// Who may see and join it.
    enum Visibility: String, Codable, CaseIterable, Sendable {
        /// Members of the owning organisation only.
        case organization
        /// Members of the owning organisation and every organisation below it.
        case subtree
    }

    /// Event lifecycle.
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

    @Parent(key: "created_by_id")
    var createdBy: User

    /// The activity type attendance is logged as when the event counts for Bufdir.
    @OptionalParent(key: "activity_type_id")
    var activityType: ActivityType?

    @Children(for: \.$event)
    var registrations: [EventRegistration]

    // data

    @Field(key: "title")
    var title: String

    @OptionalField(key: "details")
    var details: String?

    @Field(key: "starts_at")
    var startsAt: Date

    @Field(key: "ends_at")
    var endsAt: Date

    @OptionalField(key: "place")
    var place: String?

    @Field(key: "is_online")
    var isOnline: Bool

    /// NULL: no limit.
    @OptionalField(key: "capacity")
    var capacity: Int?

    @OptionalField(key: "registration_deadline")
    var registrationDeadline: Date?

    @Field(key: "visibility")
    var visibility: Visibility

    @Field(key: "status")
    var status: Status

    @Field(key: "counts_for_bufdir")
    var countsForBufdir: Bool

    init() {}

    init(
        id: UUID? = nil,
        organizationID: UUID,
        createdByID: UUID,
        title: String,
        startsAt: Date,
        endsAt: Date,
        details: String? = nil,
        place: String? = nil,
        isOnline: Bool = false,
        capacity: Int? = nil,
        registrationDeadline: Date? = nil,
        visibility: Visibility = .organization,
        status: Status = .draft,
        countsForBufdir: Bool = false,
        activityTypeID: UUID? = nil
    ) {
        self.id = id
        self.$organization.id = organizationID
        self.$createdBy.id = createdByID
        self.title = title
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.details = details
        self.place = place
        self.isOnline = isOnline
        self.capacity = capacity
        self.registrationDeadline = registrationDeadline
        self.visibility = visibility
        self.status = status
        self.countsForBufdir = countsForBufdir
        self.$activityType.id = activityTypeID
    }
}

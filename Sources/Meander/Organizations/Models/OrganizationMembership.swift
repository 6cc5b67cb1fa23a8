import FluentKit
import Foundation

/// A user's membership of one organisation; one row per pair, reused when someone rejoins.
///
/// A paused member keeps their history but cannot log new work or receive dispatches. The pause reason may touch on
/// health, so it is stored only as ciphertext (`paused_reason_ciphertext`, `key_version`).
final class OrganizationMembership: Model, @unchecked Sendable {
    static let schema = "organization_memberships"

    /// Membership lifecycle.
    enum Status: String, Codable, CaseIterable, Sendable {
        case invited
        case active
        case paused
        case ended
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

    @Parent(key: "user_id")
    var user: User

    @OptionalParent(key: "invited_by_id")
    var invitedBy: User?

    // data

    @Field(key: "status")
    var status: Status

    @OptionalField(key: "joined_at")
    var joinedAt: Date?

    @OptionalField(key: "paused_reason_ciphertext")
    var pausedReasonCiphertext: Data?

    @OptionalField(key: "key_version")
    var keyVersion: Int?

    @OptionalField(key: "paused_at")
    var pausedAt: Date?

    /// End of a pause; NULL means until further notice.
    @OptionalField(key: "paused_until")
    var pausedUntil: Date?

    @OptionalField(key: "ended_at")
    var endedAt: Date?

    init() {}

    init(
        id: UUID? = nil,
        organizationID: UUID,
        userID: UUID,
        status: Status = .active,
        joinedAt: Date? = Date(),
        invitedByID: UUID? = nil,
        pausedAt: Date? = nil,
        pausedUntil: Date? = nil,
        endedAt: Date? = nil
    ) {
        self.id = id
        self.$organization.id = organizationID
        self.$user.id = userID
        self.status = status
        self.joinedAt = joinedAt
        self.$invitedBy.id = invitedByID
        self.pausedAt = pausedAt
        self.pausedUntil = pausedUntil
        self.endedAt = endedAt
    }
}

import FluentKit
import Foundation

/// A role granted to a user within one organisation (or, for `platform_admin` only, platform-wide); revocable.
///
/// Revoked grants stay as history. At most one live grant per (user, organisation, role) is enforced by partial
/// unique indexes over rows with `revoked_at IS NULL`.
final class UserRole: Model, @unchecked Sendable {
    static let schema = "user_roles"

    /// The role keys of DOMAIN.md.
    enum Role: String, Codable, CaseIterable, Sendable {
        case peerMentor = "peer_mentor"
        case coordinator
        case orgAdmin = "org_admin"
        case nationalAdmin = "national_admin"
        case platformAdmin = "platform_admin"
    }

    @ID(key: .id)
    var id: UUID?

    // managed

    @Timestamp(key: "created_at", on: .create)
    var createdAt: Date?

    @Timestamp(key: "updated_at", on: .update)
    var updatedAt: Date?

    // references

    @Parent(key: "user_id")
    var user: User

    /// NULL exactly when `role` is `platform_admin` (checked by the database).
    @OptionalParent(key: "organization_id")
    var organization: Organization?

    @OptionalParent(key: "granted_by_id")
    var grantedBy: User?

    @OptionalParent(key: "revoked_by_id")
    var revokedBy: User?

    // data

    @Field(key: "role")
    var role: Role

    @Field(key: "granted_at")
    var grantedAt: Date

    @OptionalField(key: "revoked_at")
    var revokedAt: Date?

    init() {}

    init(
        id: UUID? = nil,
        userID: UUID,
        organizationID: UUID?,
        role: Role,
        grantedByID: UUID? = nil,
        grantedAt: Date = Date()
    ) {
        self.id = id
        self.$user.id = userID
        self.$organization.id = organizationID
        self.role = role
        self.$grantedBy.id = grantedByID
        self.grantedAt = grantedAt
    }
}

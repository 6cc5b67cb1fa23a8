import FluentKit
import Foundation

/// A single-use token behind an e-mailed link: an invitation (7 days) or a password reset (1 hour).
///
/// Only the SHA-256 of the token is stored; the link in the queued notification carries the token itself.
final class ActionToken: Model, @unchecked Sendable {
    static let schema = "action_tokens"

    /// What the link does.
    enum Kind: String, Codable, CaseIterable, Sendable {
        case invitation
        case passwordReset = "password_reset"
    }

    @ID(key: .id)
    var id: UUID?

    // managed

    @Timestamp(key: "created_at", on: .create)
    var createdAt: Date?

    // references

    @Parent(key: "user_id")
    var user: User

    @OptionalParent(key: "organization_id")
    var organization: Organization?

    @OptionalParent(key: "membership_id")
    var membership: OrganizationMembership?

    @OptionalParent(key: "created_by_id")
    var createdBy: User?

    // data

    @Field(key: "kind")
    var kind: Kind

    @Field(key: "token_hash")
    var tokenHash: String

    /// JSON text; for invitations, the role keys to grant on acceptance.
    @Field(key: "payload")
    var payload: String

    @Field(key: "expires_at")
    var expiresAt: Date

    @OptionalField(key: "used_at")
    var usedAt: Date?

    init() {}

    init(
        id: UUID? = nil, kind: Kind, tokenHash: String, userID: UUID, organizationID: UUID? = nil,
        membershipID: UUID? = nil, createdByID: UUID? = nil, payload: String = "{}", expiresAt: Date
    ) {
        self.id = id
        self.kind = kind
        self.tokenHash = tokenHash
        self.$user.id = userID
        self.$organization.id = organizationID
        self.$membership.id = membershipID
        self.$createdBy.id = createdByID
        self.payload = payload
        self.expiresAt = expiresAt
    }
}

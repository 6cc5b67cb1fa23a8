import FluentKit
import Foundation

/// A single-use refresh token of a session, stored only as a hash.
///
/// Rotation: using a token sets `used_at` and `replaced_by_id` and issues a child whose `parent_id` is the used
/// token. A second presentation of a used token within a short grace window may be answered with the same child
/// (found through `replaced_by_id`); later it is theft and revokes the whole session.
final class RefreshToken: Model, @unchecked Sendable {
    static let schema = "refresh_tokens"

    @ID(key: .id)
    var id: UUID?

    // references

    @Parent(key: "session_id")
    var session: Session

    @OptionalParent(key: "parent_id")
    var parent: RefreshToken?

    @OptionalParent(key: "replaced_by_id")
    var replacedBy: RefreshToken?

    // data

    /// Hex SHA-256 of the opaque token.
    @Field(key: "token_hash")
    var tokenHash: String

    @Field(key: "issued_at")
    var issuedAt: Date

    @Field(key: "expires_at")
    var expiresAt: Date

    @OptionalField(key: "used_at")
    var usedAt: Date?

    @OptionalField(key: "revoked_at")
    var revokedAt: Date?

    init() {}

    init(
        id: UUID? = nil,
        sessionID: UUID,
        parentID: UUID? = nil,
        tokenHash: String,
        issuedAt: Date = Date(),
        expiresAt: Date
    ) {
        self.id = id
        self.$session.id = sessionID
        self.$parent.id = parentID
        self.tokenHash = tokenHash
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }
}

import FluentKit
import Foundation

/// One login: anchors the refresh-token family and records device, IP, method, activity and revocation.
///
/// The name shadows `Vapor.Session` inside this module; code that imports both modules says `Meander.Session`.
final class Session: Model, @unchecked Sendable {
    static let schema = "sessions"

    /// How the user proved who they are.
    enum AuthMethod: String, Codable, CaseIterable, Sendable {
        case password
        case idPorten = "id_porten"
        case bankID = "bankid"
        case vipps
        case apiToken = "api_token"
    }

    /// Why a session ended before its expiry.
    enum RevocationReason: String, Codable, CaseIterable, Sendable {
        case logout
        case revokedByUser = "revoked_by_user"
        case revokedByAdmin = "revoked_by_admin"
        case passwordChanged = "password_changed"
        case userSuspended = "user_suspended"
        case membershipEnded = "membership_ended"
        case refreshTokenReuse = "refresh_token_reuse"
    }

    @ID(key: .id)
    var id: UUID?

    // managed

    @Timestamp(key: "created_at", on: .create)
    var createdAt: Date?

    // references

    @Parent(key: "user_id")
    var user: User

    /// The organisation the user chose to act in, if any.
    @OptionalParent(key: "organization_id")
    var organization: Organization?

    @Children(for: \.$session)
    var refreshTokens: [RefreshToken]

    // data

    @OptionalField(key: "user_agent")
    var userAgent: String?

    @OptionalField(key: "ip")
    var ip: String?

    @Field(key: "auth_method")
    var authMethod: AuthMethod

    @Field(key: "last_seen_at")
    var lastSeenAt: Date

    /// Absolute expiry: refreshing never extends a session past it.
    @Field(key: "expires_at")
    var expiresAt: Date

    @OptionalField(key: "revoked_at")
    var revokedAt: Date?

    @OptionalField(key: "revoked_reason")
    var revokedReason: RevocationReason?

    init() {}

    init(
        id: UUID? = nil,
        userID: UUID,
        organizationID: UUID? = nil,
        authMethod: AuthMethod = .password,
        userAgent: String? = nil,
        ip: String? = nil,
        lastSeenAt: Date = Date(),
        expiresAt: Date
    ) {
        self.id = id
        self.$user.id = userID
        self.$organization.id = organizationID
        self.authMethod = authMethod
        self.userAgent = userAgent
        self.ip = ip
        self.lastSeenAt = lastSeenAt
        self.expiresAt = expiresAt
    }
}

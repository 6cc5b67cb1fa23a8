import FluentKit
import Foundation

/// An invite link or QR code made by a mentor or coordinator to recruit new peer mentors.
///
/// Conversions are counted on the row (`use_count` sign-up starts, `signup_count` completed sign-ups,
/// `first_activity_count` recruits who logged a first activity).
final class Referral: Model, @unchecked Sendable {
    static let schema = "referrals"

    /// How the invitation is shared.
    enum Channel: String, Codable, CaseIterable, Sendable {
        case link
        case qrCode = "qr_code"
        case email
        case sms
        case social
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

    @Parent(key: "created_by_id")
    var createdBy: User

    // data

    /// Short unguessable code in the link or QR code.
    @Field(key: "code")
    var code: String

    @Field(key: "channel")
    var channel: Channel

    @OptionalField(key: "expires_at")
    var expiresAt: Date?

    /// NULL: unlimited.
    @OptionalField(key: "max_uses")
    var maxUses: Int?

    @Field(key: "use_count")
    var useCount: Int

    @Field(key: "signup_count")
    var signupCount: Int

    @Field(key: "first_activity_count")
    var firstActivityCount: Int

    @OptionalField(key: "revoked_at")
    var revokedAt: Date?

    init() {}

    init(
        id: UUID? = nil,
        organizationID: UUID,
        createdByID: UUID,
        code: String,
        channel: Channel = .link,
        expiresAt: Date? = nil,
        maxUses: Int? = nil
    ) {
        self.id = id
        self.$organization.id = organizationID
        self.$createdBy.id = createdByID
        self.code = code
        self.channel = channel
        self.expiresAt = expiresAt
        self.maxUses = maxUses
        self.useCount = 0
        self.signupCount = 0
        self.firstActivityCount = 0
    }
}

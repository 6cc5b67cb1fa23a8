import FluentKit
import Foundation

/// A signed promise of confidentiality by a peer mentor or driver; some expense kinds need a valid one.
final class ConfidentialityDeclaration: Model, @unchecked Sendable {
    static let schema = "confidentiality_declarations"

    /// In which capacity the person signed.
    enum Capacity: String, Codable, CaseIterable, Sendable {
        case peerMentor = "peer_mentor"
        case driver
    }

    /// How it was signed.
    enum SigningMethod: String, Codable, CaseIterable, Sendable {
        /// Accepted in the app by an authenticated user.
        case inApp = "in_app"
        case bankID = "bankid"
        /// Signed on paper and uploaded.
        case paper
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

    // data

    @Field(key: "capacity")
    var capacity: Capacity

    /// Version of the declaration text that was signed, e.g. `2025-01`.
    @Field(key: "text_version")
    var textVersion: String

    @Field(key: "signed_at")
    var signedAt: Date

    @Field(key: "method")
    var method: SigningMethod

    /// NULL: valid until revoked.
    @OptionalField(key: "valid_until")
    var validUntil: Date?

    @OptionalField(key: "revoked_at")
    var revokedAt: Date?

    init() {}

    init(
        id: UUID? = nil,
        organizationID: UUID,
        userID: UUID,
        capacity: Capacity,
        textVersion: String,
        signedAt: Date = Date(),
        method: SigningMethod = .inApp,
        validUntil: Date? = nil
    ) {
        self.id = id
        self.$organization.id = organizationID
        self.$user.id = userID
        self.capacity = capacity
        self.textVersion = textVersion
        self.signedAt = signedAt
        self.method = method
        self.validUntil = validUntil
    }
}

import FluentKit
import Foundation

/// Personal information a coordinator sends one peer mentor for an assignment, kept only as ciphertext.
///
/// The payload (name, address, medical summary) is authenticated ciphertext under keys outside the database,
/// readable by the recipient alone. After expiry or revocation the ciphertext is destroyed (`payload_ciphertext`
/// set to NULL, `destroyed_at` set) while the row remains as a record that the dispatch existed.
final class EncryptedDispatch: Model, @unchecked Sendable {
    static let schema = "encrypted_dispatches"

    /// Dispatch lifecycle.
    enum Status: String, Codable, CaseIterable, Sendable {
        case sent
        case read
        case expired
        case revoked
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

    @Parent(key: "sender_id")
    var sender: User

    @Parent(key: "recipient_id")
    var recipient: User

    /// The contact the assignment concerns, if any.
    @OptionalParent(key: "contact_id")
    var contact: Contact?

    @OptionalParent(key: "revoked_by_id")
    var revokedBy: User?

    // data

    @OptionalField(key: "payload_ciphertext")
    var payloadCiphertext: Data?

    @OptionalField(key: "key_version")
    var keyVersion: Int?

    @Field(key: "status")
    var status: Status

    /// Read receipt.
    @OptionalField(key: "read_at")
    var readAt: Date?

    @Field(key: "expires_at")
    var expiresAt: Date

    @OptionalField(key: "revoked_at")
    var revokedAt: Date?

    @OptionalField(key: "destroyed_at")
    var destroyedAt: Date?

    init() {}

    init(
        id: UUID? = nil,
        organizationID: UUID,
        senderID: UUID,
        recipientID: UUID,
        expiresAt: Date,
        contactID: UUID? = nil,
        payloadCiphertext: Data? = nil,
        keyVersion: Int? = nil,
        status: Status = .sent
    ) {
        self.id = id
        self.$organization.id = organizationID
        self.$sender.id = senderID
        self.$recipient.id = recipientID
        self.expiresAt = expiresAt
        self.$contact.id = contactID
        self.payloadCiphertext = payloadCiphertext
        self.keyVersion = keyVersion
        self.status = status
    }
}

import FluentKit
import Foundation

/// One version of an organisation's data key, kept only wrapped (AES-GCM) under a master key outside the database.
///
/// Special-category fields are sealed under the newest version; the version travels in each envelope, so older
/// versions stay readable after `FieldCipher.rotateDataKey`. `master_key_id` names the wrapping master key by a
/// fingerprint (never the key), so that readers pick the right master key and `meander keys rotate` knows what is left.
final class OrganizationDataKey: Model, @unchecked Sendable {
    static let schema = "organization_data_keys"

    @ID(key: .id)
    var id: UUID?

    // managed

    @Timestamp(key: "created_at", on: .create)
    var createdAt: Date?

    // references

    @Parent(key: "organization_id")
    var organization: Organization

    // data

    /// 1, 2, … per organisation.
    @Field(key: "version")
    var version: Int

    /// `nonce ‖ ciphertext ‖ tag` of the 32-byte data key under the master key (see `MasterKeyRing`).
    @Field(key: "wrapped_key")
    var wrappedKey: Data

    /// `MasterKeyRing.keyID(of:)` of the wrapping master key.
    @Field(key: "master_key_id")
    var masterKeyID: String

    /// When a newer version replaced this one for new writes; it still opens what it sealed.
    @OptionalField(key: "retired_at")
    var retiredAt: Date?

    init() {}

    init(id: UUID? = nil, organizationID: UUID, version: Int, wrappedKey: Data, masterKeyID: String) {
        self.id = id
        self.$organization.id = organizationID
        self.version = version
        self.wrappedKey = wrappedKey
        self.masterKeyID = masterKeyID
    }
}

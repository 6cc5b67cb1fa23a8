import Crypto
import Foundation

/// The master keys that wrap data keys: the current one (which wraps every new or re-wrapped data key) and earlier
/// ones still accepted for unwrapping while `meander keys rotate` moves their data keys to the current one.
struct MasterKeyRing: Sendable {
    /// One master key and its public fingerprint.
    struct Entry: Sendable {
        let id: String
        let key: SymmetricKey
    }

    let current: Entry
    /// Earlier keys, in configuration order, without the current key or duplicates.
    let previous: [Entry]

    init(current: SecretKey, previous: [SecretKey]) {
        self.current = Entry(id: Self.keyID(of: current), key: SymmetricKey(data: current.bytes))
        var seen: Set<String> = [self.current.id]
        self.previous = previous.compactMap { key in
            let id = Self.keyID(of: key)
            guard seen.insert(id).inserted else { return nil }
            return Entry(id: id, key: SymmetricKey(data: key.bytes))
        }
    }

    /// Identifies a master key without revealing it: the first 16 hex digits of
    /// `SHA-256("meander-master-key-id" ‖ key)`.
    static func keyID(of key: SecretKey) -> String {
        Digest.hex(SHA256.hash(data: Data("meander-master-key-id".utf8) + Data(key.bytes)).prefix(8))
    }

    /// The master key with this id, current or previous.
    func key(withID id: String) -> SymmetricKey? {
        if id == current.id { return current.key }
        return previous.first { $0.id == id }?.key
    }

    /// Seals a data key under the current master key, bound to its organisation and version.
    func wrap(_ dataKey: SymmetricKey, organizationID: UUID, version: Int) throws -> (wrappedKey: Data, masterKeyID: String) {
        let sealed = try AES.GCM.seal(
            dataKey.withUnsafeBytes { Data($0) }, using: current.key, nonce: AES.GCM.Nonce(),
            authenticating: Self.wrapAAD(organizationID: organizationID, version: version))
        guard let combined = sealed.combined else {
            throw FieldCipherError.keyUnwrapFailed(organizationID: organizationID, version: version)
        }
        return (combined, current.id)
    }

    /// Opens a wrapped data key with the master key its row names.
    func unwrap(_ wrappedKey: Data, masterKeyID: String, organizationID: UUID, version: Int) throws -> SymmetricKey {
        guard let masterKey = key(withID: masterKeyID) else {
            throw FieldCipherError.unknownMasterKey(masterKeyID: masterKeyID, organizationID: organizationID, version: version)
        }
        do {
            let box = try AES.GCM.SealedBox(combined: wrappedKey)
            let bytes = try AES.GCM.open(
                box, using: masterKey, authenticating: Self.wrapAAD(organizationID: organizationID, version: version))
            guard bytes.count == 32 else { throw FieldCipherError.keyUnwrapFailed(organizationID: organizationID, version: version) }
            return SymmetricKey(data: bytes)
        } catch {
            throw FieldCipherError.keyUnwrapFailed(organizationID: organizationID, version: version)
        }
    }

    /// Opens the data key of a stored row.
    func unwrap(_ row: OrganizationDataKey) throws -> SymmetricKey {
        try unwrap(row.wrappedKey, masterKeyID: row.masterKeyID, organizationID: row.$organization.id, version: row.version)
    }

    /// `meander-dek-v1|<organisation id>|<version>`: a wrapped key moved to another organisation or version
    /// does not open.
    static func wrapAAD(organizationID: UUID, version: Int) -> Data {
        Data("meander-dek-v1|\(organizationID.uuidString.lowercased())|\(version)".utf8)
    }
}

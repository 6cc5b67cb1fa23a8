import Crypto
import FluentKit
import FluentSQL
import Foundation
import NIOConcurrencyHelpers

/// Seals and opens special-category fields with envelope encryption.
///
/// Each organisation has data keys (`organization_data_keys`, versions 1, 2, …), stored only wrapped under a master
/// key from the configuration. A field is sealed with AES-256-GCM under the organisation's newest data key into a
/// self-describing envelope:
///
/// ```
/// 0x01 ‖ key version (4 bytes, big-endian) ‖ nonce (12) ‖ ciphertext ‖ tag (16)
/// ```
///
/// authenticated together with `meander-field-v1|<organisation>|<table>|<column>|<row>|<version>`, so a value only
/// opens in the place it was sealed for. Unwrapped data keys are cached in memory; the master key never reaches the
/// database. See docs/adr/0006-encryption-at-rest.md.
final class FieldCipher: Sendable {
    /// The envelope's first byte.
    static let envelopeFormat: UInt8 = 0x01
    /// Format byte and key version.
    static let headerSize = 5
    /// Header, nonce and tag: the envelope of an empty string.
    static let minimumEnvelopeSize = headerSize + 12 + 16

    let keyRing: MasterKeyRing
    /// How long a cached "newest version" of an organisation is trusted before it is read again, so that a data key
    /// rotated on another node is picked up for new writes (older versions keep opening either way).
    let newestVersionLifetime: Duration
    private let state = NIOLockedValueBox(State())

    private struct State: Sendable {
        var keys: [DataKeyID: SymmetricKey] = [:]
        var newest: [UUID: (version: Int, checkedAt: ContinuousClock.Instant)] = [:]
        /// Rows this cipher inserted inside a caller's transaction: they may still roll back, so they are not cached
        /// until they are seen outside a transaction, or their request transaction has committed (`AfterCommit`).
        var uncommittedRowIDs: Set<UUID> = []
    }

    private struct DataKeyID: Hashable, Sendable {
        let organizationID: UUID
        let version: Int
    }

    init(masterKey: SecretKey, previousMasterKeys: [SecretKey] = [], newestVersionLifetime: Duration = .seconds(60)) {
        keyRing = MasterKeyRing(current: masterKey, previous: previousMasterKeys)
        self.newestVersionLifetime = newestVersionLifetime
    }

    /// The fingerprint of the master key that wraps new and re-wrapped data keys.
    var currentMasterKeyID: String { keyRing.current.id }

    // MARK: - Sealing and opening

    /// Seals `plaintext` for `context` under the organisation's newest data key, creating version 1 on first use.
    func seal(_ plaintext: String, _ context: FieldContext, on db: any Database) async throws -> Data {
        try Self.validate(context)
        let (version, key) = try await newestDataKey(organizationID: context.organizationID, on: db)
        return try Self.seal(Data(plaintext.utf8), context, version: version, key: key)
    }

    /// Seals a value that may be absent: `nil` stays `nil`.
    ///
    /// Disfavoured so that a non-optional value assigned to an optional column still picks the plain overload.
    @_disfavoredOverload
    func seal(_ plaintext: String?, _ context: FieldContext, on db: any Database) async throws -> Data? {
        guard let plaintext else { return nil }
        return try await seal(plaintext, context, on: db)
    }

    /// Opens an envelope sealed for exactly this `context`, with the data key version the envelope names.
    func open(_ envelope: Data, _ context: FieldContext, on db: any Database) async throws -> String {
        try Self.validate(context)
        guard envelope.count >= Self.minimumEnvelopeSize, let version = Self.keyVersion(of: envelope) else {
            throw FieldCipherError.malformedEnvelope
        }
        let key = try await dataKey(organizationID: context.organizationID, version: version, on: db)
        let failure = FieldCipherError.decryptionFailed(
            table: context.table, column: context.column, rowID: context.rowID, version: version)
        let plaintext: Data
        do {
            let box = try AES.GCM.SealedBox(combined: Data(envelope.dropFirst(Self.headerSize)))
            plaintext = try AES.GCM.open(box, using: key, authenticating: Self.fieldAAD(context, version: version))
        } catch {
            throw failure
        }
        guard let text = String(data: plaintext, encoding: .utf8) else { throw failure }
        return text
    }

    /// Opens a value that may be absent: `nil` stays `nil`.
    ///
    /// Disfavoured so that a non-optional envelope read into an optional property still picks the plain overload.
    @_disfavoredOverload
    func open(_ envelope: Data?, _ context: FieldContext, on db: any Database) async throws -> String? {
        guard let envelope else { return nil }
        return try await open(envelope, context, on: db)
    }

    /// The data key version an envelope was sealed under, or `nil` if it is not a Meander envelope.
    static func keyVersion(of envelope: Data) -> Int? {
        let header = Array(envelope.prefix(headerSize))
        guard header.count == headerSize, header[0] == envelopeFormat else { return nil }
        let version = header[1...].reduce(0) { $0 << 8 | Int($1) }
        return version >= 1 ? version : nil
    }

    /// `meander-field-v1|<organisation>|<table>|<column>|<row>|<version>`; ids lowercased.
    static func fieldAAD(_ context: FieldContext, version: Int) -> Data {
        let parts = [
            "meander-field-v1", context.organizationID.uuidString.lowercased(), context.table, context.column,
            context.rowID.uuidString.lowercased(), String(version),
        ]
        return Data(parts.joined(separator: "|").utf8)
    }

    private static func seal(_ plaintext: Data, _ context: FieldContext, version: Int, key: SymmetricKey) throws -> Data {
        let box = try AES.GCM.seal(
            plaintext, using: key, nonce: AES.GCM.Nonce(), authenticating: fieldAAD(context, version: version))
        guard let combined = box.combined else { throw FieldCipherError.malformedEnvelope }
        var envelope = Data([envelopeFormat])
        envelope.append(contentsOf: withUnsafeBytes(of: UInt32(version).bigEndian) { Array($0) })
        envelope.append(combined)
        return envelope
    }

    /// Table and column are joined with `|` in the AAD; a name holding one could collide with another pair.
    private static func validate(_ context: FieldContext) throws {
        guard !context.table.isEmpty, !context.column.isEmpty, !context.table.contains("|"), !context.column.contains("|")
        else {
            throw FieldCipherError.invalidContext(table: context.table, column: context.column)
        }
    }

    // MARK: - Data keys

    /// The unwrapped data key of one version, from the cache or the database.
    func dataKey(organizationID: UUID, version: Int, on db: any Database) async throws -> SymmetricKey {
        let id = DataKeyID(organizationID: organizationID, version: version)
        if let key = state.withLockedValue({ $0.keys[id] }) { return key }
        guard
            let row = try await OrganizationDataKey.query(on: db)
                .filter(\.$organization.$id == organizationID).filter(\.$version == version).first()
        else {
            throw FieldCipherError.unknownDataKey(organizationID: organizationID, version: version)
        }
        let key = try keyRing.unwrap(row)
        remember(row, key: key, isNewest: false, on: db)
        return key
    }

    /// The newest version and its key; version 1 is created on first use.
    ///
    /// Creation is race-safe on both engines and across nodes: every racer inserts its own candidate with
    /// `ON CONFLICT (organization_id, version) DO NOTHING`, then all of them read back the one row that won.
    func newestDataKey(organizationID: UUID, on db: any Database) async throws -> (version: Int, key: SymmetricKey) {
        if let cached = cachedNewest(of: organizationID) { return cached }

        var row = try await newestRow(organizationID: organizationID, on: db)
        if row == nil {
            try await insertDataKey(organizationID: organizationID, version: 1, on: db)
            row = try await newestRow(organizationID: organizationID, on: db)
        }
        guard let row else { throw FieldCipherError.unknownDataKey(organizationID: organizationID, version: 1) }
        let key =
            try state.withLockedValue { $0.keys[DataKeyID(organizationID: organizationID, version: row.version)] }
            ?? keyRing.unwrap(row)
        remember(row, key: key, isNewest: true, on: db)
        return (row.version, key)
    }

    func newestRow(organizationID: UUID, on db: any Database) async throws -> OrganizationDataKey? {
        try await OrganizationDataKey.query(on: db)
            .filter(\.$organization.$id == organizationID).sort(\.$version, .descending).first()
    }

    /// Inserts a fresh random data key as `version`, unless that version already exists. Returns whether this call
    /// inserted it.
    @discardableResult
    func insertDataKey(organizationID: UUID, version: Int, on db: any Database) async throws -> Bool {
        let (wrappedKey, masterKeyID) = try keyRing.wrap(
            SymmetricKey(size: .bits256), organizationID: organizationID, version: version)
        let id = UUID()
        let inserted = try await db.sqlDatabase().raw(
            """
            INSERT INTO organization_data_keys (id, organization_id, version, wrapped_key, master_key_id, created_at)
            VALUES (\(bind: id), \(bind: organizationID), \(bind: version), \(bind: wrappedKey), \(bind: masterKeyID), \(bind: Date()))
            ON CONFLICT (organization_id, version) DO NOTHING
            RETURNING id
            """
        ).first()
        guard inserted != nil else { return false }
        if db.inTransaction {
            state.withLockedValue { _ = $0.uncommittedRowIDs.insert(id) }
            // Inside a request transaction its commit says so; elsewhere, seeing the row outside a transaction does.
            AfterCommit.current?.append { [state] in
                state.withLockedValue { _ = $0.uncommittedRowIDs.remove(id) }
            }
        }
        return true
    }

    /// Caches an unwrapped key, unless its row may still roll back with the caller's transaction: a cached key that
    /// the database then forgot would seal values nobody else could open.
    private func remember(_ row: OrganizationDataKey, key: SymmetricKey, isNewest: Bool, on db: any Database) {
        guard let rowID = row.id else { return }
        let organizationID = row.$organization.id
        let inTransaction = db.inTransaction
        state.withLockedValue { state in
            if state.uncommittedRowIDs.contains(rowID) {
                guard !inTransaction else { return }
                state.uncommittedRowIDs.remove(rowID)
            }
            state.keys[DataKeyID(organizationID: organizationID, version: row.version)] = key
            if isNewest {
                state.newest[organizationID] = (row.version, .now)
            }
        }
    }

    /// The newest version and its key, if cached and not older than `newestVersionLifetime`: sealing then reads
    /// nothing.
    func cachedNewest(of organizationID: UUID) -> (version: Int, key: SymmetricKey)? {
        let lifetime = newestVersionLifetime
        return state.withLockedValue { state in
            guard let newest = state.newest[organizationID], newest.checkedAt.duration(to: .now) < lifetime,
                let key = state.keys[DataKeyID(organizationID: organizationID, version: newest.version)]
            else { return nil }
            return (newest.version, key)
        }
    }

    /// Forgets which version is newest for an organisation, so the next seal reads it again.
    func forgetNewestVersion(of organizationID: UUID) {
        state.withLockedValue { _ = $0.newest.removeValue(forKey: organizationID) }
    }
}

import Crypto
import Fluent
import FluentSQL
import Foundation
import Testing
import Vapor

@testable import Meander

/// Envelope encryption of special-category fields: round trips, binding to the place of the value, tampering,
/// what is (not) stored, and the race for an organisation's first data key.
@Suite("Crypto: field cipher")
struct CryptoFieldCipherTests {
    @Test("a sealed value opens to the same text, in the documented envelope format")
    func roundTrip() async throws {
        try await withTestApp { app in
            // given
            let cipher = app.meander.cipher
            let context = CryptoFixtures.context(try await CryptoFixtures.organization(app))
            let plaintext = "Diagnose: angstlidelse. Notat: ønsker oppfølging på tirsdager 🙂"

            // when
            let envelope = try await cipher.seal(plaintext, context, on: app.db)
            let opened = try await cipher.open(envelope, context, on: app.db)
            let emptyEnvelope = try await cipher.seal("", context, on: app.db)

            // then
            #expect(opened == plaintext)
            #expect(envelope.first == 0x01)
            #expect(Array(envelope[1..<5]) == [0, 0, 0, 1])
            #expect(FieldCipher.keyVersion(of: envelope) == 1)
            let plaintextSize: Int = Data(plaintext.utf8).count
            #expect(envelope.count == FieldCipher.minimumEnvelopeSize + plaintextSize)
            #expect(try await cipher.open(emptyEnvelope, context, on: app.db) == "")
            #expect(emptyEnvelope.count == FieldCipher.minimumEnvelopeSize)
            // a fresh cipher (another node, no cache) opens it from the stored data key
            let otherNode = FieldCipher(masterKey: app.meander.config.masterKey)
            #expect(try await otherNode.open(envelope, context, on: app.db) == plaintext)
        }
    }

    @Test("optional variants keep nil as nil and seal and open present values")
    func optionalVariants() async throws {
        try await withTestApp { app in
            // given
            let cipher = app.meander.cipher
            let context = CryptoFixtures.context(try await CryptoFixtures.organization(app))
            let absent: String? = nil
            let present: String? = "Hørselshemmet, trenger tolk"

            // when
            let sealedAbsent = try await cipher.seal(absent, context, on: app.db)
            let sealedPresent = try await cipher.seal(present, context, on: app.db)
            let openedAbsent = try await cipher.open(sealedAbsent, context, on: app.db)
            let openedPresent = try await cipher.open(sealedPresent, context, on: app.db)

            // then
            #expect(sealedAbsent == nil && openedAbsent == nil)
            #expect(sealedPresent != nil && openedPresent == present)
            #expect(try await OrganizationDataKey.query(on: app.db).count() == 1, "nil creates no work, one key")
        }
    }

    @Test("sealing the same text twice gives different envelopes (random nonce)")
    func sealsDiffer() async throws {
        try await withTestApp { app in
            // given
            let cipher = app.meander.cipher
            let context = CryptoFixtures.context(try await CryptoFixtures.organization(app))

            // when
            let first = try await cipher.seal("samme tekst", context, on: app.db)
            let second = try await cipher.seal("samme tekst", context, on: app.db)

            // then
            #expect(first != second)
            #expect(first[5..<17] != second[5..<17], "the nonces differ")
            #expect(try await cipher.open(first, context, on: app.db) == "samme tekst")
            #expect(try await cipher.open(second, context, on: app.db) == "samme tekst")
        }
    }

    /// Where a sealed value is moved to.
    enum Move: String, CaseIterable, Sendable {
        case anotherRow, anotherColumn, anotherTable, anotherOrganization, organizationWithoutKeys

        func apply(to context: FieldContext, otherOrganization: UUID, organizationWithoutKeys: UUID) -> FieldContext {
            var moved = context
            switch self {
            case .anotherRow: moved.rowID = UUID()
            case .anotherColumn: moved.column = "needs_ciphertext"
            case .anotherTable: moved.table = "activities"
            case .anotherOrganization: moved.organizationID = otherOrganization
            case .organizationWithoutKeys: moved.organizationID = organizationWithoutKeys
            }
            return moved
        }
    }

    @Test("a value moved to another row, column, table or organisation does not open", arguments: Move.allCases)
    func movedValueFails(_ move: Move) async throws {
        try await withTestApp { app in
            // given
            let cipher = app.meander.cipher
            let context = CryptoFixtures.context(try await CryptoFixtures.organization(app))
            let other = try await CryptoFixtures.organization(app, "Annet")
            let withoutKeys = try await CryptoFixtures.organization(app, "Uten nøkler")
            _ = try await cipher.seal("gir den andre organisasjonen en nøkkel", CryptoFixtures.context(other), on: app.db)
            let plaintext = "Hemmelig helseopplysning"
            let envelope = try await cipher.seal(plaintext, context, on: app.db)

            // when
            let moved = move.apply(to: context, otherOrganization: other, organizationWithoutKeys: withoutKeys)
            let error = await #expect(throws: FieldCipherError.self) {
                _ = try await cipher.open(envelope, moved, on: app.db)
            }

            // then
            switch move {
            case .organizationWithoutKeys:
                #expect(error == .unknownDataKey(organizationID: withoutKeys, version: 1))
            default:
                #expect(
                    error
                        == .decryptionFailed(table: moved.table, column: moved.column, rowID: moved.rowID, version: 1))
            }
            #expect(error.map { !String(describing: $0).contains(plaintext) } ?? false, "the message holds no plaintext")
            #expect(try await cipher.open(envelope, context, on: app.db) == plaintext, "still opens in its place")
        }
    }

    @Test("changing any single byte of an envelope makes it fail to open")
    func tamperingFails() async throws {
        try await withTestApp { app in
            // given
            let cipher = app.meander.cipher
            let context = CryptoFixtures.context(try await CryptoFixtures.organization(app))
            let envelope = try await cipher.seal("Medisinsk sammendrag", context, on: app.db)

            // when
            var opened: [Int] = []
            var errors: [FieldCipherError] = []
            for index in envelope.indices {
                var tampered = envelope
                tampered[index] ^= 0x01
                do {
                    _ = try await cipher.open(tampered, context, on: app.db)
                    opened.append(index)
                } catch let error as FieldCipherError {
                    errors.append(error)
                }
            }

            // then
            #expect(opened.isEmpty, "tampered positions that still opened: \(opened)")
            #expect(errors.count == envelope.count)
            // the header: a changed format byte, versions that do not exist, version 0 (no such version in the format)
            let organizationID = context.organizationID
            #expect(
                Array(errors[0..<5]) == [
                    .malformedEnvelope, .unknownDataKey(organizationID: organizationID, version: 0x0100_0001),
                    .unknownDataKey(organizationID: organizationID, version: 0x0001_0001),
                    .unknownDataKey(organizationID: organizationID, version: 0x0000_0101), .malformedEnvelope,
                ])
            // nonce, ciphertext and tag
            let failure = FieldCipherError.decryptionFailed(
                table: "contacts", column: "notes_ciphertext", rowID: context.rowID, version: 1)
            #expect(errors[5...].allSatisfy { $0 == failure })
            // a truncated envelope and garbage fail too
            await #expect(throws: FieldCipherError.malformedEnvelope) {
                _ = try await cipher.open(envelope.prefix(20), context, on: app.db)
            }
            await #expect(throws: FieldCipherError.self) {
                _ = try await cipher.open(envelope.dropLast(), context, on: app.db)
            }
        }
    }

    @Test("the envelope version reader accepts only the format it knows")
    func keyVersionReader() {
        #expect(FieldCipher.keyVersion(of: Data([0x01, 0, 0, 0, 7] + Array(repeating: 0, count: 28))) == 7)
        #expect(FieldCipher.keyVersion(of: Data([0x01, 0, 0, 1, 0])) == 256)
        #expect(FieldCipher.keyVersion(of: Data([0x02, 0, 0, 0, 1])) == nil)
        #expect(FieldCipher.keyVersion(of: Data([0x01, 0, 0, 0, 0])) == nil)
        #expect(FieldCipher.keyVersion(of: Data([0x01, 0, 0])) == nil)
        #expect(FieldCipher.keyVersion(of: Data()) == nil)
        #expect(FieldCipher.keyVersion(of: Data("plain text".utf8)) == nil)
    }

    @Test("neither the envelope holds the plaintext nor the stored keys hold a data or master key")
    func nothingInClear() async throws {
        try await withTestApp { app in
            // given
            let cipher = app.meander.cipher
            let organizationID = try await CryptoFixtures.organization(app)
            let context = CryptoFixtures.context(organizationID)
            let plaintext = "Kari Nordmann, Storgata 1, 9008 Tromsø: behandles for alvorlig depresjon"

            // when
            let envelope = try await cipher.seal(plaintext, context, on: app.db)
            let dataKey = CryptoFixtures.bytes(of: try await cipher.dataKey(organizationID: organizationID, version: 1, on: app.db))
            let masterKey = Data(app.meander.config.masterKey.bytes)
            let rows = try await CryptoFixtures.storedDataKeys(app)

            // then: no 8-byte window of the plaintext is in the envelope
            let text = Data(plaintext.utf8)
            let windows = (0...(text.count - 8)).map { text[$0..<($0 + 8)] }
            #expect(!windows.contains { envelope.containsBytes(Data($0)) })
            // and the table holds the key wrapped, never in clear, nor hex or base64 of it
            #expect(rows.count == 1)
            let row = try #require(rows.first)
            #expect(row.organizationID == organizationID && row.version == 1)
            #expect(row.wrappedKey.count == 12 + 32 + 16)
            #expect(row.masterKeyID == MasterKeyRing.keyID(of: app.meander.config.masterKey))
            #expect(row.masterKeyID.count == 16)
            for secret in [dataKey, masterKey] {
                #expect(!row.wrappedKey.containsBytes(secret))
                #expect(!row.wrappedKey.containsBytes(secret.prefix(8)))
                #expect(!row.masterKeyID.contains(CryptoFixtures.hex(secret.prefix(8))))
                #expect(!row.masterKeyID.contains(secret.base64EncodedString().prefix(12)))
            }
            // on SQLite, the whole database file (and its log) holds neither key nor the plaintext
            if let file = CryptoFixtures.sqliteFileBytes(app) {
                #expect(file.count > 0)
                #expect(!file.containsBytes(dataKey))
                #expect(!file.containsBytes(masterKey))
                #expect(!file.containsBytes(text))
                #expect(file.containsBytes(row.wrappedKey), "the dump is real: it holds the wrapped key")
            }
        }
    }

    @Test("twenty concurrent first seals of one organisation, on separate nodes, create exactly one data key")
    func concurrentFirstSealsCreateOneKey() async throws {
        try await withTestApp { app in
            // given
            let organizationID = try await CryptoFixtures.organization(app)
            let masterKey = app.meander.config.masterKey

            // when: every seal has its own cipher, as if on its own node, so none sees another's cache
            let sealed = try await withThrowingTaskGroup(of: CryptoFixtures.Sealed.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        let cipher = FieldCipher(masterKey: masterKey)
                        let context = CryptoFixtures.context(organizationID)
                        let plaintext = "verdi \(index)"
                        return CryptoFixtures.Sealed(
                            plaintext: plaintext, context: context,
                            envelope: try await cipher.seal(plaintext, context, on: app.db))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }

            // then
            let rows = try await CryptoFixtures.storedDataKeys(app)
            #expect(rows.count == 1)
            #expect(rows.map(\.version) == [1])
            #expect(sealed.count == 20)
            #expect(sealed.allSatisfy { FieldCipher.keyVersion(of: $0.envelope) == 1 })
            let reader = FieldCipher(masterKey: masterKey)
            for value in sealed {
                #expect(try await reader.open(value.envelope, value.context, on: app.db) == value.plaintext)
            }
        }
    }

    @Test("a data key created in a transaction that rolls back is not remembered")
    func rolledBackKeyIsForgotten() async throws {
        struct Rollback: Error {}
        try await withTestApp { app in
            // given
            let cipher = app.meander.cipher
            let organizationID = try await CryptoFixtures.organization(app)
            let context = CryptoFixtures.context(organizationID)

            // when
            await #expect(throws: Rollback.self) {
                try await app.db.transaction { transaction in
                    let envelope = try await cipher.seal("kladd", context, on: transaction)
                    #expect(try await cipher.open(envelope, context, on: transaction) == "kladd")
                    throw Rollback()
                }
            }
            let envelope = try await cipher.seal("lagret", context, on: app.db)

            // then the committed key is the one the value was sealed under: another node opens it
            #expect(try await CryptoFixtures.storedDataKeys(app).count == 1)
            let otherNode = FieldCipher(masterKey: app.meander.config.masterKey)
            #expect(try await otherNode.open(envelope, context, on: app.db) == "lagret")
        }
    }

    @Test("rotating a data key moves new writes to the next version and old values keep opening")
    func dataKeyRotation() async throws {
        try await withTestApp { app in
            // given
            let cipher = app.meander.cipher
            let organizationID = try await CryptoFixtures.organization(app)
            let context = CryptoFixtures.context(organizationID)
            let old = try await cipher.seal("før rotasjon", context, on: app.db)

            // when
            let version = try await cipher.rotateDataKey(organizationID: organizationID, on: app.db)
            let new = try await cipher.seal("etter rotasjon", context, on: app.db)

            // then
            #expect(version == 2)
            #expect(FieldCipher.keyVersion(of: old) == 1 && FieldCipher.keyVersion(of: new) == 2)
            let otherNode = FieldCipher(masterKey: app.meander.config.masterKey)
            #expect(try await otherNode.open(old, context, on: app.db) == "før rotasjon")
            #expect(try await otherNode.open(new, context, on: app.db) == "etter rotasjon")
            let rows = try await OrganizationDataKey.query(on: app.db).sort(\.$version).all()
            #expect(rows.map(\.version) == [1, 2])
            #expect(rows[0].retiredAt != nil && rows[1].retiredAt == nil)
            #expect(CryptoFixtures.hex(rows[0].wrappedKey) != CryptoFixtures.hex(rows[1].wrappedKey))
            let audit = try await CryptoFixtures.auditEntries(app, action: "keys.data_key_rotated")
            #expect(audit.count == 1 && audit.first?.organizationID == organizationID)
            #expect(audit.first?.metadata == JSONText.encode(["version": "2"]))
        }
    }

    @Test("table or column names that would make the bound context ambiguous are refused")
    func ambiguousContextIsRefused() async throws {
        try await withTestApp { app in
            // given
            let organizationID = try await CryptoFixtures.organization(app)
            let context = CryptoFixtures.context(organizationID, table: "contacts|notes", column: "x")

            // then
            await #expect(throws: FieldCipherError.invalidContext(table: "contacts|notes", column: "x")) {
                _ = try await app.meander.cipher.seal("tekst", context, on: app.db)
            }
            #expect(try await OrganizationDataKey.query(on: app.db).count() == 0)
        }
    }
}

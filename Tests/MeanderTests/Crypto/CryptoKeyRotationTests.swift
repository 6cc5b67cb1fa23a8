import Fluent
import FluentSQL
import Foundation
import Testing
import Vapor

@testable import Meander

/// Master key rotation: re-wrapping every data key under a new master key while the old one is still accepted,
/// `meander keys rotate` and `meander keys status`, and readers that never notice.
@Suite("Crypto: master key rotation")
struct CryptoKeyRotationTests {
    @Test("after rotating from master A to B every value opens with B alone, and A is reported unused")
    func masterRotation() async throws {
        let masterA = SecretKey.random()
        let masterB = SecretKey.random()
        let idA = MasterKeyRing.keyID(of: masterA)
        let idB = MasterKeyRing.keyID(of: masterB)
        try await withTestApp(configure: { $0.masterKey = masterA }) { app in
            // given 5 organisations with 5 values each, sealed under master A, and a node reconfigured with B as
            // the current master key and A as a previous one
            let sealed = try await CryptoFixtures.sealValues(app, cipher: app.meander.cipher, organizations: 5, perOrganization: 5)
            #expect(try await CryptoFixtures.storedDataKeys(app).allSatisfy { $0.masterKeyID == idA })

            try await CryptoFixtures.withSecondApp(
                of: app,
                configure: {
                    $0.masterKey = masterB
                    $0.previousMasterKeys = [masterA]
                }
            ) { rotated in
                let before = try await rotated.meander.cipher.keyStatus(on: rotated.db)

                // when
                var reported: [String] = []
                let summary = try await rotated.meander.cipher.rewrapDataKeys(on: rotated.db, batchSize: 2) {
                    reported.append("\($0)/\($1)")
                }
                let after = try await rotated.meander.cipher.keyStatus(on: rotated.db)
                let again = try await rotated.meander.cipher.rewrapDataKeys(on: rotated.db, batchSize: 2)

                // then
                #expect(
                    before.uses == [
                        .init(masterKeyID: idB, role: .current, dataKeys: 0), .init(masterKeyID: idA, role: .previous, dataKeys: 5),
                    ])
                #expect(before.retirablePreviousIDs.isEmpty && before.awaitingRewrap == 5)
                #expect(
                    summary
                        == FieldCipher.RewrapSummary(
                            currentMasterKeyID: idB, total: 5, alreadyCurrent: 0, toRewrap: 5, rewrapped: 5))
                #expect(summary.isComplete)
                #expect(reported == ["0/5", "2/5", "4/5", "5/5"])
                #expect(
                    after.uses == [
                        .init(masterKeyID: idB, role: .current, dataKeys: 5), .init(masterKeyID: idA, role: .previous, dataKeys: 0),
                    ])
                #expect(after.retirablePreviousIDs == [idA])
                #expect(again == FieldCipher.RewrapSummary(currentMasterKeyID: idB, total: 5, alreadyCurrent: 5))
                #expect(try await CryptoFixtures.storedDataKeys(rotated).allSatisfy { $0.masterKeyID == idB })
                // every value opens on the rotated node, through a cipher that has cached nothing
                let fresh = FieldCipher(masterKey: masterB, previousMasterKeys: [masterA])
                for value in sealed {
                    #expect(try await fresh.open(value.envelope, value.context, on: rotated.db) == value.plaintext)
                }
                // and the rotation is audited with counts, never key material
                let audit = try await CryptoFixtures.auditEntries(rotated, action: "keys.rotated")
                #expect(audit.count == 2)
                #expect(audit.allSatisfy { $0.client == .cli && $0.outcome == .success })
                let metadata = try #require(JSONText.decode([String: String].self, from: audit[0].metadata))
                #expect(metadata["rewrapped"] == "5" && metadata["total"] == "5" && metadata["master_key_id"] == idB)
                for key in [masterA, masterB] {
                    let encoded = Data(key.bytes).base64EncodedString()
                    #expect(!audit[0].metadata.contains(encoded) && !audit[0].metadata.contains(CryptoFixtures.hex(Data(key.bytes))))
                }
            }

            // then a node with only B opens everything
            try await CryptoFixtures.withSecondApp(
                of: app,
                configure: {
                    $0.masterKey = masterB
                    $0.previousMasterKeys = []
                }
            ) { onlyB in
                for value in sealed {
                    #expect(try await onlyB.meander.cipher.open(value.envelope, value.context, on: onlyB.db) == value.plaintext)
                }
                let status = try await onlyB.meander.cipher.keyStatus(on: onlyB.db)
                #expect(status.uses == [.init(masterKeyID: idB, role: .current, dataKeys: 5)])
            }

            // and a node with only A fails clearly, naming the master key it lacks
            try await CryptoFixtures.withSecondApp(
                of: app,
                configure: {
                    $0.masterKey = masterA
                    $0.previousMasterKeys = []
                }
            ) { onlyA in
                let value = try #require(sealed.first)
                let error = await #expect(throws: FieldCipherError.self) {
                    _ = try await onlyA.meander.cipher.open(value.envelope, value.context, on: onlyA.db)
                }
                #expect(error == .unknownMasterKey(masterKeyID: idB, organizationID: value.context.organizationID, version: 1))
                let message = error.map(String.init(describing:)) ?? ""
                #expect(message.contains(idB) && message.contains("MEANDER_MASTER_KEY_PREVIOUS"))
                #expect(!message.contains(value.plaintext))
            }
        }
    }

    @Test("readers on the rotating node never fail while the data keys are re-wrapped")
    func readersDuringRotation() async throws {
        let masterA = SecretKey.random()
        let masterB = SecretKey.random()
        try await withTestApp(configure: { $0.masterKey = masterA }) { app in
            // given
            let sealed = try await CryptoFixtures.sealValues(app, cipher: app.meander.cipher, organizations: 30, perOrganization: 1)

            try await CryptoFixtures.withSecondApp(
                of: app,
                configure: {
                    $0.masterKey = masterB
                    $0.previousMasterKeys = [masterA]
                }
            ) { rotated in
                // when: two readers open values in a loop, each read through a cipher with an empty cache (so it reads
                // the wrapped key and its master key id from the row every time), while the rotation runs one key per
                // batch
                let done = CryptoFlag()
                let results = try await withThrowingTaskGroup(of: (reads: Int, duringRotation: Int, failures: [String]).self) { group in
                    group.addTask {
                        let summary = try await rotated.meander.cipher.rewrapDataKeys(on: rotated.db, batchSize: 1)
                        await done.set()
                        return (summary.rewrapped, 0, summary.isComplete ? [] : ["rotation incomplete"])
                    }
                    for reader in 0..<2 {
                        group.addTask {
                            var reads = 0
                            var duringRotation = 0
                            var failures: [String] = []
                            var index = reader
                            while true {
                                let rotating = await !done.isSet
                                if !rotating && reads >= sealed.count { break }
                                let value = sealed[index % sealed.count]
                                index += 1
                                let cipher = FieldCipher(masterKey: masterB, previousMasterKeys: [masterA])
                                do {
                                    let opened = try await cipher.open(value.envelope, value.context, on: rotated.db)
                                    if opened != value.plaintext { failures.append("wrong text") }
                                } catch {
                                    failures.append(String(describing: error))
                                }
                                reads += 1
                                if rotating { duringRotation += 1 }
                            }
                            return (reads, duringRotation, failures)
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }

                // then
                #expect(results.flatMap(\.failures).isEmpty, "failures: \(results.flatMap(\.failures).prefix(3))")
                #expect(results.map(\.reads).reduce(0, +) >= 2 * sealed.count + 30)
                #expect(results.map(\.duringRotation).reduce(0, +) > 0, "some reads overlapped the rotation")
                let status = try await rotated.meander.cipher.keyStatus(on: rotated.db)
                #expect(status.retirablePreviousIDs == [MasterKeyRing.keyID(of: masterA)])
                #expect(status.awaitingRewrap == 0 && status.totalDataKeys == 30)
            }
        }
    }

    @Test("`meander keys rotate` prints progress per batch and a summary; `keys status` shows the old key unused")
    func cliRotateAndStatus() async throws {
        let masterA = SecretKey.random()
        let masterB = SecretKey.random()
        let idA = MasterKeyRing.keyID(of: masterA)
        let idB = MasterKeyRing.keyID(of: masterB)
        try await withTestApp(configure: { $0.masterKey = masterA }) { app in
            // given
            let sealed = try await CryptoFixtures.sealValues(app, cipher: app.meander.cipher, organizations: 5, perOrganization: 2)

            try await CryptoFixtures.withSecondApp(
                of: app,
                configure: {
                    $0.masterKey = masterB
                    $0.previousMasterKeys = [masterA]
                }
            ) { rotated in
                // when
                let before = CapturingConsole()
                try await AuditFixtures.run(rotated, ["keys", "status"], console: before)
                let rotation = CapturingConsole()
                try await AuditFixtures.run(rotated, ["keys", "rotate", "--batch-size", "2"], console: rotation)
                let after = CapturingConsole()
                try await AuditFixtures.run(rotated, ["keys", "status"], console: after)
                let rerun = CapturingConsole()
                try await AuditFixtures.run(rotated, ["keys", "rotate"], console: rerun)

                // then
                #expect(before.text.contains("master key \(idB) current: 0 data keys"))
                #expect(before.text.contains("master key \(idA) previous: 5 data keys (still in use: run `meander keys rotate`)"))
                #expect(before.text.contains("5 data key(s) still need `meander keys rotate`."))
                #expect(
                    rotation.text == """
                        current master key: \(idB)
                        re-wrapped 2/5 data keys
                        re-wrapped 4/5 data keys
                        re-wrapped 5/5 data keys
                        summary: 5 data keys; 5 re-wrapped now, 0 already under the current master key, 0 re-wrapped concurrently, 0 failed
                        done: every data key is under master key \(idB).

                        """)
                #expect(after.text.contains("master key \(idB) current: 5 data keys"))
                #expect(
                    after.text.contains("master key \(idA) previous: 0 data keys (unused: can be removed from MEANDER_MASTER_KEY_PREVIOUS)")
                )
                #expect(after.text.contains("all 5 data keys are under the current master key."))
                #expect(after.text.contains("retirable previous master keys: \(idA) (no data key uses them)"))
                #expect(rerun.text.contains("summary: 5 data keys; 0 re-wrapped now, 5 already under the current master key"))
                #expect(!rerun.text.contains("re-wrapped 0/"))
                for value in sealed {
                    #expect(try await rotated.meander.cipher.open(value.envelope, value.context, on: rotated.db) == value.plaintext)
                }
                #expect(try await CryptoFixtures.auditEntries(rotated, action: "keys.rotated").count == 2)
            }
        }
    }

    @Test("`meander keys rotate` fails clearly when a data key is under a master key that is configured nowhere")
    func cliRotateFailsOnUnknownMasterKey() async throws {
        let masterA = SecretKey.random()
        let masterB = SecretKey.random()
        let masterC = SecretKey.random()
        let idA = MasterKeyRing.keyID(of: masterA)
        try await withTestApp(configure: { $0.masterKey = masterA }) { app in
            // given data keys under A, and a node that knows C (current) and B (previous) but not A
            let sealed = try await CryptoFixtures.sealValues(app, cipher: app.meander.cipher, organizations: 3, perOrganization: 1)

            try await CryptoFixtures.withSecondApp(
                of: app,
                configure: {
                    $0.masterKey = masterC
                    $0.previousMasterKeys = [masterB]
                }
            ) { misconfigured in
                // when
                let console = CapturingConsole()
                let error = await #expect(throws: KeysRotateCommand.RotationIncomplete.self) {
                    try await AuditFixtures.run(misconfigured, ["keys", "rotate"], console: console)
                }
                let status = CapturingConsole()
                try await AuditFixtures.run(misconfigured, ["keys", "status"], console: status)

                // then
                #expect(error?.summary.unknownMasterKeys == [idA: 3])
                #expect(error?.summary.rewrapped == 0)
                #expect(
                    console.text.contains(
                        "ERROR: 3 data key(s) are wrapped under master key \(idA), which is neither MEANDER_MASTER_KEY nor in MEANDER_MASTER_KEY_PREVIOUS"
                    ))
                #expect(!console.text.contains("done:"))
                #expect(status.text.contains("master key \(idA) unknown: 3 data keys (NOT CONFIGURED: these data keys cannot be opened)"))
                #expect(status.text.contains("master key \(MasterKeyRing.keyID(of: masterB)) previous: 0 data keys (unused"))
                // nothing was changed, and the failed attempt is audited
                #expect(try await CryptoFixtures.storedDataKeys(misconfigured).allSatisfy { $0.masterKeyID == idA })
                let audit = try await CryptoFixtures.auditEntries(misconfigured, action: "keys.rotated")
                #expect(audit.count == 1 && audit.first?.outcome == .failure)
                // the values are still readable where A is known
                for value in sealed {
                    #expect(try await app.meander.cipher.open(value.envelope, value.context, on: app.db) == value.plaintext)
                }
            }
        }
    }

    @Test("`meander keys rotate-data-key` gives an organisation a new data key version")
    func cliRotateDataKey() async throws {
        try await withTestApp { app in
            // given
            let organizationID = try await CryptoFixtures.organization(app)
            let context = CryptoFixtures.context(organizationID)
            let old = try await app.meander.cipher.seal("gammel", context, on: app.db)

            // when
            let console = CapturingConsole()
            try await AuditFixtures.run(app, ["keys", "rotate-data-key", organizationID.uuidString], console: console)
            let new = try await app.meander.cipher.seal("ny", context, on: app.db)

            // then
            #expect(console.text.contains("now writes with data key version 2"))
            #expect(FieldCipher.keyVersion(of: new) == 2)
            #expect(try await app.meander.cipher.open(old, context, on: app.db) == "gammel")
            await #expect(throws: AppError.self) {
                try await AuditFixtures.run(app, ["keys", "rotate-data-key", UUID().uuidString], console: CapturingConsole())
            }
        }
    }
}

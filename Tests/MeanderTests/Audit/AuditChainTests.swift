import ConsoleKit
import Fluent
import FluentSQL
import Foundation
import PostgresNIO
import SQLiteNIO
import Testing
import Vapor

@testable import Meander

/// The tamper-evident audit chain: verification, the tamper suite, the append-only triggers, concurrent appends and
/// `meander audit verify`.
@Suite("Audit chain")
struct AuditChainTests {
    // MARK: - An untouched chain

    @Test("an untouched chain verifies with its entry count and head hash")
    func untouchedChainVerifies() async throws {
        try await withTestApp { app in
            // given
            let entries = try await AuditFixtures.chain(app, count: 10)

            // when
            let result = try await AuditChain.verify(on: app.db)

            // then
            #expect(result.isValid)
            #expect(result.entryCount == 10)
            #expect(result.headHash == entries.last?.hash)
            #expect(result.firstBadSequence == nil && result.problem == nil)
            #expect(entries.map(\.sequence) == Array(1...10))
            #expect(entries.first?.previousHash == AuditLogEntry.genesisHash)
            let checkpoint = try #require(try await AuditChainHead.find(AuditChainHead.singletonID, on: app.db))
            #expect(checkpoint.sequence == 10 && checkpoint.hash == entries.last?.hash)
        }
    }

    @Test("an empty chain is valid with no head")
    func emptyChainVerifies() async throws {
        try await withTestApp { app in
            // when
            let result = try await AuditChain.verify(on: app.db)

            // then
            #expect(result == .valid(count: 0, head: nil))
        }
    }

    @Test("verification streams in pages and still names the first bad entry across page boundaries")
    func verificationPages() async throws {
        try await withTestApp { app in
            // given
            let entries = try await AuditFixtures.chain(app, count: 10)
            var reported: [(Int64, Int64)] = []

            // when
            let valid = try await AuditChain.verify(on: app.db, pageSize: 3) { reported.append(($0, $1)) }
            try await AuditFixtures.disableAppendOnly(app)
            try await AuditFixtures.sql(app).update(AuditLogEntry.schema).set("action", to: "auth.logout")
                .where("sequence", .equal, 7).run()
            let broken = try await AuditChain.verify(on: app.db, pageSize: 3)

            // then
            #expect(valid.isValid && valid.entryCount == 10 && valid.headHash == entries.last?.hash)
            #expect(reported.map(\.0) == [3, 6, 9, 10])
            #expect(reported.allSatisfy { $0.1 == 10 })
            #expect(broken.firstBadSequence == 7)
            #expect(broken.problem == "hash mismatch: content changed")
        }
    }

    // MARK: - Tamper suite

    /// One edit of a hashed column of entry 4, made with SQL behind the application's back.
    enum ContentEdit: String, CaseIterable, Sendable {
        case action, createdAtByOneMillisecond, targetID, actorUserID, organizationID, targetType, outcome, client
        case storedHash

        func apply(to entry: AuditLogEntry, on sql: any SQLDatabase) async throws {
            let update = sql.update(AuditLogEntry.schema).where("sequence", .equal, entry.sequence)
            switch self {
            case .action: update.set("action", to: "auth.logout")
            case .createdAtByOneMillisecond: update.set("created_at", to: entry.createdAt.addingTimeInterval(0.001))
            case .targetID: update.set("target_id", to: UUID())
            case .actorUserID: update.set("actor_user_id", to: UUID())
            case .organizationID: update.set("organization_id", to: UUID())
            case .targetType: update.set("target_type", to: "session")
            case .outcome: update.set("outcome", to: "denied")
            case .client: update.set("client", to: "cli")
            case .storedHash: update.set("hash", to: String(repeating: "e", count: 64))
            }
            try await update.run()
        }
    }

    @Test("changing one hashed column names that entry", arguments: ContentEdit.allCases)
    func editedContentIsFound(_ edit: ContentEdit) async throws {
        try await withTestApp { app in
            // given
            let entries = try await AuditFixtures.chain(app, count: 10)
            try await AuditFixtures.disableAppendOnly(app)

            // when
            try await edit.apply(to: entries[3], on: AuditFixtures.sql(app))
            let result = try await AuditChain.verify(on: app.db)

            // then
            #expect(!result.isValid)
            #expect(result.firstBadSequence == 4)
            // (for the stored hash, entry 5's link breaks too, but entry 4 comes first)
            #expect(result.problem == "hash mismatch: content changed")
            #expect(result.entryCount == 10)
            #expect(result.headHash == nil)
        }
    }

    @Test("deleting a row in the middle names the missing sequence", arguments: [1, 5, 9] as [Int64])
    func deletedRowIsFound(_ sequence: Int64) async throws {
        try await withTestApp { app in
            // given
            _ = try await AuditFixtures.chain(app, count: 10)
            try await AuditFixtures.disableAppendOnly(app)

            // when
            try await AuditFixtures.sql(app).delete(from: AuditLogEntry.schema).where("sequence", .equal, sequence).run()
            let result = try await AuditChain.verify(on: app.db)

            // then
            #expect(result.firstBadSequence == sequence)
            #expect(result.problem == "gap: expected sequence \(sequence), found \(sequence + 1)")
        }
    }

    @Test("a forged row inserted in the middle, with a correct hash of its own, breaks the next link")
    func forgedRowInTheMiddleIsFound() async throws {
        try await withTestApp { app in
            // given
            let entries = try await AuditFixtures.chain(app, count: 10)
            try await AuditFixtures.disableAppendOnly(app)
            let sql = try AuditFixtures.sql(app)

            // when: entries 6…10 move to 7…11 and a forged entry 6 links correctly to entry 5
            try await sql.raw("UPDATE audit_log_entries SET sequence = sequence + 1000 WHERE sequence >= 6").run()
            try await sql.raw("UPDATE audit_log_entries SET sequence = sequence - 999 WHERE sequence >= 1006").run()
            try await AuditFixtures.forge(app, sequence: 6, previousHash: entries[4].hash)
            let result = try await AuditChain.verify(on: app.db)

            // then: the forgery itself is indistinguishable from a real entry without a secret; the first entry it
            // displaced no longer links to its predecessor
            #expect(result.firstBadSequence == 7)
            #expect(result.problem == "previous_hash does not match entry 6")
        }
    }

    @Test("a forged row appended at the tail with a correct hash is beyond the checkpoint")
    func forgedRowAtTheTailIsFound() async throws {
        try await withTestApp { app in
            // given
            let entries = try await AuditFixtures.chain(app, count: 10)

            // when: an INSERT needs no trigger bypass, only a plausible hash
            try await AuditFixtures.forge(app, sequence: 11, previousHash: entries[9].hash)
            let result = try await AuditChain.verify(on: app.db)

            // then
            #expect(result.firstBadSequence == 11)
            #expect(
                result.problem
                    == "entry 11 is beyond the checkpoint (sequence 10): it was not appended through the audit log")
        }
    }

    @Test("after a forged row beyond the checkpoint, appends are refused (503) instead of chaining on from it")
    func appendsStopAfterAForgedTail() async throws {
        try await withTestApp { app in
            // given: a forged entry 11 that links correctly to entry 10, written behind the log's back
            let entries = try await AuditFixtures.chain(app, count: 10)
            try await AuditFixtures.forge(app, sequence: 11, previousHash: entries[9].hash)

            // when
            let refused = await #expect(throws: AppError.self) {
                try await AuditLog.append(AuditEvent("auth.login", actorUserID: UUID()), on: app.db)
            }

            // then: nothing was written, the checkpoint did not move, and the forgery is still named
            #expect(refused?.code == .serviceUnavailable)
            #expect(refused?.detail == AuditLog.divergedMessage)
            #expect(try await AuditLogEntry.query(on: app.db).count() == 11)
            let checkpoint = try #require(try await AuditChainHead.find(AuditChainHead.singletonID, on: app.db))
            #expect(checkpoint.sequence == 10 && checkpoint.hash == entries[9].hash)
            #expect(try await AuditChain.verify(on: app.db).firstBadSequence == 11)
        }
    }

    @Test("without its checkpoint row the chain takes no appends")
    func appendsStopWithoutACheckpoint() async throws {
        try await withTestApp { app in
            // given
            _ = try await AuditFixtures.chain(app, count: 3)
            try await AuditFixtures.sql(app).delete(from: AuditChainHead.schema).run()

            // when
            let refused = await #expect(throws: AppError.self) {
                try await AuditLog.append(AuditEvent("auth.login", actorUserID: UUID()), on: app.db)
            }

            // then
            #expect(refused?.code == .serviceUnavailable)
            #expect(try await AuditLogEntry.query(on: app.db).count() == 3)
        }
    }

    @Test("each append records the hash the checkpoint moved on from")
    func checkpointKeepsThePreviousHash() async throws {
        try await withTestApp { app in
            // when
            let entries = try await AuditFixtures.chain(app, count: 2)

            // then: the entry returned is the one stored, and the checkpoint names both ends of its link
            let stored = try #require(try await AuditLogEntry.query(on: app.db).filter(\.$sequence == 2).first())
            #expect(stored.hash == entries[1].hash && stored.previousHash == entries[0].hash)
            #expect(AuditLog.hash(of: stored) == stored.hash)
            let checkpoint = try #require(try await AuditChainHead.find(AuditChainHead.singletonID, on: app.db))
            #expect(checkpoint.previousHash == entries[0].hash && checkpoint.hash == entries[1].hash)
        }
    }

    @Test("the newest row replaced by a forgery with a correct hash disagrees with the checkpoint")
    func replacedHeadIsFound() async throws {
        try await withTestApp { app in
            // given
            let entries = try await AuditFixtures.chain(app, count: 10)
            try await AuditFixtures.disableAppendOnly(app)

            // when
            try await AuditFixtures.sql(app).delete(from: AuditLogEntry.schema).where("sequence", .equal, 10).run()
            try await AuditFixtures.forge(app, sequence: 10, previousHash: entries[8].hash)
            let result = try await AuditChain.verify(on: app.db)

            // then
            #expect(result.firstBadSequence == 10)
            #expect(result.problem == "hash does not match the checkpoint: entry 10 was replaced")
        }
    }

    @Test("swapping the sequence numbers of two rows names the first of them")
    func reorderedRowsAreFound() async throws {
        try await withTestApp { app in
            // given
            _ = try await AuditFixtures.chain(app, count: 10)
            try await AuditFixtures.disableAppendOnly(app)
            let sql = try AuditFixtures.sql(app)

            // when
            try await sql.raw("UPDATE audit_log_entries SET sequence = 1000 WHERE sequence = 3").run()
            try await sql.raw("UPDATE audit_log_entries SET sequence = 3 WHERE sequence = 7").run()
            try await sql.raw("UPDATE audit_log_entries SET sequence = 7 WHERE sequence = 1000").run()
            let result = try await AuditChain.verify(on: app.db)

            // then
            #expect(result.firstBadSequence == 3)
            #expect(result.problem == "previous_hash does not match entry 2")
        }
    }

    @Test("deleting the newest rows names the first missing sequence", arguments: [1, 2, 10] as [Int64])
    func truncatedTailIsFound(_ deleted: Int64) async throws {
        try await withTestApp { app in
            // given
            _ = try await AuditFixtures.chain(app, count: 10)
            try await AuditFixtures.disableAppendOnly(app)

            // when
            try await AuditFixtures.sql(app).delete(from: AuditLogEntry.schema)
                .where("sequence", .greaterThan, 10 - deleted).run()
            let result = try await AuditChain.verify(on: app.db)

            // then
            let firstMissing = 10 - deleted + 1
            #expect(result.firstBadSequence == firstMissing)
            #expect(
                result.problem
                    == "missing: the chain ends at sequence \(firstMissing - 1) but the checkpoint records 10 "
                    + "(the newest entries were deleted)")
        }
    }

    @Test("a truncated tail stays visible after later appends")
    func truncationSurvivesLaterAppends() async throws {
        try await withTestApp { app in
            // given
            _ = try await AuditFixtures.chain(app, count: 10)
            try await AuditFixtures.disableAppendOnly(app)
            try await AuditFixtures.sql(app).delete(from: AuditLogEntry.schema)
                .where("sequence", .greaterThan, 8).run()

            // when
            let next = try await AuditLog.append(AuditEvent("auth.login"), on: app.db)
            let result = try await AuditChain.verify(on: app.db)

            // then: the log chains on from the checkpoint, so the deleted entries remain a gap
            #expect(next.sequence == 11)
            #expect(result.firstBadSequence == 9)
            #expect(result.problem == "gap: expected sequence 9, found 11")
        }
    }

    // SQLite cannot drop a table's inline UNIQUE constraint without rebuilding the table, so this runs where the
    // constraint can go: on PostgreSQL.
    @Test(
        "a repeated sequence is named, also where it straddles two pages",
        .enabled(if: TestEngine.current == .postgres, "needs the unique constraint dropped"),
        arguments: [3, 4, 100] as [Int])
    func repeatedSequenceIsFound(_ pageSize: Int) async throws {
        try await withTestApp { app in
            // given
            let entries = try await AuditFixtures.chain(app, count: 6)
            let sql = try AuditFixtures.sql(app)
            let constraints = try await sql.raw(
                """
                SELECT conname::text AS name FROM pg_constraint
                WHERE conrelid = 'audit_log_entries'::regclass AND contype = 'u'
                  AND pg_get_constraintdef(oid) LIKE '%(sequence)%'
                """
            ).all().map { try $0.decode(column: "name", as: String.self) }
            let constraint = try #require(constraints.first)
            try await sql.raw("ALTER TABLE audit_log_entries DROP CONSTRAINT \(ident: constraint)").run()

            // when: a second entry 3, linking correctly to entry 2
            try await AuditFixtures.forge(app, sequence: 3, previousHash: entries[1].hash)
            let result = try await AuditChain.verify(on: app.db, pageSize: pageSize)

            // then
            #expect(result.firstBadSequence == 3)
            #expect(result.problem == "sequence 3 appears twice")
        }
    }

    @Test("walking entries in order reports a repeated sequence, a gap, a broken link and changed content")
    func verifierNamesEachKindOfBreak() throws {
        // given
        let chain = AuditFixtures.inMemoryChain(count: 5)
        let duplicate = AuditFixtures.inMemoryEntry(sequence: 3, previousHash: chain[1].hash)
        let cases: [(entries: [AuditLogEntry], bad: Int64, problem: String)] = [
            (chain, 0, ""),
            (Array(chain[0..<3]) + [duplicate] + Array(chain[3...]), 3, "sequence 3 appears twice"),
            (Array(chain[0..<2]) + Array(chain[3...]), 3, "gap: expected sequence 3, found 4"),
            (Array(chain[1...]), 1, "gap: expected sequence 1, found 2"),
            (
                [AuditFixtures.inMemoryEntry(sequence: 1, previousHash: chain[0].hash)], 1,
                "previous_hash does not match the genesis hash"
            ),
        ]

        for (entries, bad, problem) in cases {
            // when
            var verifier = AuditChain.Verifier(total: Int64(entries.count))
            let broken = entries.lazy.compactMap { verifier.check($0) }.first

            // then
            if bad == 0 {
                #expect(broken == nil)
                #expect(verifier.count == 5)
            } else {
                #expect(broken?.firstBadSequence == bad, "\(problem)")
                #expect(broken?.problem == problem)
            }
        }

        // and a changed byte in memory is a hash mismatch
        let edited = AuditFixtures.inMemoryChain(count: 3)
        edited[1].action = "auth.logout"
        var verifier = AuditChain.Verifier(total: 3)
        let broken = edited.lazy.compactMap { verifier.check($0) }.first
        #expect(broken?.firstBadSequence == 2)
        #expect(broken?.problem == "hash mismatch: content changed")
    }

    // MARK: - Personal data stays outside the hash

    @Test("erasing IP, user agent and metadata keeps the chain valid")
    func erasurePreservesTheChain() async throws {
        try await withTestApp { app in
            // given
            let entries = try await AuditFixtures.chain(app, count: 5)
            #expect(entries.allSatisfy { $0.ip != nil && $0.userAgent != nil && $0.metadata != "{}" })
            try await AuditFixtures.disableAppendOnly(app)

            // when: a GDPR erasure of the personal data in the log
            try await AuditFixtures.sql(app).update(AuditLogEntry.schema)
                .set("ip", to: SQLLiteral.null).set("user_agent", to: SQLLiteral.null).set("metadata", to: "{}")
                .run()
            let result = try await AuditChain.verify(on: app.db)

            // then
            let erased = try await AuditLogEntry.query(on: app.db).all()
            #expect(erased.allSatisfy { $0.ip == nil && $0.userAgent == nil && $0.metadata == "{}" })
            #expect(result.isValid && result.entryCount == 5 && result.headHash == entries.last?.hash)
        }
    }

    // MARK: - Append-only in the database

    @Test("the database refuses UPDATE and DELETE on audit_log_entries")
    func triggersRefuseUpdateAndDelete() async throws {
        try await withTestApp { app in
            // given
            let entries = try await AuditFixtures.chain(app, count: 3)
            let sql = try AuditFixtures.sql(app)
            var statements: [String] = [
                "UPDATE audit_log_entries SET action = 'auth.logout' WHERE sequence = 2",
                "UPDATE audit_log_entries SET ip = NULL",
                "DELETE FROM audit_log_entries WHERE sequence = 3",
                "DELETE FROM audit_log_entries",
            ]
            if TestEngine.current == .postgres {
                statements.append("TRUNCATE audit_log_entries")
            }

            // when / then
            for statement in statements {
                await #expect(throws: (any Error).self, "\(statement)") {
                    try await sql.raw(SQLQueryString(statement)).run()
                }
                await #expect(
                    AuditFixtures.databaseMessage(of: { try await sql.raw(SQLQueryString(statement)).run() })
                        .contains("audit_log_entries is append-only"), "\(statement)")
            }
            await #expect(throws: (any Error).self) { try await entries[0].delete(on: app.db) }
            entries[1].action = "auth.logout"
            await #expect(throws: (any Error).self) { try await entries[1].save(on: app.db) }

            // and nothing changed, while appending still works
            let stored = try await AuditLogEntry.query(on: app.db).sort(\.$sequence).all()
            #expect(stored.map(\.hash) == entries.map(\.hash))
            #expect(stored.allSatisfy { $0.ip != nil })
            try await AuditLog.append(AuditEvent("auth.logout"), on: app.db)
            let result = try await AuditChain.verify(on: app.db)
            #expect(result.isValid && result.entryCount == 4)
        }
    }

    @Test("reverting the append-only migration drops its triggers, and migrating again restores them")
    func appendOnlyMigrationReverts() async throws {
        try await withTestApp { app in
            // given
            _ = try await AuditFixtures.chain(app, count: 2)
            let sql = try AuditFixtures.sql(app)

            // when
            try await UpdateAuditLogEntryAppendOnly().revert(on: app.db)
            try await sql.raw("UPDATE audit_log_entries SET ip = NULL WHERE sequence = 1").run()
            try await UpdateAuditLogEntryAppendOnly().prepare(on: app.db)

            // then
            await #expect(throws: (any Error).self) {
                try await sql.raw("UPDATE audit_log_entries SET ip = NULL WHERE sequence = 2").run()
            }
            #expect(try await AuditChain.verify(on: app.db).isValid)
        }
    }

    // MARK: - Concurrent appends

    @Test("100 concurrent appends make 100 gapless entries that verify")
    func concurrentAppendsStayLinear() async throws {
        try await withTestApp { app in
            // when
            let gate = AppendGate.forPool(of: app)
            try await withThrowingTaskGroup(of: AuditLogEntry.self) { group in
                for index in 0..<100 {
                    group.addTask {
                        try await gate.run {
                            try await AuditLog.append(
                                AuditEvent("test.concurrent", targetType: "task", targetID: UUID(), metadata: ["i": "\(index)"]),
                                on: app.db)
                        }
                    }
                }
                try await group.waitForAll()
            }

            // then
            let entries = try await AuditLogEntry.query(on: app.db).sort(\.$sequence).all()
            #expect(entries.map(\.sequence) == Array(1...100))
            #expect(Set(entries.map(\.hash)).count == 100)
            let result = try await AuditChain.verify(on: app.db)
            #expect(result.isValid)
            #expect(result.entryCount == 100)
            #expect(result.headHash == entries.last?.hash)
        }
    }

    // Two nodes are supported on PostgreSQL only: the append lock there is a transaction-scoped advisory lock that
    // every node shares. On SQLite appends queue on the database's single write lock, and an SQLite file is served
    // by one process, so one node is the supported SQLite deployment.
    @Test(
        "appends racing from two application instances on one database stay one valid chain",
        .enabled(if: TestEngine.current == .postgres, "two nodes are a PostgreSQL deployment"))
    func twoInstancesShareTheChain() async throws {
        try await withTestApp { app in
            // given a second node on the same database
            let second = try await Application.make(.testing)
            second.logger.logLevel = .warning
            do {
                try await configure(second, config: app.meander.config)

                // when
                let gates = [AppendGate.forPool(of: app), AppendGate.forPool(of: second)]
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<100 {
                        let (node, gate) = index.isMultiple(of: 2) ? (app, gates[0]) : (second, gates[1])
                        group.addTask {
                            _ = try await gate.run {
                                try await AuditLog.append(AuditEvent("test.two_nodes", metadata: ["i": "\(index)"]), on: node.db)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            } catch {
                try? await second.asyncShutdown()
                throw error
            }
            try await second.asyncShutdown()

            // then
            let sequences = try await AuditLogEntry.query(on: app.db).sort(\.$sequence).all(\.$sequence)
            #expect(sequences == Array(1...100))
            let result = try await AuditChain.verify(on: app.db)
            #expect(result.isValid && result.entryCount == 100)
        }
    }

    // Reading while another connection commits can meet SQLITE_BUSY (no busy timeout is set), so this race runs on
    // PostgreSQL, the engine with concurrent readers and writers.
    @Test(
        "verifying while entries are appended never reports a false break",
        .enabled(if: TestEngine.current == .postgres, "concurrent readers and writers"))
    func verificationDuringAppendsIsValid() async throws {
        try await withTestApp { app in
            // given
            _ = try await AuditFixtures.chain(app, count: 10)

            // when
            // leave connections for the verifications
            let gate = AppendGate(width: max(2, AppendGate.forPool(of: app).width / 2))
            let results = try await withThrowingTaskGroup(of: AuditChain.Result?.self) { group in
                for _ in 0..<100 {
                    group.addTask {
                        _ = try await gate.run { try await AuditLog.append(AuditEvent("test.during_verify"), on: app.db) }
                        return nil
                    }
                }
                for _ in 0..<10 {
                    group.addTask { try await AuditChain.verify(on: app.db, pageSize: 7) }
                }
                return try await group.reduce(into: [AuditChain.Result]()) { if let result = $1 { $0.append(result) } }
            }

            // then
            #expect(results.count == 10)
            for result in results {
                #expect(result.isValid, "\(result.problem ?? "")")
            }
            let final = try await AuditChain.verify(on: app.db)
            #expect(final.isValid && final.entryCount == 110)
        }
    }

    // MARK: - meander audit verify

    @Test("`meander audit verify` prints the count and head of a valid chain")
    func cliVerifiesValidChain() async throws {
        try await withTestApp { app in
            // given
            let entries = try await AuditFixtures.chain(app, count: 4)

            // when
            let console = CapturingConsole()
            try await AuditFixtures.run(app, ["audit", "verify"], console: console)

            // then
            let head = try #require(entries.last?.hash)
            #expect(console.text.contains("valid: 4 entries, head \(head)"))
            #expect(!console.text.contains("INVALID"))
        }
    }

    @Test("`meander audit verify` names the first bad sequence and fails on a tampered chain")
    func cliReportsTamperedChain() async throws {
        try await withTestApp { app in
            // given
            _ = try await AuditFixtures.chain(app, count: 6)
            try await AuditFixtures.disableAppendOnly(app)
            try await AuditFixtures.sql(app).delete(from: AuditLogEntry.schema).where("sequence", .equal, 2).run()

            // when
            let console = CapturingConsole()
            let error = await #expect(throws: AuditVerifyCommand.ChainInvalid.self) {
                try await AuditFixtures.run(app, ["audit", "verify"], console: console)
            }

            // then
            #expect(error?.sequence == 2)
            #expect(console.text.contains("INVALID at sequence 2: gap: expected sequence 2, found 3"))
            #expect(!console.text.contains("valid: "))
        }
    }

    @Test("`meander audit --help` explains the verify subcommand")
    func cliHelpExplainsVerify() async throws {
        try await withTestApp { app in
            // when
            let console = CapturingConsole()
            try await AuditFixtures.run(app, ["audit", "--help"], console: console)
            let verifyConsole = CapturingConsole()
            try await AuditFixtures.run(app, ["audit", "verify", "--help"], console: verifyConsole)

            // then
            #expect(console.text.contains("verify"))
            #expect(console.text.contains("audit log"))
            #expect(verifyConsole.text.contains("previous_hash"))
        }
    }
}

// MARK: - Fixtures

/// Builders and tampering tools for audit tests.
enum AuditFixtures {
    static let start = Date(timeIntervalSince1970: 1_767_261_600)  // 2026-01-01T10:00:00Z

    /// Appends `count` entries through `AuditLog`, one minute apart, with IP, user agent and metadata.
    @discardableResult
    static func chain(
        _ app: Application, count: Int, organizationID: UUID? = nil, actions: [String] = ["auth.login", "auth.refresh"]
    ) async throws -> [AuditLogEntry] {
        var entries: [AuditLogEntry] = []
        let offset = try await AuditLogEntry.query(on: app.db).count()
        for index in 0..<count {
            let event = AuditEvent(
                actions[index % actions.count], actorUserID: UUID(), sessionID: UUID(), organizationID: organizationID,
                targetType: "user", targetID: UUID(), ip: "192.0.2.\(index + 1)", userAgent: "MeanderTest/\(index)",
                metadata: ["attempt": "\(index)"])
            entries.append(
                try await AuditLog.append(
                    event, on: app.db, at: start.addingTimeInterval(Double(offset + index) * 60)))
        }
        return entries
    }

    /// Inserts an entry with a correct hash over a forged content, as someone with INSERT rights could.
    static func forge(_ app: Application, sequence: Int64, previousHash: String) async throws {
        try await inMemoryEntry(sequence: sequence, previousHash: previousHash).create(on: app.db)
    }

    /// An entry whose hash is correct for its content and `previousHash`.
    static func inMemoryEntry(sequence: Int64, previousHash: String, action: String = "role.granted") -> AuditLogEntry {
        let entry = AuditLogEntry(
            sequence: sequence, createdAt: start.addingTimeInterval(Double(sequence) * 60), action: action,
            outcome: .success, client: .portal, actorUserID: UUID(), targetType: "user", targetID: UUID(),
            previousHash: previousHash, hash: "")
        entry.hash = AuditLog.hash(of: entry)
        return entry
    }

    /// A correctly linked chain that never touches a database.
    static func inMemoryChain(count: Int) -> [AuditLogEntry] {
        var entries: [AuditLogEntry] = []
        for sequence in 1...Int64(count) {
            entries.append(
                inMemoryEntry(sequence: sequence, previousHash: entries.last?.hash ?? AuditLogEntry.genesisHash))
        }
        return entries
    }

    static func sql(_ app: Application) throws -> any SQLDatabase {
        try app.db.sqlDatabase()
    }

    /// Lets raw SQL change `audit_log_entries` and `bufdir_export_audits`, as an attacker with schema rights (or an
    /// erasure job) would: SQLite drops the triggers, PostgreSQL disables them.
    static func disableAppendOnly(_ app: Application) async throws {
        switch TestEngine.current {
        case .sqlite:
            try await UpdateAuditLogEntryAppendOnly().revert(on: app.db)
            try await AppendOnlyTable.remove(from: BufdirExportAudit.schema, app.db)
        case .postgres:
            try await sql(app).raw("ALTER TABLE audit_log_entries DISABLE TRIGGER USER").run()
            try await sql(app).raw("ALTER TABLE bufdir_export_audits DISABLE TRIGGER USER").run()
        }
    }

    /// The database's own message for the error `write` throws (empty when it does not throw).
    static func databaseMessage(of write: () async throws -> Void) async -> String {
        do {
            try await write()
            return ""
        } catch let error as SQLiteError {
            return error.message
        } catch let error as PSQLError {
            return error.serverInfo?[.message] ?? String(reflecting: error)
        } catch {
            return String(reflecting: error)
        }
    }

    /// Runs `meander <arguments>` through the application's registered commands.
    static func run(_ app: Application, _ arguments: [String], console: CapturingConsole) async throws {
        var context = CommandContext(console: console, input: CommandInput(arguments: ["meander"] + arguments))
        context.application = app
        try await console.run(app.asyncCommands.group(), with: context)
    }
}

/// A console that keeps everything written to it.
final class CapturingConsole: Console, @unchecked Sendable {
    private let lock = NSLock()
    private var output = ""
    private var info: [AnySendableHashable: any Sendable] = [:]

    var text: String { lock.withLock { output } }

    var size: (width: Int, height: Int) { (120, 40) }
    var supportsANSICommands: Bool { false }

    var userInfo: [AnySendableHashable: any Sendable] {
        get { lock.withLock { info } }
        set { lock.withLock { info = newValue } }
    }

    func input(isSecure: Bool) -> String { "" }

    func output(_ text: ConsoleText, newLine: Bool) {
        lock.withLock { output += text.description + (newLine ? "\n" : "") }
    }

    func clear(_ type: ConsoleClear) {}

    func report(error: String, newLine: Bool) {
        lock.withLock { output += error + (newLine ? "\n" : "") }
    }
}

/// Lets at most `width` racing appends hold a database connection at once.
///
/// On PostgreSQL an append waits for the advisory lock while holding a pooled connection, so 100 appends at once
/// queue for the pool as well, and on a loaded machine (the whole suite in parallel) the last ones exceed the pool's
/// 10 s request timeout. The pool never lets more than its size run at once anyway; gating at that size keeps every
/// connection racing for the lock without timing out in the pool's queue. SQLite's appends queue on a process lock
/// before they take a connection, so they all race ungated.
actor AppendGate {
    let width: Int
    private var running = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(width: Int) {
        self.width = width
    }

    /// A gate as wide as one event loop's pool, or unbounded on SQLite. Requests are spread over the loops
    /// round-robin, not evenly, so a wider gate can still queue a connection request on one loop's pool behind
    /// appends that wait for the chain lock, and time out on a loaded machine.
    static func forPool(of app: Application) -> AppendGate {
        guard TestEngine.current == .postgres else { return AppendGate(width: .max) }
        return AppendGate(width: max(2, app.meander.config.databasePoolSize))
    }

    func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        if running >= width {
            await withCheckedContinuation { waiters.append($0) }
        } else {
            running += 1
        }
        defer {
            if waiters.isEmpty {
                running -= 1
            } else {
                waiters.removeFirst().resume()
            }
        }
        return try await body()
    }
}

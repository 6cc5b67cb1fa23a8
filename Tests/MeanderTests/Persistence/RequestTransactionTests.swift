import FluentKit
import FluentSQL
import Foundation
import Testing

@testable import Meander

/// `Database.requestTransaction`: one transaction on one connection on PostgreSQL, the writes' own locking on SQLite.
@Suite("Request transaction")
struct RequestTransactionTests {
    private struct Stop: Error {}

    @Test("prepared statements and Fluent share the transaction: an error undoes both (PostgreSQL); SQLite keeps them")
    func anErrorUndoesTheRequestsWrites() async throws {
        try await withTestApp { app in
            // given
            let tree = try await IdentityFixtures.tree(app)
            let chapterID = try tree.chapterA1.requireID()
            _ = try await AuditFixtures.chain(app, count: 2)

            // when: a prepared read, a Fluent write and a prepared write (the audit append), then an error
            await #expect(throws: Stop.self) {
                try await app.db.requestTransaction { db in
                    let lineage = try await OrganizationTree.lineage(of: chapterID, on: db)
                    #expect(lineage.count == 3)
                    try await Organization(name: "Ny lokallag", kind: .local, parentID: chapterID).create(on: db)
                    try await AuditLog.append(AuditEvent("organization.created"), on: db)
                    // the transaction's own statements see its writes
                    #expect(try await Organization.query(on: db).filter(\.$name == "Ny lokallag").count() == 1)
                    throw Stop()
                }
            }

            // then
            let kept = try await Organization.query(on: app.db).filter(\.$name == "Ny lokallag").count()
            let verified = try await AuditChain.verify(on: app.db)
            #expect(verified.isValid)
            switch TestEngine.current {
            case .postgres:
                #expect(kept == 0)
                #expect(verified.entryCount == 2)
            case .sqlite:
                #expect(kept == 1)
                #expect(verified.entryCount == 3)
            }
        }
    }

    @Test(
        "on PostgreSQL every statement of the body runs on one backend, inside a transaction",
        .enabled(if: TestEngine.current == .postgres, "SQLite runs the body without a transaction"))
    func oneConnection() async throws {
        try await withTestApp { app in
            // given
            let tree = try await IdentityFixtures.tree(app)
            let chapterID = try tree.chapterA1.requireID()

            // when: three rounds of a prepared statement and a plain query, a little apart
            let seen = try await app.db.requestTransaction { db in
                var seen: [(pid: Int, started: Date)] = []
                for _ in 0..<3 {
                    _ = try await OrganizationTree.lineage(of: chapterID, on: db)
                    let row = try await db.sqlDatabase().raw("SELECT pg_backend_pid() AS pid, now() AS started").first()
                    let found = try #require(row)
                    seen.append((try found.decode(column: "pid", as: Int.self), try found.decode(column: "started", as: Date.self)))
                    try await Task.sleep(for: .milliseconds(20))
                }
                return seen.map { "\($0.pid) \($0.started.timeIntervalSince1970)" }
            }

            // then: one backend, and one transaction (`now()` is the transaction's start, the same in every statement)
            #expect(seen.count == 3)
            #expect(Set(seen).count == 1)
        }
    }

    @Test("a data key made inside a request transaction is cached after it commits, never after a rollback")
    func dataKeysAreTrustedAfterTheCommit() async throws {
        try await withTestApp { app in
            // given: two organisations without data keys
            let cipher = app.meander.cipher
            let committed = Organization(name: "Nytt lag", kind: .local)
            let rolledBack = Organization(name: "Angret lag", kind: .local)
            try await committed.create(on: app.db)
            try await rolledBack.create(on: app.db)
            let committedContext = FieldContext(
                organizationID: try committed.requireID(), table: "activities", column: "summary_ciphertext", rowID: UUID())
            let rolledBackContext = FieldContext(
                organizationID: try rolledBack.requireID(), table: "activities", column: "summary_ciphertext", rowID: UUID())

            // when: one request makes the key, the next one reads it (both inside request transactions)
            for _ in 0..<2 {
                _ = try await app.db.requestTransaction { db in
                    try await cipher.seal("Besøk", committedContext, on: db)
                }
            }
            await #expect(throws: Stop.self) {
                try await app.db.requestTransaction { db in
                    _ = try await cipher.seal("Besøk", rolledBackContext, on: db)
                    throw Stop()
                }
            }

            // then: the committed key is trusted from the next read on, so later seals read nothing; the rolled-back
            // one is not cached
            #expect(cipher.cachedNewest(of: try committed.requireID()) != nil)
            let keys = try await OrganizationDataKey.query(on: app.db)
                .filter(\.$organization.$id == (try rolledBack.requireID())).count()
            switch TestEngine.current {
            case .postgres:
                #expect(cipher.cachedNewest(of: try rolledBack.requireID()) == nil)
                #expect(keys == 0)
            case .sqlite:
                // no transaction on SQLite: the key was committed at once
                #expect(cipher.cachedNewest(of: try rolledBack.requireID()) != nil)
                #expect(keys == 1)
            }
        }
    }
}

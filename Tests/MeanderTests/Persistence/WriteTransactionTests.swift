import FluentKit
import Foundation
import Testing
import Vapor

@testable import Meander

/// `Database.writeTransaction`: the handlers' write transactions.
@Suite("Write transaction")
struct WriteTransactionTests {
    @Test("a transaction that reads first still writes when another connection wrote in between, outside the lock")
    func readThenWriteAfterAnOutsideWrite() async throws {
        try await withTestApp { app in
            // given: two connections (SQLite keeps one per event loop), and a tree to add to
            let loops = Array(app.eventLoopGroup.makeIterator())
            try #require(loops.count >= 2)
            let inside = app.databases.database(logger: app.logger, on: loops[0])
            let outside = app.databases.database(logger: app.logger, on: loops[1])
            let tree = try await IdentityFixtures.tree(app)
            let chapterID = try tree.chapterA1.requireID()

            // when: the transaction reads; a write that takes no lock of ours (as a background job's progress
            // update does) is started on the other connection; then the transaction writes
            let outsideWrite = try await #require(inside).writeTransaction { db -> Task<Void, any Error> in
                _ = try await Organization.query(on: db).count()
                let write = Task {
                    try await Organization(name: "Utenfra", kind: .local, parentID: chapterID).create(on: #require(outside))
                }
                try await Task.sleep(for: .milliseconds(300))
                try await Organization(name: "Innenfra", kind: .local, parentID: chapterID).create(on: db)
                return write
            }
            try await outsideWrite.value

            // then: both writes are kept (on SQLite the outside one waited for the transaction's write lock)
            let names = try await Organization.query(on: app.db).filter(\.$name ~~ ["Utenfra", "Innenfra"]).all().map(\.name)
            #expect(names.sorted() == ["Innenfra", "Utenfra"])
        }
    }
}

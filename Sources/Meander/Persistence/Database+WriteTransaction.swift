import FluentKit
import FluentSQL
import Foundation

extension Database {
    /// The write transaction of every capability: identity (rotation, sign-in bookkeeping, revocations, password
    /// changes), tenant data (contacts, activities, attachments, activity types), reports and the audit log.
    ///
    /// On PostgreSQL this is a plain transaction: row locks and conditional updates do the work. On SQLite (one
    /// process, one writer at a time) the writes also take a process-wide lock first. SQLite would serialise them
    /// anyway, but by making the waiting connection spin in its busy handler on one of the few blocking-pool threads
    /// that every connection shares, which under a burst (200 refreshes of one token) can starve the very
    /// connection holding the lock. Waiting here costs nothing and holds no connection.
    ///
    /// On SQLite the transaction's first statement is a write that changes nothing, so that it holds the write lock
    /// from the start. A transaction that reads first and writes later would otherwise fail at its first write with
    /// `SQLITE_BUSY_SNAPSHOT` ("database is locked", with no busy wait) whenever a write outside this lock, such as a
    /// background job's progress update, committed in between.
    ///
    /// Call it only where no transaction is open yet (from a handler or service entry point), never inside one: the
    /// lock is taken before a connection is.
    func writeTransaction<T: Sendable>(_ body: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        guard (self as? any SQLDatabase)?.dialect.name == "sqlite", !inTransaction else {
            return try await transaction(body)
        }
        return try await SQLiteWriteLock.sqlite.withLock {
            try await self.transaction { transaction in
                try await transaction.sqlDatabase().raw(SQLiteWriteLock.takeWriteLock).run()
                return try await body(transaction)
            }
        }
    }
}

/// The process-wide lock behind `writeTransaction` on SQLite.
extension Database {
    /// A single write statement outside any transaction (a job claim, a heartbeat): on SQLite it takes the same
    /// process-wide lock as `writeTransaction` first, so that it waits here rather than in SQLite's busy handler on a
    /// blocking-pool thread (see `writeTransaction`). Inside a transaction, or on PostgreSQL, it just runs.
    func serializedWrite<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        guard (self as? any SQLDatabase)?.dialect.name == "sqlite", !inTransaction else { return try await body() }
        return try await SQLiteWriteLock.sqlite.withLock { try await body() }
    }
}

enum SQLiteWriteLock {
    static let sqlite = AsyncLock()
    /// A write that matches no row: SQLite takes the write lock for it all the same (waiting in its busy handler if
    /// another connection holds it), and keeps it until the transaction ends.
    static let takeWriteLock: SQLQueryString = "UPDATE audit_chain_heads SET sequence = sequence WHERE 0 = 1"
}

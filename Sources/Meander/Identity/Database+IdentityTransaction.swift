import FluentKit
import FluentSQL
import Foundation

extension Database {
    /// A write transaction started by a handler: the identity writes (rotation, sign-in bookkeeping, revocations,
    /// password changes) and the tenant-data writes (contacts, activities, attachments, activity types).
    ///
    /// On PostgreSQL this is a plain transaction: row locks and conditional updates do the work. On SQLite (one
    /// process, one writer at a time) the writes also take a process-wide lock first. SQLite would serialise them
    /// anyway, but by making the waiting connection spin in its busy handler on one of the few blocking-pool threads
    /// that every connection shares, which under a burst (200 refreshes of one token) can starve the very
    /// connection holding the lock. Waiting here costs nothing and holds no connection.
    ///
    /// Call it only where no transaction is open yet (from a handler or service entry point), never inside one: the
    /// lock is taken before a connection is.
    func identityTransaction<T: Sendable>(_ body: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        guard (self as? any SQLDatabase)?.dialect.name == "sqlite", !inTransaction else {
            return try await transaction(body)
        }
        return try await IdentityWriteLock.sqlite.withLock {
            try await self.transaction(body)
        }
    }
}

/// The process-wide lock behind `identityTransaction` on SQLite.
enum IdentityWriteLock {
    static let sqlite = AsyncLock()
}

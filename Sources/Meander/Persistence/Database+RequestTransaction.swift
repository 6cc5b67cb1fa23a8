import FluentKit
import FluentSQL
import NIOConcurrencyHelpers

extension Database {
    /// Runs the statements of one request on one connection.
    ///
    /// On PostgreSQL `body` runs in one transaction, so the request checks out one pooled connection and keeps it,
    /// instead of checking one out per statement. On the activity-logging path that was most of the app's cost
    /// per statement (scripts/bench-activities). Writes inside `body` that open their own transaction
    /// (`writeTransaction`, `AuditLog.append`) join this one. Any error rolls it all back.
    ///
    /// On SQLite `body` runs as is. Its writes take the process-wide write lock themselves (`writeTransaction`).
    /// A transaction that read first and wrote later could fail to become a writer there.
    ///
    /// Code inside can ask for work to be done once the transaction has committed (`AfterCommit`).
    ///
    /// Call it from a handler, where no transaction is open yet.
    func requestTransaction<T: Sendable>(_ body: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        guard (self as? any SQLDatabase)?.dialect.name == "postgresql", !inTransaction else {
            return try await body(self)
        }
        let afterCommit = AfterCommit()
        // Bound inside: Fluent runs the body in a task of its own, which does not inherit task-local values.
        let result = try await transaction { db in
            try await AfterCommit.$current.withValue(afterCommit) { try await body(db) }
        }
        afterCommit.run()
        return result
    }
}

/// Work that may only happen once a `requestTransaction` has committed, such as trusting a row it inserted.
final class AfterCommit: Sendable {
    /// The request transaction the current task runs in, if any.
    @TaskLocal static var current: AfterCommit?

    private let actions = NIOLockedValueBox<[@Sendable () -> Void]>([])

    func append(_ action: @escaping @Sendable () -> Void) {
        actions.withLockedValue { $0.append(action) }
    }

    fileprivate func run() {
        for action in actions.withLockedValue({ $0 }) {
            action()
        }
    }
}

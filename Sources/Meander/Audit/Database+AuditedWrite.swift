import FluentKit
import Foundation

extension Database {
    /// A state change and its audit entry, in one write transaction (`writeTransaction`): both commit, or neither
    /// does. Every service that changes state writes through this or `auditedWrite(clock:_:)`.
    ///
    /// The entry is dated by `clock` (the app's), when given.
    @discardableResult
    func auditedWrite<T: Sendable>(
        _ event: AuditEvent, clock: AppClock? = nil, _ write: @escaping @Sendable (any Database) async throws -> T
    ) async throws -> T {
        try await auditedWrite(clock: clock) { transaction in (try await write(transaction), event) }
    }

    /// A state change whose audit entry depends on what it did: `write` returns its result and the event to append,
    /// or `nil` when nothing changed (a conditional update that lost its race), and then nothing is appended.
    @discardableResult
    func auditedWrite<T: Sendable>(
        clock: AppClock? = nil, _ write: @escaping @Sendable (any Database) async throws -> (T, AuditEvent?)
    ) async throws -> T {
        try await writeTransaction { transaction in
            let (result, event) = try await write(transaction)
            if var event {
                if let clock { event.clock = clock }
                try await AuditLog.append(event, on: transaction)
            }
            return result
        }
    }
}

extension AuditEvent {
    /// The same event, dated by `clock` when it is appended.
    func dated(by clock: AppClock) -> AuditEvent {
        var copy = self
        copy.clock = clock
        return copy
    }
}

import FluentKit
import FluentSQL
import Foundation

extension Session {
    /// Whether the session can still be used at `now`: not revoked, before its absolute expiry and not idle for
    /// longer than `idleTimeout`.
    func isLive(at now: Date, idleTimeout: TimeInterval) -> Bool {
        revokedAt == nil && expiresAt > now && lastSeenAt.addingTimeInterval(idleTimeout) > now
    }

    /// Ends a session and every refresh token in it. Idempotent: a session already revoked keeps its first time and
    /// reason. Returns whether this call revoked it (so that callers audit a revocation once).
    ///
    /// Starts with a write, so that it is safe as the first statement of an SQLite transaction that reads later.
    @discardableResult
    static func revoke(
        _ session: Session, reason: Session.RevocationReason, on db: any Database, at now: Date = Date()
    ) async throws -> Bool {
        let revoked = try await revoke(id: try session.requireID(), reason: reason, on: db, at: now)
        if revoked {
            session.revokedAt = now
            session.revokedReason = reason
        }
        return revoked
    }

    /// Ends the session with this id and every refresh token in it; see `revoke(_:reason:on:at:)`.
    @discardableResult
    static func revoke(
        id sessionID: UUID, reason: Session.RevocationReason, on db: any Database, at now: Date = Date()
    ) async throws -> Bool {
        try await db.transaction { transaction in
            let sql = try transaction.sqlDatabase()
            let rows = try await sql.raw(
                """
                UPDATE sessions SET revoked_at = \(bind: now), revoked_reason = \(bind: reason.rawValue)
                WHERE id = \(bind: sessionID) AND revoked_at IS NULL
                RETURNING id
                """
            ).all()
            try await sql.raw(
                """
                UPDATE refresh_tokens SET revoked_at = \(bind: now)
                WHERE session_id = \(bind: sessionID) AND revoked_at IS NULL
                """
            ).run()
            return !rows.isEmpty
        }
    }

    /// Ends every live session of a user, except `keptSessionID` (the caller's own, after a password change), with
    /// all their refresh tokens. Returns the ids of the sessions this call revoked.
    @discardableResult
    static func revokeAll(
        ofUser userID: UUID, except keptSessionID: UUID? = nil, reason: Session.RevocationReason,
        on db: any Database, at now: Date = Date()
    ) async throws -> [UUID] {
        try await db.transaction { transaction in
            let sql = try transaction.sqlDatabase()
            let kept: SQLQueryString = keptSessionID.map { " AND id <> \(bind: $0)" } ?? ""
            let revoked = try await sql.raw(
                """
                UPDATE sessions SET revoked_at = \(bind: now), revoked_reason = \(bind: reason.rawValue)
                WHERE user_id = \(bind: userID) AND revoked_at IS NULL\(kept)
                RETURNING id
                """
            ).all(decodingColumn: "id", as: UUID.self)
            try await sql.raw(
                """
                UPDATE refresh_tokens SET revoked_at = \(bind: now)
                WHERE revoked_at IS NULL
                    AND session_id IN (SELECT id FROM sessions WHERE user_id = \(bind: userID)\(kept))
                """
            ).run()
            return revoked
        }
    }
}

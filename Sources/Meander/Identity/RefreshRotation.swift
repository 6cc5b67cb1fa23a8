import FluentKit
import FluentSQL
import Foundation

/// Spends a refresh token and issues its successor, exactly once, however many requests race with the same token.
///
/// - The token is spent by one conditional update (`… WHERE used_at IS NULL AND revoked_at IS NULL RETURNING id`):
///   of any number of concurrent requests, on any number of app instances, exactly one sees a row come back. It
///   inserts the child in the same transaction; `UNIQUE(parent_id)` backs this up in the schema.
/// - Every other request finds the token spent. Within the grace window (a client that lost the response, or a
///   burst of parallel refreshes) it answers the *same* pair: the child token is derived from the presented one
///   (`TokenService.childRefreshToken(of:)`) and the access token is signed for the child's `issued_at`, so nothing
///   secret is stored and nothing new is minted.
/// - After the grace window a spent token is theft: the whole session and every token in it are revoked.
///
/// A losing request costs two reads (and, if it read before the winner committed, one empty update), so that a
/// burst stays cheap on SQLite's single writer.
struct RefreshRotation: Sendable {
    /// A token pair, as answered to the client.
    struct Pair: Sendable, Equatable {
        var accessToken: String
        var refreshToken: String
        var userID: UUID
        var sessionID: UUID
    }

    /// How a refresh was answered.
    enum Outcome: Sendable, Equatable {
        /// This request spent the token and minted the child.
        case rotated
        /// The token had been spent within the grace window; the same child was answered again.
        case replayed
    }

    /// Why a refresh was refused; the client sees the same 401 for each.
    enum Failure: Error, Sendable, Equatable {
        /// No such token.
        case unknownToken
        /// The token or its session is revoked, expired or idle, or the user cannot sign in.
        case sessionEnded
        /// A spent token came back after the grace window: the session has been revoked.
        case reuseDetected(sessionID: UUID, userID: UUID)
    }

    let tokens: TokenService
    let gracePeriod: TimeInterval
    let idleTimeout: TimeInterval
    /// How long a replay waits for the winning request's child row to become visible.
    var replayWait: Duration = .seconds(2)
    /// The time now: the app's clock (`AppDependencies.clock`) unless a test sets its own.
    var now: @Sendable () -> Date
    /// The presentations of each token being rotated by this app instance (by token hash); one per app.
    let inFlight: KeyedAsyncLock<String>

    init(
        tokens: TokenService, config: AppConfig, inFlight: KeyedAsyncLock<String>,
        now: @escaping @Sendable () -> Date = AppClock.live.now
    ) {
        self.tokens = tokens
        self.now = now
        self.inFlight = inFlight
        gracePeriod = config.refreshGracePeriod
        idleTimeout = config.sessionIdleTimeout
    }

    /// Rotates `presented`. `audit` carries the request's IP, user agent and client; its action, outcome and ids
    /// are filled in here, and it is appended in the same transaction as the change it records.
    func rotate(_ presented: String, on db: any Database, audit: AuditEvent) async throws -> (Pair, Outcome) {
        // The time the client presented the token: a replay is measured from here, so that a slow server does not
        // turn a prompt retry into "theft".
        let presentedAt = now()
        let tokenHash = TokenService.hash(presented)
        // Concurrent presentations of one token in this process take turns before they touch the database: the
        // first spends it, the rest then read the spent state and replay. Without this, a burst of retries of one
        // token (a client's parallel requests after waking up) would each hold a pooled connection while
        // PostgreSQL queues them on the row lock, and starve the pool. Across app nodes the conditional update
        // below still decides the race.
        return try await inFlight.withLock(tokenHash) {
            try await rotate(presented, hash: tokenHash, presentedAt: presentedAt, on: db, audit: audit)
        }
    }

    private func rotate(
        _ presented: String, hash: String, presentedAt: Date, on db: any Database, audit: AuditEvent
    ) async throws -> (Pair, Outcome) {
        let sql = try db.sqlDatabase()
        guard let token = try await Presented.load(hash, on: sql) else {
            throw Failure.unknownToken
        }
        guard token.userIsActive, token.sessionRevokedAt == nil, token.sessionExpiresAt > presentedAt,
            token.sessionLastSeenAt.addingTimeInterval(idleTimeout) > presentedAt,
            token.revokedAt == nil, token.expiresAt > presentedAt
        else { throw Failure.sessionEnded }

        if token.usedAt == nil, let pair = try await spend(token, presented: presented, on: db, audit: audit) {
            return (pair, .rotated)
        }
        return (try await replayOrRevoke(token, presented: presented, presentedAt: presentedAt, on: db, audit: audit), .replayed)
    }

    /// Tries to spend the token; `nil` if another request spent (or revoked) it first.
    private func spend(_ token: Presented, presented: String, on db: any Database, audit: AuditEvent) async throws -> Pair? {
        let child = tokens.childRefreshToken(of: presented)
        let issuedAt = try await db.writeTransaction { transaction -> Date? in
            let sql = try transaction.sqlDatabase()
            // The grace window runs from the moment the token is really spent. Whole seconds, so that the access
            // token signed for `issued_at` is the same after the database round trip.
            let spentAt = Date(timeIntervalSince1970: now().timeIntervalSince1970.rounded(.down))
            // The one statement that decides the race. It comes first, so that on SQLite this transaction holds the
            // write lock before it reads anything.
            let rows = try await sql.raw(
                """
                UPDATE refresh_tokens SET used_at = \(bind: spentAt)
                WHERE id = \(bind: token.id) AND used_at IS NULL AND revoked_at IS NULL
                RETURNING id
                """
            ).all()
            guard !rows.isEmpty else { return nil }
            let childRow = RefreshToken(
                sessionID: token.sessionID, parentID: token.id, tokenHash: TokenService.hash(child), issuedAt: spentAt,
                expiresAt: token.sessionExpiresAt)
            try await childRow.create(on: transaction)
            try await sql.raw(
                "UPDATE refresh_tokens SET replaced_by_id = \(bind: try childRow.requireID()) WHERE id = \(bind: token.id)"
            ).run()
            try await sql.raw(
                "UPDATE sessions SET last_seen_at = \(bind: spentAt) WHERE id = \(bind: token.sessionID)"
            ).run()
            var event = audit
            event.action = "auth.refresh"
            event.outcome = .success
            event.actorUserID = token.userID
            event.sessionID = token.sessionID
            event.targetType = "session"
            event.targetID = token.sessionID
            try await AuditLog.append(event, on: transaction, at: spentAt)
            return spentAt
        }
        guard let issuedAt else { return nil }
        let access = try await tokens.accessToken(userID: token.userID, sessionID: token.sessionID, issuedAt: issuedAt)
        return Pair(accessToken: access, refreshToken: child, userID: token.userID, sessionID: token.sessionID)
    }

    /// The token is spent: answer the same pair within the grace window, or revoke the session after it.
    private func replayOrRevoke(
        _ token: Presented, presented: String, presentedAt: Date, on db: any Database, audit: AuditEvent
    ) async throws -> Pair {
        let sql = try db.sqlDatabase()
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: replayWait)
        var state = try await Spent.load(token.id, on: sql)
        guard let usedAt = state?.usedAt else { throw Failure.sessionEnded }

        if presentedAt.timeIntervalSince(usedAt) < gracePeriod {
            // The winner commits the child with the spend, so it is normally there at once; poll briefly in case
            // this read raced the commit on another connection.
            while state?.child == nil, clock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
                state = try await Spent.load(token.id, on: sql)
            }
            let childToken = tokens.childRefreshToken(of: presented)
            guard let state, state.revokedAt == nil, state.sessionRevokedAt == nil, let child = state.child,
                child.tokenHash == TokenService.hash(childToken), child.revokedAt == nil
            else { throw Failure.sessionEnded }
            let access = try await tokens.accessToken(
                userID: token.userID, sessionID: token.sessionID, issuedAt: child.issuedAt)
            return Pair(accessToken: access, refreshToken: childToken, userID: token.userID, sessionID: token.sessionID)
        }

        try await db.writeTransaction { transaction in
            guard
                try await Session.revoke(
                    id: token.sessionID, reason: .refreshTokenReuse, on: transaction, at: presentedAt)
            else {
                return
            }
            var event = audit
            event.action = "auth.refresh_reuse"
            event.outcome = .failure
            event.actorUserID = nil
            event.sessionID = token.sessionID
            event.targetType = "session"
            event.targetID = token.sessionID
            event.metadata["user_id"] = token.userID.uuidString.lowercased()
            try await AuditLog.append(event, on: transaction, at: presentedAt)
        }
        throw Failure.reuseDetected(sessionID: token.sessionID, userID: token.userID)
    }
}

extension RefreshRotation {
    /// A presented token with its session and user, read in one query.
    fileprivate struct Presented {
        var id: UUID
        var sessionID: UUID
        var userID: UUID
        var expiresAt: Date
        var usedAt: Date?
        var revokedAt: Date?
        var sessionExpiresAt: Date
        var sessionLastSeenAt: Date
        var sessionRevokedAt: Date?
        var userIsActive: Bool

        static func load(_ tokenHash: String, on sql: any SQLDatabase) async throws -> Presented? {
            guard
                let row = try await sql.raw(
                    """
                    SELECT t.id AS id, t.session_id AS session_id, t.expires_at AS expires_at, t.used_at AS used_at,
                        t.revoked_at AS revoked_at, s.user_id AS user_id, s.expires_at AS session_expires_at,
                        s.last_seen_at AS session_last_seen_at, s.revoked_at AS session_revoked_at,
                        u.status AS user_status
                    FROM refresh_tokens t
                    JOIN sessions s ON s.id = t.session_id
                    JOIN users u ON u.id = s.user_id
                    WHERE t.token_hash = \(bind: tokenHash)
                    """
                ).first()
            else { return nil }
            return Presented(
                id: try row.decode(column: "id", as: UUID.self),
                sessionID: try row.decode(column: "session_id", as: UUID.self),
                userID: try row.decode(column: "user_id", as: UUID.self),
                expiresAt: try row.decode(column: "expires_at", as: Date.self),
                usedAt: try row.decode(column: "used_at", as: Date?.self),
                revokedAt: try row.decode(column: "revoked_at", as: Date?.self),
                sessionExpiresAt: try row.decode(column: "session_expires_at", as: Date.self),
                sessionLastSeenAt: try row.decode(column: "session_last_seen_at", as: Date.self),
                sessionRevokedAt: try row.decode(column: "session_revoked_at", as: Date?.self),
                userIsActive: try row.decode(column: "user_status", as: String.self) == User.Status.active.rawValue)
        }
    }

    /// A spent token as it is now: its own state, its session's, and its child if one is visible.
    fileprivate struct Spent {
        struct Child {
            var tokenHash: String
            var issuedAt: Date
            var revokedAt: Date?
        }

        var usedAt: Date?
        var revokedAt: Date?
        var sessionRevokedAt: Date?
        var child: Child?

        static func load(_ tokenID: UUID, on sql: any SQLDatabase) async throws -> Spent? {
            guard
                let row = try await sql.raw(
                    """
                    SELECT p.used_at AS used_at, p.revoked_at AS revoked_at, s.revoked_at AS session_revoked_at,
                        c.token_hash AS child_token_hash, c.issued_at AS child_issued_at,
                        c.revoked_at AS child_revoked_at
                    FROM refresh_tokens p
                    JOIN sessions s ON s.id = p.session_id
                    LEFT JOIN refresh_tokens c ON c.parent_id = p.id
                    WHERE p.id = \(bind: tokenID)
                    """
                ).first()
            else { return nil }
            let child: Child? =
                if let hash = try row.decode(column: "child_token_hash", as: String?.self),
                    let issuedAt = try row.decode(column: "child_issued_at", as: Date?.self)
                {
                    Child(
                        tokenHash: hash, issuedAt: issuedAt,
                        revokedAt: try row.decode(column: "child_revoked_at", as: Date?.self))
                } else {
                    nil
                }
            return Spent(
                usedAt: try row.decode(column: "used_at", as: Date?.self),
                revokedAt: try row.decode(column: "revoked_at", as: Date?.self),
                sessionRevokedAt: try row.decode(column: "session_revoked_at", as: Date?.self),
                child: child)
        }
    }
}

import Fluent
import FluentSQL
import Vapor

extension APIHandler {
    /// The caller's account, memberships and the roles held in each.
    func getMe(_ input: Operations.GetMe.Input) async throws -> Operations.GetMe.Output {
        let request = try RequestContext.request
        let principal = try request.access.authorizeSelf()
        guard let user = try await User.find(principal.userID, on: request.db) else {
            throw AppError(.unauthorized, "A valid access token is required.")
        }
        return .ok(.init(body: .json(try await Components.Schemas.Me.makeMe(for: user, on: request.db))))
    }

    /// Changes the caller's password; every other session of theirs ends.
    ///
    /// A wrong current password counts against the account's sign-in throttle, so that a stolen access token cannot
    /// be used to guess the password at leisure.
    func changeMyPassword(_ input: Operations.ChangeMyPassword.Input) async throws -> Operations.ChangeMyPassword.Output {
        let request = try RequestContext.request
        let body: Components.Schemas.PasswordChange
        switch input.body {
        case .json(let json): body = json
        }
        let principal = try request.access.authorizeSelf()
        guard let user = try await User.find(principal.userID, on: request.db) else {
            throw AppError(.unauthorized, "A valid access token is required.")
        }
        let config = request.application.meander.config
        let pool = request.application.threadPool
        let hasher = PasswordHasher(cost: config.passwordHashCost)
        try PasswordPolicy.check(body.newPassword, email: user.email, field: "/new_password")

        let now = request.now
        let keys = [LoginThrottle.Key(key: LoginThrottle.accountKey(user.email), policy: config.loginThrottle.account)]
        let counts = try await LoginThrottle.claim(keys, on: request.db, now: now)
        let matches =
            if let hash = user.passwordHash {
                try await hasher.verify(body.currentPassword, against: hash, on: pool)
            } else {
                false
            }
        guard matches else {
            let lockedOut = config.loginThrottle.account.isLockedOut(afterFailures: counts.first ?? 0)
            try await request.db.writeTransaction { transaction in
                try await LoginThrottle.recordFailure(keys, on: transaction, now: now)
                if lockedOut {
                    try await transaction.sqlDatabase().raw(
                        "UPDATE users SET locked_until = \(bind: LoginThrottle.lockedOutUntil) WHERE id = \(bind: principal.userID)"
                    ).run()
                }
                try await AuditLog.append(
                    AuditEvent(
                        "auth.password_changed", request: request, outcome: .failure, targetType: "user",
                        targetID: principal.userID, metadata: ["reason": "wrong_current_password"]),
                    on: transaction, at: now)
            }
            throw AppError.validation(
                [.init(field: "/current_password", code: "incorrect", message: "The current password is wrong.")])
        }

        let newHash = try await hasher.hash(body.newPassword, on: pool)
        try await request.db.writeTransaction { transaction in
            try await LoginThrottle.recordSuccess(keys, on: transaction, now: now)
            try await transaction.sqlDatabase().raw(
                """
                UPDATE users SET password_hash = \(bind: newHash), password_changed_at = \(bind: now),
                    failed_login_count = 0, updated_at = \(bind: now)
                WHERE id = \(bind: principal.userID)
                """
            ).run()
            let revoked = try await Session.revokeAll(
                ofUser: principal.userID, except: principal.sessionID, reason: .passwordChanged, on: transaction, at: now)
            try await AuditLog.append(
                AuditEvent(
                    "auth.password_changed", request: request, targetType: "user", targetID: principal.userID,
                    metadata: ["sessions_revoked": String(revoked.count)]),
                on: transaction, at: now)
        }
        return .noContent(.init())
    }

    /// The caller's sessions, newest first; live ones only unless `include_revoked`.
    func listMySessions(_ input: Operations.ListMySessions.Input) async throws -> Operations.ListMySessions.Output {
        let request = try RequestContext.request
        let principal = try request.access.authorizeSelf()
        let query = input.query
        let page = try Keyset.sessions(list: "listMySessions").page(
            limit: query.limit.map(Int.init), cursor: query.cursor, request: request)
        let now = request.now
        let idleTimeout = request.application.meander.config.sessionIdleTimeout

        let builder = Session.query(on: request.db).filter(\.$user.$id == principal.userID)
        if query.includeRevoked != true {
            builder.filter(\.$revokedAt == nil)
                .filter(\.$expiresAt > now)
                .filter(\.$lastSeenAt > now.addingTimeInterval(-idleTimeout))
        }
        let rows = try await builder.page(page).all()
        let (sessions, next) = try await page.finish(rows, id: { try $0.requireID() }, on: request.db)
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: try sessions.map { try Components.Schemas.Session($0, currentSessionID: principal.sessionID) },
                        nextCursor: next))))
    }

    /// Ends one of the caller's own sessions; anyone else's answers 404.
    func revokeMySession(_ input: Operations.RevokeMySession.Input) async throws -> Operations.RevokeMySession.Output {
        let request = try RequestContext.request
        let principal = try request.access.authorizeSelf()
        guard let sessionID = APIID.uuid(input.path.sessionId),
            let session = try await Session.query(on: request.db)
                .filter(\.$id == sessionID)
                .filter(\.$user.$id == principal.userID)
                .first()
        else { throw AppError(.notFound, "No such session.") }
        try SessionRules.checkNotCurrent(sessionID, request: request)
        try await request.db.writeTransaction { transaction in
            guard try await Session.revoke(session, reason: .revokedByUser, on: transaction, at: request.now) else { return }
            try await AuditLog.append(
                AuditEvent(
                    "session.revoked", request: request, targetType: "session", targetID: sessionID,
                    metadata: ["reason": Session.RevocationReason.revokedByUser.rawValue]),
                on: transaction)
        }
        return .noContent(.init())
    }
}

extension Keyset {
    /// Sessions, newest first (the caller's own, or an administrator's view of an organisation's).
    static func sessions(list: String) -> Keyset {
        Keyset(list, table: Session.schema, [.column("created_at", .descending, nullable: true)], id: .descending)
    }
}

enum SessionRules {
    /// The session making the request ends with `POST /api/v1/auth/logout`, not through the session lists: a client
    /// (or a tool walking the API) that revokes "a session" from a list must not sign itself out by accident.
    static func checkNotCurrent(_ sessionID: UUID, request: Request) throws {
        guard request.principal?.sessionID != sessionID else {
            throw AppError(.conflict, "This is the session you are using; sign out with POST /api/v1/auth/logout.")
        }
    }
}

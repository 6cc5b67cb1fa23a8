import Fluent
import FluentSQL
import Foundation
import Logging
import NIOPosix

/// The sign-in service: password sign-in, token refresh, sign-out and password reset, for the API and the portal
/// alike. It takes what the caller typed and a `Caller` (their IP, user agent and client, for throttling and the
/// audit chain), and returns token pairs or throws `AppError`; it never sees a request or a wire type.
///
/// It owns `sessions`, `refresh_tokens`, `action_tokens`, the login throttle's rows, and the sign-in columns of
/// `users` (password hash, failure count, lock-out, last sign-in).
struct SignInService: Sendable {
    /// A signed-in session's tokens, as answered to the client.
    struct Tokens: Sendable, Equatable {
        var accessToken: String
        var refreshToken: String
    }

    let config: AppConfig
    let tokens: TokenService
    let deps: AppDependencies
    /// Where bcrypt runs, off the event loops.
    let threadPool: NIOThreadPool
    /// Refreshes of one token in this app instance take turns (see `RefreshRotation.rotate`).
    let refreshesInFlight: KeyedAsyncLock<String>
    let logger: Logger

    /// Signs in with e-mail and password.
    ///
    /// Unknown e-mail, wrong password, an account that is not active and a locked account all fail with the same
    /// 401 after the same work (one bcrypt run), so that neither answer nor timing tells whether an address is
    /// known. Throttling comes first and is keyed on the address as typed, whether or not it exists.
    func login(email typed: String, password: String, caller: Caller, on db: any Database) async throws -> Tokens {
        let email = User.normalize(email: typed)
        let now = deps.now
        let keys = SignIn.throttleKeys(email: email, ip: caller.ip, policies: config.loginThrottle)

        let counts = try await LoginThrottle.claim(keys, on: db, now: now)
        let user = try await User.query(on: db).filter(\.$email == email).first()
        let hasher = PasswordHasher(cost: config.passwordHashCost)
        var passwordMatches = false
        if let user, let hash = user.passwordHash {
            passwordMatches = try await hasher.verify(password, against: hash, on: threadPool)
        } else {
            try await hasher.verifyAgainstDummy(password, on: threadPool)
        }

        let failure: String? =
            if let user {
                if user.passwordHash == nil {
                    "no_password"
                } else if !passwordMatches {
                    "wrong_password"
                } else if user.status != .active {
                    "inactive"
                } else if let lockedUntil = user.lockedUntil, lockedUntil > now {
                    "locked"
                } else {
                    nil
                }
            } else {
                "unknown_account"
            }
        guard let user, failure == nil else {
            let lockedOut = config.loginThrottle.account.isLockedOut(afterFailures: counts.first ?? 0)
            try await recordFailure(
                user: user, reason: failure ?? "unknown_account", lockedOut: lockedOut, keys: keys, caller: caller,
                at: now, on: db)
            throw SignIn.wrongCredentials
        }

        let userID = try user.requireID()
        let session = Session(
            id: deps.uuid(), userID: userID, authMethod: .password, userAgent: caller.userAgent, ip: caller.ip,
            lastSeenAt: now, expiresAt: now.addingTimeInterval(config.sessionMaxLifetime))
        let sessionID = try session.requireID()
        let refreshToken = TokenService.newRefreshToken()
        let issuedAt = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        // A hash made at a lower cost than configured is upgraded while the password is at hand.
        let upgradedHash: String? =
            if let hash = user.passwordHash, PasswordHasher.cost(of: hash) != config.passwordHashCost {
                try await hasher.hash(password, on: threadPool)
            } else {
                nil
            }

        var event = caller.event(
            "auth.login", organizationID: nil, targetType: "user", targetID: userID,
            metadata: ["auth_method": Session.AuthMethod.password.rawValue])
        event.actorUserID = userID
        event.sessionID = sessionID
        try await db.writeTransaction { [event] transaction in
            try await LoginThrottle.recordSuccess(keys, on: transaction, now: now)
            try await session.create(on: transaction)
            try await RefreshToken(
                sessionID: sessionID, tokenHash: TokenService.hash(refreshToken), issuedAt: issuedAt,
                expiresAt: session.expiresAt
            ).create(on: transaction)
            user.lastLoginAt = now
            user.failedLoginCount = 0
            user.lockedUntil = nil
            if let upgradedHash { user.passwordHash = upgradedHash }
            try await user.save(on: transaction)
            try await AuditLog.append(event, on: transaction, at: now)
        }
        let accessToken = try await tokens.accessToken(userID: userID, sessionID: sessionID, issuedAt: issuedAt)
        return Tokens(accessToken: accessToken, refreshToken: refreshToken)
    }

    /// Exchanges a refresh token for a new pair (see `RefreshRotation`). Every refusal is the same 401; a spent
    /// token presented again after the grace window revokes its session, and is logged (without the token).
    func refresh(_ presented: String, caller: Caller, on db: any Database) async throws -> Tokens {
        let rotation = RefreshRotation(tokens: tokens, config: config, inFlight: refreshesInFlight, now: deps.clock.now)
        do {
            let (pair, _) = try await rotation.rotate(
                presented, on: db,
                audit: caller.event("auth.refresh", organizationID: nil, targetType: nil, targetID: nil)
                    .dated(by: deps.clock))
            return Tokens(accessToken: pair.accessToken, refreshToken: pair.refreshToken)
        } catch let failure as RefreshRotation.Failure {
            if case .reuseDetected(let sessionID, _) = failure {
                logger.warning(
                    "refresh token reuse: session revoked", metadata: ["session_id": .string(sessionID.uuidString)])
            }
            throw AppError(.unauthorized, "The refresh token is invalid, expired or revoked. Sign in again.")
        }
    }

    /// Ends the caller's session and every token in it. `access` is checked for the caller's own account.
    func logout(access: Access, on db: any Database) async throws {
        let principal = try access.authorizeSelf()
        guard let session = try await Session.find(principal.sessionID, on: db) else {
            throw AppError(.unauthorized, "A valid access token is required.")
        }
        let now = deps.now
        let event = access.caller.event(
            "auth.logout", organizationID: nil, targetType: "session", targetID: principal.sessionID)
        try await db.auditedWrite(clock: deps.clock) { transaction -> (Void, AuditEvent?) in
            let revoked = try await Session.revoke(session, reason: .logout, on: transaction, at: now)
            return ((), revoked ? event : nil)
        }
    }

    /// Queues a password-reset e-mail if the address belongs to an active account. It succeeds either way, so that
    /// the answer does not tell whether an address is known; throttled per address and per IP.
    func requestPasswordReset(email typed: String, caller: Caller, on db: any Database) async throws {
        let email = User.normalize(email: typed)
        let now = deps.now
        let keys = PasswordReset.throttleKeys(email: email, ip: caller.ip, policies: config.loginThrottle)
        try await LoginThrottle.claim(keys, on: db, now: now)

        let user = try await User.query(on: db).filter(\.$email == email).first()
        let publicURL = config.publicURL
        try await db.writeTransaction { transaction in
            // A write first (SQLite takes its write lock before the reads of the audit append).
            try await LoginThrottle.recordFailure(keys, on: transaction, now: now)
            guard let user, user.status == .active else {
                try await AuditLog.append(
                    caller.event(
                        "auth.password_reset_requested", organizationID: nil, targetType: nil, targetID: nil,
                        outcome: .failure, metadata: ["reason": user == nil ? "unknown_account" : "inactive"]),
                    on: transaction, at: now)
                return
            }
            let userID = try user.requireID()
            let token = TokenService.newLinkToken()
            let expiresAt = now.addingTimeInterval(PasswordReset.lifetime)
            try await ActionToken(
                id: deps.uuid(), kind: .passwordReset, tokenHash: TokenService.hash(token), userID: userID,
                expiresAt: expiresAt
            ).create(on: transaction)
            try await Notifier.notify(
                userID, PasswordReset.message(link: PasswordReset.link(token, publicURL: publicURL)), deps: deps,
                on: transaction)
            var event = caller.event(
                "auth.password_reset_requested", organizationID: nil, targetType: "user", targetID: userID)
            event.actorUserID = userID
            try await AuditLog.append(event, on: transaction, at: now)
        }
    }

    /// Spends a reset token, sets the new password, lifts any lock-out and revokes every session of the user. The
    /// password policy is checked before the token is spent, so that a refused password does not burn the link.
    func confirmPasswordReset(token: String, newPassword: String, caller: Caller, on db: any Database) async throws {
        let now = deps.now
        guard
            let action = try await ActionToken.query(on: db)
                .filter(\.$tokenHash == TokenService.hash(token))
                .filter(\.$kind == .passwordReset)
                .first(),
            action.usedAt == nil, action.expiresAt > now,
            let user = try await User.find(action.$user.id, on: db), user.status == .active
        else { throw PasswordReset.invalidToken }
        let actionID = try action.requireID()
        let userID = try user.requireID()
        try PasswordPolicy.check(newPassword, email: user.email, field: "/new_password")
        let newHash = try await PasswordHasher(cost: config.passwordHashCost).hash(newPassword, on: threadPool)

        try await db.writeTransaction { transaction in
            let sql = try transaction.sqlDatabase()
            let spent = try await sql.raw(
                """
                UPDATE action_tokens SET used_at = \(bind: now)
                WHERE id = \(bind: actionID) AND used_at IS NULL AND expires_at > \(bind: now)
                RETURNING id
                """
            ).all()
            guard !spent.isEmpty else { throw PasswordReset.invalidToken }
            // Any other reset link still out there dies with this one.
            try await sql.raw(
                """
                UPDATE action_tokens SET used_at = \(bind: now)
                WHERE user_id = \(bind: userID) AND kind = \(bind: ActionToken.Kind.passwordReset.rawValue)
                    AND used_at IS NULL
                """
            ).run()
            try await sql.raw(
                """
                UPDATE users SET password_hash = \(bind: newHash), password_changed_at = \(bind: now),
                    failed_login_count = 0, locked_until = NULL, updated_at = \(bind: now)
                WHERE id = \(bind: userID)
                """
            ).run()
            let revoked = try await Session.revokeAll(ofUser: userID, reason: .passwordChanged, on: transaction, at: now)
            try await LoginThrottle.reset(LoginThrottle.accountKey(user.email), on: transaction, now: now)
            var event = caller.event(
                "auth.password_reset", organizationID: nil, targetType: "user", targetID: userID,
                metadata: ["sessions_revoked": String(revoked.count)])
            event.actorUserID = userID
            try await AuditLog.append(event, on: transaction, at: now)
        }
    }

    /// Changes the caller's password; every other session of theirs ends. A wrong current password counts against
    /// the account's sign-in throttle, so that a stolen access token cannot be used to guess the password at leisure.
    func changePassword(current: String, new: String, access: Access, on db: any Database) async throws {
        let principal = try access.authorizeSelf()
        guard let user = try await User.find(principal.userID, on: db) else {
            throw AppError(.unauthorized, "A valid access token is required.")
        }
        let hasher = PasswordHasher(cost: config.passwordHashCost)
        try PasswordPolicy.check(new, email: user.email, field: "/new_password")

        let now = deps.now
        let caller = access.caller
        let keys = [LoginThrottle.Key(key: LoginThrottle.accountKey(user.email), policy: config.loginThrottle.account)]
        let counts = try await LoginThrottle.claim(keys, on: db, now: now)
        let matches =
            if let hash = user.passwordHash {
                try await hasher.verify(current, against: hash, on: threadPool)
            } else {
                false
            }
        guard matches else {
            let lockedOut = config.loginThrottle.account.isLockedOut(afterFailures: counts.first ?? 0)
            try await db.writeTransaction { transaction in
                try await LoginThrottle.recordFailure(keys, on: transaction, now: now)
                if lockedOut {
                    try await transaction.sqlDatabase().raw(
                        "UPDATE users SET locked_until = \(bind: LoginThrottle.lockedOutUntil) WHERE id = \(bind: principal.userID)"
                    ).run()
                }
                try await AuditLog.append(
                    caller.event(
                        "auth.password_changed", organizationID: nil, targetType: "user", targetID: principal.userID,
                        outcome: .failure, metadata: ["reason": "wrong_current_password"]),
                    on: transaction, at: now)
            }
            throw AppError.validation(
                [.init(field: "/current_password", code: "incorrect", message: "The current password is wrong.")])
        }

        let newHash = try await hasher.hash(new, on: threadPool)
        try await db.writeTransaction { transaction in
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
                caller.event(
                    "auth.password_changed", organizationID: nil, targetType: "user", targetID: principal.userID,
                    metadata: ["sessions_revoked": String(revoked.count)]),
                on: transaction, at: now)
        }
    }

    /// Records a failed sign-in: the account's failure count and lock-out, and the audit entry. Never the password,
    /// and for an unknown account not the address either.
    private func recordFailure(
        user: User?, reason: String, lockedOut: Bool, keys: [LoginThrottle.Key], caller: Caller, at now: Date,
        on db: any Database
    ) async throws {
        try await db.writeTransaction { transaction in
            try await LoginThrottle.recordFailure(keys, on: transaction, now: now)
            var metadata = ["reason": reason]
            if let user, let userID = user.id {
                let sql = try transaction.sqlDatabase()
                try await sql.raw(
                    """
                    UPDATE users SET failed_login_count = failed_login_count + 1, updated_at = \(bind: now)
                    WHERE id = \(bind: userID)
                    """
                ).run()
                if lockedOut {
                    // Locked until a password reset, which clears it.
                    try await sql.raw(
                        "UPDATE users SET locked_until = \(bind: LoginThrottle.lockedOutUntil) WHERE id = \(bind: userID)"
                    ).run()
                    metadata["locked_out"] = "true"
                }
            }
            try await AuditLog.append(
                caller.event(
                    "auth.login_failed", organizationID: nil, targetType: user == nil ? nil : "user",
                    targetID: user?.id, outcome: .failure, metadata: metadata),
                on: transaction, at: now)
        }
        if lockedOut {
            logger.warning("account locked after repeated sign-in failures")
        }
    }
}

/// The pieces of password sign-in shared by the sign-in service and its tests.
enum SignIn {
    /// The one answer to every failed sign-in.
    static let wrongCredentials = AppError(.unauthorized, "The e-mail or password is wrong.")

    /// The keys a sign-in attempt counts against: the account (as typed, known or not), then the IP address.
    static func throttleKeys(email: String, ip: String?, policies: LoginThrottle.Policies) -> [LoginThrottle.Key] {
        var keys = [LoginThrottle.Key(key: LoginThrottle.accountKey(email), policy: policies.account)]
        if let ip {
            keys.append(LoginThrottle.Key(key: LoginThrottle.ipKey(ip), policy: policies.ipAddress))
        }
        return keys
    }
}

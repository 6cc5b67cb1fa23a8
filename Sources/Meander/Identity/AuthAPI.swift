import Fluent
import FluentSQL
import Vapor

extension APIHandler {
    /// Signs in with e-mail and password.
    ///
    /// Unknown e-mail, wrong password, an account that is not active and a locked account all answer the same 401
    /// after the same work (one bcrypt run), so that neither body nor timing tells whether an address is known.
    /// Throttling comes first and is keyed on the address as typed, whether or not it exists.
    func login(_ input: Operations.Login.Input) async throws -> Operations.Login.Output {
        let request = try RequestContext.request
        let body: Components.Schemas.LoginRequest
        switch input.body {
        case .json(let json): body = json
        }
        let services = request.application.meander
        let config = services.config
        let email = User.normalize(email: body.email)
        let now = request.now
        let keys = SignIn.throttleKeys(email: email, ip: request.remoteAddress?.ipAddress, policies: config.loginThrottle)

        let counts = try await LoginThrottle.claim(keys, on: request.db, now: now)
        let user = try await User.query(on: request.db).filter(\.$email == email).first()
        let hasher = PasswordHasher(cost: config.passwordHashCost)
        let pool = request.application.threadPool
        var passwordMatches = false
        if let user, let hash = user.passwordHash {
            passwordMatches = try await hasher.verify(body.password, against: hash, on: pool)
        } else {
            try await hasher.verifyAgainstDummy(body.password, on: pool)
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
            try await SignIn.recordFailure(
                user: user, reason: failure ?? "unknown_account", lockedOut: lockedOut, keys: keys, request: request)
            throw SignIn.wrongCredentials
        }

        let userID = try user.requireID()
        let session = Session(
            userID: userID, authMethod: .password,
            userAgent: request.headers.first(name: .userAgent).map { String($0.prefix(512)) },
            ip: request.remoteAddress?.ipAddress, lastSeenAt: now, expiresAt: now.addingTimeInterval(config.sessionMaxLifetime))
        let refreshToken = TokenService.newRefreshToken()
        let issuedAt = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        // A hash made at a lower cost than configured is upgraded while the password is at hand.
        let upgradedHash: String? =
            if let hash = user.passwordHash, PasswordHasher.cost(of: hash) != config.passwordHashCost {
                try await hasher.hash(body.password, on: pool)
            } else {
                nil
            }

        try await request.db.writeTransaction { transaction in
            try await LoginThrottle.recordSuccess(keys, on: transaction, now: now)
            try await session.create(on: transaction)
            let sessionID = try session.requireID()
            try await RefreshToken(
                sessionID: sessionID, tokenHash: TokenService.hash(refreshToken), issuedAt: issuedAt,
                expiresAt: session.expiresAt
            ).create(on: transaction)
            user.lastLoginAt = now
            user.failedLoginCount = 0
            user.lockedUntil = nil
            if let upgradedHash { user.passwordHash = upgradedHash }
            try await user.save(on: transaction)
            try await AuditLog.append(
                AuditEvent(
                    "auth.login", request: request, targetType: "user", targetID: userID, actorUserID: userID,
                    sessionID: sessionID, metadata: ["auth_method": Session.AuthMethod.password.rawValue]),
                on: transaction, at: now)
        }
        let accessToken = try await services.tokens.accessToken(
            userID: userID, sessionID: try session.requireID(), issuedAt: issuedAt)
        return .ok(
            .init(
                body: .json(
                    SignIn.tokenResponse(accessToken: accessToken, refreshToken: refreshToken, tokens: services.tokens))))
    }

    /// Exchanges a refresh token for a new pair (see `RefreshRotation`).
    func refreshToken(_ input: Operations.RefreshToken.Input) async throws -> Operations.RefreshToken.Output {
        let request = try RequestContext.request
        let body: Components.Schemas.RefreshRequest
        switch input.body {
        case .json(let json): body = json
        }
        let services = request.application.meander
        let rotation = RefreshRotation(
            tokens: services.tokens, config: services.config, inFlight: services.refreshesInFlight,
            now: services.dependencies.clock.now)
        do {
            let (pair, _) = try await rotation.rotate(
                body.refreshToken, on: request.db, audit: AuditEvent("auth.refresh", request: request))
            return .ok(
                .init(
                    body: .json(
                        SignIn.tokenResponse(
                            accessToken: pair.accessToken, refreshToken: pair.refreshToken, tokens: services.tokens))))
        } catch let failure as RefreshRotation.Failure {
            if case .reuseDetected(let sessionID, _) = failure {
                request.logger.warning(
                    "refresh token reuse: session revoked", metadata: ["session_id": .string(sessionID.uuidString)])
            }
            throw AppError(.unauthorized, "The refresh token is invalid, expired or revoked. Sign in again.")
        }
    }

    /// Ends the caller's session and every token in it.
    func logout(_ input: Operations.Logout.Input) async throws -> Operations.Logout.Output {
        let request = try RequestContext.request
        let principal = try request.access.authorizeSelf()
        guard let session = try await Session.find(principal.sessionID, on: request.db) else {
            throw AppError(.unauthorized, "A valid access token is required.")
        }
        try await request.db.writeTransaction { transaction in
            guard try await Session.revoke(session, reason: .logout, on: transaction, at: request.now) else { return }
            try await AuditLog.append(
                AuditEvent("auth.logout", request: request, targetType: "session", targetID: principal.sessionID),
                on: transaction)
        }
        return .noContent(.init())
    }

    /// Queues a password-reset e-mail if the address belongs to an active account; answers 202 either way.
    func requestPasswordReset(
        _ input: Operations.RequestPasswordReset.Input
    ) async throws -> Operations.RequestPasswordReset.Output {
        let request = try RequestContext.request
        let body: Components.Schemas.PasswordResetRequest
        switch input.body {
        case .json(let json): body = json
        }
        let config = request.application.meander.config
        let email = User.normalize(email: body.email)
        let now = request.now
        let keys = PasswordReset.throttleKeys(
            email: email, ip: request.remoteAddress?.ipAddress, policies: config.loginThrottle)
        try await LoginThrottle.claim(keys, on: request.db, now: now)

        let user = try await User.query(on: request.db).filter(\.$email == email).first()
        try await request.db.writeTransaction { transaction in
            // A write first (SQLite takes its write lock before the reads of the audit append).
            try await LoginThrottle.recordFailure(keys, on: transaction, now: now)
            guard let user, user.status == .active else {
                try await AuditLog.append(
                    AuditEvent(
                        "auth.password_reset_requested", request: request, outcome: .failure,
                        metadata: ["reason": user == nil ? "unknown_account" : "inactive"]),
                    on: transaction, at: now)
                return
            }
            let userID = try user.requireID()
            let token = TokenService.newLinkToken()
            let expiresAt = now.addingTimeInterval(PasswordReset.lifetime)
            try await ActionToken(
                kind: .passwordReset, tokenHash: TokenService.hash(token), userID: userID, expiresAt: expiresAt
            ).create(on: transaction)
            try await PasswordReset.notification(
                userID: userID, link: PasswordReset.link(token, publicURL: config.publicURL), expiresAt: expiresAt
            ).create(on: transaction)
            try await AuditLog.append(
                AuditEvent(
                    "auth.password_reset_requested", request: request, targetType: "user", targetID: userID,
                    actorUserID: userID),
                on: transaction, at: now)
        }
        return .accepted(.init())
    }

    /// Spends a reset token, sets the new password, lifts any lock-out and revokes every session of the user.
    func confirmPasswordReset(
        _ input: Operations.ConfirmPasswordReset.Input
    ) async throws -> Operations.ConfirmPasswordReset.Output {
        let request = try RequestContext.request
        let body: Components.Schemas.PasswordResetConfirmation
        switch input.body {
        case .json(let json): body = json
        }
        let config = request.application.meander.config
        let now = request.now
        guard
            let action = try await ActionToken.query(on: request.db)
                .filter(\.$tokenHash == TokenService.hash(body.token))
                .filter(\.$kind == .passwordReset)
                .first(),
            action.usedAt == nil, action.expiresAt > now,
            let user = try await User.find(action.$user.id, on: request.db), user.status == .active
        else { throw PasswordReset.invalidToken }
        let actionID = try action.requireID()
        let userID = try user.requireID()
        // The policy is checked before the token is spent, so that a refused password does not burn the link.
        try PasswordPolicy.check(body.newPassword, email: user.email, field: "/new_password")
        let newHash = try await PasswordHasher(cost: config.passwordHashCost)
            .hash(body.newPassword, on: request.application.threadPool)

        try await request.db.writeTransaction { transaction in
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
            try await AuditLog.append(
                AuditEvent(
                    "auth.password_reset", request: request, targetType: "user", targetID: userID,
                    actorUserID: userID, metadata: ["sessions_revoked": String(revoked.count)]),
                on: transaction, at: now)
        }
        return .noContent(.init())
    }
}

/// The pieces of password sign-in shared by the handlers.
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

    /// Records a failed attempt: the account's failure count and lock-out, and the audit entry. Never the password,
    /// and for an unknown account not the address either.
    static func recordFailure(
        user: User?, reason: String, lockedOut: Bool, keys: [LoginThrottle.Key], request: Request
    ) async throws {
        let now = request.now
        try await request.db.writeTransaction { transaction in
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
                AuditEvent(
                    "auth.login_failed", request: request, outcome: .failure, targetType: user == nil ? nil : "user",
                    targetID: user?.id, metadata: metadata),
                on: transaction, at: now)
        }
        if lockedOut {
            request.logger.warning("account locked after repeated sign-in failures")
        }
    }

    /// The OAuth 2.0 token response.
    static func tokenResponse(
        accessToken: String, refreshToken: String, tokens: TokenService
    ) -> Components.Schemas.TokenResponse {
        Components.Schemas.TokenResponse(
            accessToken: accessToken, tokenType: .bearer, expiresIn: Int32(tokens.accessTokenLifetime),
            refreshToken: refreshToken)
    }
}

/// Password-reset links: lifetime, link, e-mail.
enum PasswordReset {
    /// A reset link works for one hour, once.
    static let lifetime: TimeInterval = 60 * 60

    static let invalidToken = AppError.validation(
        [.init(field: "/token", code: "invalid_token", message: "The link is invalid, expired or already used.")],
        "The password-reset link is invalid, expired or already used. Ask for a new one.")

    /// The keys a reset request counts against: the address (known or not), then the IP address.
    static func throttleKeys(email: String, ip: String?, policies: LoginThrottle.Policies) -> [LoginThrottle.Key] {
        var keys = [LoginThrottle.Key(key: LoginThrottle.resetKey(email), policy: policies.passwordReset)]
        if let ip {
            keys.append(LoginThrottle.Key(key: LoginThrottle.resetIPKey(ip), policy: policies.passwordResetPerIP))
        }
        return keys
    }

    static func link(_ token: String, publicURL: String) -> String {
        "\(publicURL)/password-reset?token=\(token)"
    }

    /// The queued e-mail. It carries the link (the only place the token exists in clear) and nothing else personal.
    static func notification(userID: UUID, link: String, expiresAt: Date) -> Notification {
        Notification(
            userID: userID, channel: .email, scenario: .passwordReset,
            title: "Reset your Meander password",
            body: """
                Someone asked to reset the password of your Meander account. To choose a new password, open this link \
                within one hour:

                \(link)

                If it was not you, ignore this e-mail: your password stays as it is.
                """,
            data: JSONText.encode(["link": link, "expires_at": ISO8601DateFormatter().string(from: expiresAt)]),
            isUrgent: true)
    }
}

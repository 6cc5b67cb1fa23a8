import Fluent
import FluentSQL
import Foundation
import Vapor

extension APIHandler {
    func createInvitation(
        _ input: Operations.CreateInvitation.Input
    ) async throws -> Operations.CreateInvitation.Output {
        let request = try RequestContext.request
        let organizationID = try APIID.parse(input.path.organizationId, parameter: "organizationId")
        let lineage = try await request.access.authorize(in: organizationID)
        let organization = lineage[0]
        let principal = try request.requirePrincipal()
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let roles = body.roles.map(UserRole.Role.init)
        try RoleRules.checkGrantable(roles, by: principal, over: lineage, field: "/roles")

        let config = request.application.meander.config
        let now = request.now
        let token = TokenService.newLinkToken()
        let expiresAt = now.addingTimeInterval(Invitations.lifetime)
        let email = User.normalize(email: body.email)

        // Reads first, outside the transaction: the transaction then starts with a write, which SQLite needs to
        // take its write lock up front (a read-then-write transaction can fail with SQLITE_BUSY under load). Races
        // that slip between the reads and the writes end at a unique constraint or a conditional update: 409.
        let existingUser = try await User.query(on: request.db).filter(\.$email == email).first()
        let existingMembership: OrganizationMembership?
        if let existingUser {
            existingMembership = try await OrganizationMembership.query(on: request.db)
                .filter(\.$organization.$id == organizationID)
                .filter(\.$user.$id == existingUser.requireID())
                .first()
        } else {
            existingMembership = nil
        }
        if let existingMembership, existingMembership.status != .ended {
            throw AppError(
                .conflict, "This person already has a membership here (\(existingMembership.status.rawValue)).")
        }
        if let existingUser, existingUser.status == .suspended || existingUser.status == .deleted {
            throw AppError(.conflict, "This account is \(existingUser.status.rawValue) and cannot be invited.")
        }

        let (membership, user): (OrganizationMembership, User)
        do {
            (membership, user) = try await request.db.transaction { db in
                let user: User
                if let existingUser {
                    user = existingUser
                } else {
                    user = User(
                        email: email, firstName: body.firstName ?? "", lastName: body.lastName ?? "",
                        locale: body.locale.map(User.Language.init) ?? .nb, status: .pending)
                    try await user.create(on: db)
                }
                let userID = try user.requireID()

                let membership: OrganizationMembership
                if let existingMembership {
                    // One row per (organisation, user): a returning member's row is reused, if it is still ended.
                    try await Memberships.transition(
                        existingMembership, from: .ended, to: .invited, at: now, on: db,
                        set: { update in
                            update.set("joined_at", to: Date?.none).set("ended_at", to: Date?.none)
                                .set("paused_at", to: Date?.none).set("paused_until", to: Date?.none)
                                .set("paused_reason_ciphertext", to: Data?.none).set("key_version", to: Int?.none)
                                .set("invited_by_id", to: principal.userID)
                        })
                    existingMembership.status = .invited
                    existingMembership.joinedAt = nil
                    existingMembership.endedAt = nil
                    existingMembership.pausedAt = nil
                    existingMembership.pausedUntil = nil
                    existingMembership.$invitedBy.id = principal.userID
                    membership = existingMembership
                } else {
                    membership = OrganizationMembership(
                        organizationID: organizationID, userID: userID, status: .invited, joinedAt: nil,
                        invitedByID: principal.userID)
                    try await membership.create(on: db)
                }
                let membershipID = try membership.requireID()
                try await Invitations.expireOpenTokens(of: membershipID, at: now, on: db)

                try await ActionToken(
                    kind: .invitation, tokenHash: TokenService.hash(token), userID: userID,
                    organizationID: organizationID, membershipID: membershipID, createdByID: principal.userID,
                    payload: JSONText.encode(Invitations.Payload(roles: roles.map(\.rawValue))), expiresAt: expiresAt
                ).create(on: db)

                let link = "\(config.publicURL)/invitations/accept?token=\(token)"
                let message = Invitations.message(
                    organizationName: organization.name, link: link, expiresAt: expiresAt, language: user.locale)
                try await Notification(
                    userID: userID, channel: .email, scenario: .invitation, title: message.title, body: message.body,
                    data: JSONText.encode([
                        "link": link, "organization_id": organizationID.uuidString.lowercased(),
                        "membership_id": membershipID.uuidString.lowercased(),
                    ]),
                    organizationID: organizationID
                ).create(on: db)
                return (membership, user)
            }
        } catch let error as any DatabaseError where error.isConstraintFailure {
            // Two invitations of the same person raced; the other one won.
            throw AppError(.conflict, "This person was invited at the same moment by another request; try again.")
        }

        let membershipID = try membership.requireID()
        try await AuditLog.append(
            AuditEvent(
                "invitation.created", request: request, organizationID: organizationID, targetType: "membership",
                targetID: membershipID,
                metadata: [
                    "user_id": try user.requireID().uuidString.lowercased(),
                    "roles": roles.map(\.rawValue).joined(separator: ","),
                ]),
            on: request.db)
        let view = try Components.Schemas.Membership(
            membership, user: user, organizationName: organization.name, roles: roles)
        return .created(.init(body: .json(.init(membership: view, expiresAt: expiresAt))))
    }

    func acceptInvitation(
        _ input: Operations.AcceptInvitation.Input
    ) async throws -> Operations.AcceptInvitation.Output {
        let request = try RequestContext.request
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let now = request.now
        let unusable = AppError.validation([
            .init(field: "/token", code: "invalid_value", message: "The invitation link is invalid, used or expired.")
        ])

        // Everything that can fail without changing state comes before the token is spent, so that a rejected
        // password does not burn the link.
        guard
            let invitation = try await ActionToken.query(on: request.db)
                .filter(\.$tokenHash == TokenService.hash(body.token))
                .filter(\.$kind == .invitation)
                .first(),
            invitation.usedAt == nil, invitation.expiresAt > now,
            let membershipID = invitation.$membership.id,
            let membership = try await OrganizationMembership.find(membershipID, on: request.db),
            membership.status == .invited,
            let user = try await User.find(invitation.$user.id, on: request.db),
            user.status == .pending || user.status == .active
        else { throw unusable }
        try PasswordPolicy.check(body.password, email: user.email, field: "/password")
        let hasher = PasswordHasher(cost: request.application.meander.config.passwordHashCost)
        let password = body.password
        let passwordHash = try await request.application.threadPool.runIfActive { try hasher.hash(password) }
        let roles = (JSONText.decode(Invitations.Payload.self, from: invitation.payload)?.roles ?? [])
            .compactMap(UserRole.Role.init(rawValue:))
            .filter { $0 != .platformAdmin }
        let invitationID = try invitation.requireID()
        let userID = try user.requireID()
        let organizationID = membership.$organization.id
        let hadPassword = user.passwordHash != nil

        try await request.db.transaction { db in
            // Spend the token with a conditional update: of any number of racing acceptances, exactly one sees a row.
            let spent = try await (db as! any SQLDatabase).update(ActionToken.schema)
                .set("used_at", to: now)
                .where("id", .equal, invitationID)
                .where("used_at", .is, SQLLiteral.null)
                .where("expires_at", .greaterThan, now)
                .returning("id")
                .all()
            guard !spent.isEmpty else { throw unusable }
            let activated = try await (db as! any SQLDatabase).update(OrganizationMembership.schema)
                .set("status", to: OrganizationMembership.Status.active.rawValue)
                .set("joined_at", to: now)
                .set("updated_at", to: now)
                .where("id", .equal, membershipID)
                .where("status", .equal, OrganizationMembership.Status.invited.rawValue)
                .returning("id")
                .all()
            guard !activated.isEmpty else { throw unusable }

            if let firstName = body.firstName { user.firstName = firstName }
            if let lastName = body.lastName { user.lastName = lastName }
            user.passwordHash = passwordHash
            user.passwordChangedAt = now
            user.status = .active
            user.failedLoginCount = 0
            user.lockedUntil = nil
            // The link reached this address, which proves it.
            if user.emailVerifiedAt == nil { user.emailVerifiedAt = now }
            try await user.save(on: db)

            let live = try await UserRole.query(on: db)
                .filter(\.$user.$id == userID)
                .filter(\.$organization.$id == organizationID)
                .filter(\.$revokedAt == nil)
                .all(\.$role)
            for role in roles where !live.contains(role) {
                try await UserRole(
                    userID: userID, organizationID: organizationID, role: role,
                    grantedByID: invitation.$createdBy.id, grantedAt: now
                ).create(on: db)
            }
        }

        if hadPassword {
            // Setting a password through the link is a password change: other sessions end.
            try await Session.revokeAll(
                ofUser: userID, except: nil, reason: .passwordChanged, on: request.db, at: request.now)
        }
        try await AuditLog.append(
            AuditEvent(
                "invitation.accepted", request: request, organizationID: organizationID, targetType: "membership",
                targetID: membershipID, actorUserID: userID,
                metadata: ["roles": roles.map(\.rawValue).joined(separator: ",")]),
            on: request.db)
        return .ok(.init(body: .json(try await Components.Schemas.Me.makeMe(for: user, on: request.db))))
    }
}

/// Invitation links: lifetime, payload and the queued e-mail's text.
enum Invitations {
    static let lifetime: TimeInterval = 7 * 86_400

    /// What the token grants on acceptance.
    struct Payload: Codable, Sendable {
        var roles: [String]
    }

    /// Marks unused invitation tokens of a membership as used, so that only the newest link works.
    static func expireOpenTokens(of membershipID: UUID, at now: Date, on db: any Database) async throws {
        try await ActionToken.query(on: db)
            .filter(\.$membership.$id == membershipID)
            .filter(\.$kind == .invitation)
            .filter(\.$usedAt == nil)
            .set(\.$usedAt, to: now)
            .update()
    }

    /// The e-mail's title and body in the recipient's language.
    static func message(
        organizationName: String, link: String, expiresAt: Date, language: User.Language
    ) -> (title: String, body: String) {
        let date = expiresAt.formatted(.iso8601.year().month().day())
        switch language {
        case .en:
            return (
                "Invitation to \(organizationName) in Meander",
                """
                You have been invited to join \(organizationName) in Meander.

                Open this link to accept the invitation and choose your password:
                \(link)

                The link works once and expires on \(date).
                """
            )
        case .nb, .nn:
            return (
                "Invitasjon til \(organizationName) i Meander",
                """
                Du er invitert til \(organizationName) i Meander.

                Åpne denne lenken for å godta invitasjonen og velge passord:
                \(link)

                Lenken kan brukes én gang og utløper \(date).
                """
            )
        }
    }
}

extension UserRole.Role {
    init(_ role: Components.Schemas.Role) {
        switch role {
        case .peerMentor: self = .peerMentor
        case .coordinator: self = .coordinator
        case .orgAdmin: self = .orgAdmin
        case .nationalAdmin: self = .nationalAdmin
        case .platformAdmin: self = .platformAdmin
        }
    }
}

extension User.Language {
    init(_ locale: Components.Schemas.InvitationCreate.LocalePayload) {
        switch locale {
        case .nb: self = .nb
        case .nn: self = .nn
        case .en: self = .en
        }
    }
}

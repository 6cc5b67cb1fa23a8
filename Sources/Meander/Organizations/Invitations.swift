import Fluent
import FluentSQL
import Foundation
import NIOPosix

/// The invitations service: an administrator invites a person into an organisation with roles, and the person
/// accepts through the e-mailed link, choosing their password. For the API and the portal alike; it takes domain
/// values and a `Caller` or an `Access`, and never sees a request or a wire type.
///
/// It owns the `invitation` kind of `action_tokens` and the invitation e-mails it queues in `notifications`. It
/// creates users and memberships, and moves a membership from invited to active (`Memberships.transition`).
enum Invitations {}

/// An invitation as the service takes it.
struct NewInvitation: Sendable {
    var organizationID: UUID
    var email: String
    var roles: [UserRole.Role]
    /// For a person with no account yet.
    var firstName: String?
    var lastName: String?
    var locale: User.Language?
}

/// An acceptance of an invitation link.
struct InvitationAcceptance: Sendable {
    var token: String
    var password: String
    var firstName: String?
    var lastName: String?
}

extension Invitations {
    static let lifetime: TimeInterval = 7 * 86_400

    /// Invites a person (known or not) into an organisation with roles the caller may grant there, and queues the
    /// e-mail with the link. A person with a membership that has not ended is 409. Returns the invited membership
    /// and when the link expires.
    static func create(
        _ new: NewInvitation, access: Access, deps: AppDependencies, publicURL: String, on db: any Database
    ) async throws -> (membership: MembershipRecord, expiresAt: Date) {
        let organizationID = new.organizationID
        let lineage = try await access.authorize(in: organizationID)
        let organization = lineage[0]
        let principal = try access.caller.requirePrincipal()
        let roles = new.roles
        try RoleRules.checkGrantable(roles, by: principal, over: lineage, field: "/roles")

        let now = deps.now
        let token = TokenService.newLinkToken()
        let expiresAt = now.addingTimeInterval(lifetime)
        let email = User.normalize(email: new.email)

        // Reads first, outside the transaction: the transaction then starts with a write, which SQLite needs to
        // take its write lock up front (a read-then-write transaction can fail with SQLITE_BUSY under load). Races
        // that slip between the reads and the writes end at a unique constraint or a conditional update: 409.
        let existingUser = try await User.query(on: db).filter(\.$email == email).first()
        let existingMembership: OrganizationMembership?
        if let existingUser {
            existingMembership = try await OrganizationMembership.query(on: db)
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

        let caller = access.caller
        let (membership, user): (OrganizationMembership, User)
        do {
            (membership, user) = try await db.auditedWrite(clock: deps.clock) {
                db -> ((OrganizationMembership, User), AuditEvent?) in
                let user: User
                if let existingUser {
                    user = existingUser
                } else {
                    user = User(
                        id: deps.uuid(), email: email, firstName: new.firstName ?? "", lastName: new.lastName ?? "",
                        locale: new.locale ?? .nb, status: .pending)
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
                        id: deps.uuid(), organizationID: organizationID, userID: userID, status: .invited,
                        joinedAt: nil, invitedByID: principal.userID)
                    try await membership.create(on: db)
                }
                let membershipID = try membership.requireID()
                try await expireOpenTokens(of: membershipID, at: now, on: db)

                try await ActionToken(
                    id: deps.uuid(), kind: .invitation, tokenHash: TokenService.hash(token), userID: userID,
                    organizationID: organizationID, membershipID: membershipID, createdByID: principal.userID,
                    payload: JSONText.encode(Payload(roles: roles.map(\.rawValue))), expiresAt: expiresAt
                ).create(on: db)

                let link = "\(publicURL)/invitations/accept?token=\(token)"
                try await Notifier.notify(
                    userID,
                    Notifier.Message(
                        .invitation, values: ["organization": organization.name, "link": link],
                        organizationID: organizationID,
                        data: [
                            "organization_id": organizationID.uuidString.lowercased(),
                            "membership_id": membershipID.uuidString.lowercased(),
                        ]),
                    deps: deps, on: db)
                let event = caller.event(
                    "invitation.created", organizationID: organizationID, targetType: "membership",
                    targetID: membershipID,
                    metadata: [
                        "user_id": userID.uuidString.lowercased(), "roles": roles.map(\.rawValue).joined(separator: ","),
                    ])
                return ((membership, user), event)
            }
        } catch let error as any DatabaseError where error.isConstraintFailure {
            // Two invitations of the same person raced; the other one won.
            throw AppError(.conflict, "This person was invited at the same moment by another request; try again.")
        }
        let record = MembershipRecord(
            membership: membership, user: user, organizationName: organization.name, roles: roles)
        return (record, expiresAt)
    }

    /// Accepts an invitation: spends the link, activates the membership and the account with the chosen password,
    /// and grants the invited roles. Everything that can fail without changing state comes before the link is
    /// spent, so that a refused password does not burn it. Setting a password through the link is a password change:
    /// the user's other sessions end. Returns the user's account as it now is.
    static func accept(
        _ acceptance: InvitationAcceptance, caller: Caller, deps: AppDependencies, hasher: PasswordHasher,
        threadPool: NIOThreadPool, on db: any Database
    ) async throws -> AccountRecord {
        let now = deps.now
        let unusable = AppError.validation([
            .init(field: "/token", code: "invalid_value", message: "The invitation link is invalid, used or expired.")
        ])
        guard
            let invitation = try await ActionToken.query(on: db)
                .filter(\.$tokenHash == TokenService.hash(acceptance.token))
                .filter(\.$kind == .invitation)
                .first(),
            invitation.usedAt == nil, invitation.expiresAt > now,
            let membershipID = invitation.$membership.id,
            let membership = try await OrganizationMembership.find(membershipID, on: db),
            membership.status == .invited,
            let user = try await User.find(invitation.$user.id, on: db),
            user.status == .pending || user.status == .active
        else { throw unusable }
        try PasswordPolicy.check(acceptance.password, email: user.email, field: "/password")
        let password = acceptance.password
        let passwordHash = try await threadPool.runIfActive { try hasher.hash(password) }
        let roles = (JSONText.decode(Payload.self, from: invitation.payload)?.roles ?? [])
            .compactMap(UserRole.Role.init(rawValue:))
            .filter { $0 != .platformAdmin }
        let invitationID = try invitation.requireID()
        let userID = try user.requireID()
        let organizationID = membership.$organization.id
        let hadPassword = user.passwordHash != nil
        var event = caller.event(
            "invitation.accepted", organizationID: organizationID, targetType: "membership", targetID: membershipID,
            metadata: ["roles": roles.map(\.rawValue).joined(separator: ",")])
        event.actorUserID = userID

        try await db.auditedWrite(event, clock: deps.clock) { db in
            let sql = try db.sqlDatabase()
            // Spend the token with a conditional update: of any number of racing acceptances, exactly one sees a row.
            let spent = try await sql.update(ActionToken.schema)
                .set("used_at", to: now)
                .where("id", .equal, invitationID)
                .where("used_at", .is, SQLLiteral.null)
                .where("expires_at", .greaterThan, now)
                .returning("id")
                .all()
            guard !spent.isEmpty else { throw unusable }
            let activated = try await sql.update(OrganizationMembership.schema)
                .set("status", to: OrganizationMembership.Status.active.rawValue)
                .set("joined_at", to: now)
                .set("updated_at", to: now)
                .where("id", .equal, membershipID)
                .where("status", .equal, OrganizationMembership.Status.invited.rawValue)
                .returning("id")
                .all()
            guard !activated.isEmpty else { throw unusable }

            if let firstName = acceptance.firstName { user.firstName = firstName }
            if let lastName = acceptance.lastName { user.lastName = lastName }
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
                    id: deps.uuid(), userID: userID, organizationID: organizationID, role: role,
                    grantedByID: invitation.$createdBy.id, grantedAt: now
                ).create(on: db)
            }
            if hadPassword {
                try await Session.revokeAll(ofUser: userID, except: nil, reason: .passwordChanged, on: db, at: now)
            }
        }
        return try await Accounts.record(of: user, on: db)
    }

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
}

import Fluent
import FluentSQL
import Foundation

/// The memberships service: listing an organisation's members, pausing, resuming and ending a membership, and
/// granting and revoking roles. It takes domain values, a `Caller` and the app's dependencies; it never sees a
/// request or a wire type. It owns `organization_memberships` and `user_roles` (with the organisations capability).
enum Memberships {}

/// What an organisation's member list is filtered by.
struct MembershipFilter: Sendable {
    var status: OrganizationMembership.Status?
    /// Members holding this live role there.
    var role: UserRole.Role?
    /// A case-insensitive part of the e-mail address or the name.
    var text: String?
}

/// A membership with what its view shows: the member, the organisation's name, and the live roles held there (for
/// an invitation, the roles it will grant).
struct MembershipRecord: Sendable {
    let membership: OrganizationMembership
    let user: User
    let organizationName: String?
    let roles: [UserRole.Role]
}

extension Memberships {
    /// A membership, authorised for `access`'s permission in its organisation; a missing one is 404 too.
    static func authorized(
        _ id: UUID, access: Access, on db: any Database
    ) async throws -> (OrganizationMembership, [Organization]) {
        guard let membership = try await OrganizationMembership.find(id, on: db) else {
            throw AppError(.notFound, "No such membership.")
        }
        let lineage = try await access.authorize(in: membership.$organization.id)
        return (membership, lineage)
    }

    /// One page of an organisation's memberships, by e-mail address. `page` is read after the access check, so that
    /// a caller out of reach learns nothing from a cursor's error.
    static func list(
        in organizationID: UUID, _ filter: MembershipFilter, access: Access, on db: any Database,
        page: () throws -> KeysetPage
    ) async throws -> (items: [MembershipRecord], next: String?) {
        try await access.authorize(in: organizationID)
        let page = try page()
        let builder = OrganizationMembership.query(on: db)
            .join(User.self, on: \OrganizationMembership.$user.$id == \User.$id)
            .filter(\.$organization.$id == organizationID)
        if let status = filter.status {
            builder.filter(\.$status == status)
        }
        if let role = filter.role {
            let memberships = SQLIdentifier(OrganizationMembership.schema)
            builder.filter(
                .sql(
                    embed: """
                        EXISTS (SELECT 1 FROM \(ident: UserRole.schema) r \
                        WHERE r.user_id = \(memberships).user_id \
                        AND r.organization_id = \(memberships).organization_id \
                        AND r.role = \(bind: role.rawValue) AND r.revoked_at IS NULL)
                        """))
        }
        if let text = filter.text {
            builder.filter(
                CaseFoldedMatch.contains(
                    text, in: [(User.schema, "email"), (User.schema, "first_name"), (User.schema, "last_name")]))
        }
        let rows = try await builder.page(page).all()
        let (memberships, next) = try await page.finish(rows, id: { try $0.requireID() }, on: db)
        return (try await records(memberships, on: db), next)
    }

    /// Pauses an active membership, until a day in the future or until resumed. The reason may touch on health: it
    /// is never stored in clear, nor in the audit log.
    static func pause(
        _ membership: OrganizationMembership, lineage: [Organization], until: Date?, by caller: Caller,
        deps: AppDependencies, on db: any Database
    ) async throws {
        try await RoleRules.checkOutranks(membership, by: try caller.requirePrincipal(), over: lineage, on: db)
        let now = deps.now
        if let until, until <= now {
            throw AppError.validation([
                .init(field: "/paused_until", code: "out_of_range", message: "The end of a pause must be in the future.")
            ])
        }
        guard membership.status == .active else {
            throw AppError(.conflict, "Only an active membership can be paused (it is \(membership.status.rawValue)).")
        }
        var metadata = ["reason_given": "true"]
        if let until { metadata["paused_until"] = until.formatted(.iso8601) }
        try await db.auditedWrite(try event("membership.paused", membership, by: caller, metadata), clock: deps.clock) {
            db in
            try await transition(
                membership, from: .active, to: .paused, at: now, on: db,
                set: { update in
                    update.settingPause(at: now, until: until)
                })
        }
        membership.status = .paused
        membership.pausedAt = now
        membership.pausedUntil = until
    }

    /// Resumes a paused membership.
    static func resume(
        _ membership: OrganizationMembership, lineage: [Organization], by caller: Caller, deps: AppDependencies,
        on db: any Database
    ) async throws {
        try await RoleRules.checkOutranks(membership, by: try caller.requirePrincipal(), over: lineage, on: db)
        guard membership.status == .paused else {
            throw AppError(.conflict, "Only a paused membership can be resumed (it is \(membership.status.rawValue)).")
        }
        try await db.auditedWrite(try event("membership.resumed", membership, by: caller), clock: deps.clock) { db in
            try await transition(
                membership, from: .paused, to: .active, at: deps.now, on: db,
                set: { update in
                    update.settingPause(at: nil, until: nil)
                })
        }
        membership.status = .active
        membership.pausedAt = nil
        membership.pausedUntil = nil
    }

    /// Ends a membership: its roles there are revoked, its open invitation links expire, and the member's sessions
    /// end.
    static func end(
        _ membership: OrganizationMembership, lineage: [Organization], by caller: Caller, deps: AppDependencies,
        on db: any Database
    ) async throws {
        let principal = try caller.requirePrincipal()
        try await RoleRules.checkOutranks(membership, by: principal, over: lineage, on: db)
        let previous = membership.status
        guard previous != .ended else { throw AppError(.conflict, "The membership has already ended.") }
        let now = deps.now
        let membershipID = try membership.requireID()
        let userID = membership.$user.id
        let organizationID = membership.$organization.id

        let revokedRoles = try await db.transaction { db in
            try await transition(
                membership, from: previous, to: .ended, at: now, on: db,
                set: { update in
                    update.set("ended_at", to: now).settingPause(at: nil, until: nil)
                })
            let live = try await UserRole.query(on: db)
                .filter(\.$user.$id == userID)
                .filter(\.$organization.$id == organizationID)
                .filter(\.$revokedAt == nil)
                .all()
            try await UserRole.query(on: db)
                .filter(\.$user.$id == userID)
                .filter(\.$organization.$id == organizationID)
                .filter(\.$revokedAt == nil)
                .set(\.$revokedAt, to: now)
                .set(\.$revokedBy.$id, to: principal.userID)
                .update()
            // An open invitation link must not bring the membership back.
            try await Invitations.expireOpenTokens(of: membershipID, at: now, on: db)
            return live.map(\.role)
        }
        membership.status = .ended
        membership.endedAt = now
        membership.pausedAt = nil
        membership.pausedUntil = nil

        try await Session.revokeAll(ofUser: userID, except: nil, reason: .membershipEnded, on: db, at: now)
        let roles = Set(revokedRoles).sorted { $0.rank < $1.rank }.map(\.rawValue).joined(separator: ",")
        try await AuditLog.append(
            try event(
                "membership.ended", membership, by: caller,
                ["previous_status": previous.rawValue, "revoked_roles": roles]
            ).dated(by: deps.clock),
            on: db)
    }

    /// Grants a role on an active or paused membership; nobody grants a role above their own.
    static func grant(
        _ role: UserRole.Role, on membership: OrganizationMembership, lineage: [Organization], by caller: Caller,
        deps: AppDependencies, on db: any Database
    ) async throws {
        let principal = try caller.requirePrincipal()
        try RoleRules.checkGrantable([role], by: principal, over: lineage, field: "/role")
        guard membership.status == .active || membership.status == .paused else {
            throw AppError(
                .conflict, "Roles are granted on active or paused memberships (this one is \(membership.status.rawValue)).")
        }
        let userID = membership.$user.id
        let organizationID = membership.$organization.id
        let existing = try await UserRole.query(on: db)
            .filter(\.$user.$id == userID)
            .filter(\.$organization.$id == organizationID)
            .filter(\.$role == role)
            .filter(\.$revokedAt == nil)
            .count()
        guard existing == 0 else { throw AppError(.conflict, "The member already holds \(role.rawValue) here.") }
        let grant = UserRole(
            id: deps.uuid(), userID: userID, organizationID: organizationID, role: role, grantedByID: principal.userID,
            grantedAt: deps.now)
        let event = try event(
            "role.granted", membership, by: caller, ["role": role.rawValue, "user_id": userID.uuidString.lowercased()])
        do {
            try await db.auditedWrite(event, clock: deps.clock) { db in try await grant.create(on: db) }
        } catch let error as any DatabaseError where error.isConstraintFailure {
            throw AppError(.conflict, "The member already holds \(role.rawValue) here.")
        }
    }

    /// Revokes a live role; nobody takes away a role above their own, nor their own roles.
    static func revoke(
        _ role: UserRole.Role, on membership: OrganizationMembership, lineage: [Organization], by caller: Caller,
        deps: AppDependencies, on db: any Database
    ) async throws {
        let principal = try caller.requirePrincipal()
        let userID = membership.$user.id
        let organizationID = membership.$organization.id
        guard
            let grant = try await UserRole.query(on: db)
                .filter(\.$user.$id == userID)
                .filter(\.$organization.$id == organizationID)
                .filter(\.$role == role)
                .filter(\.$revokedAt == nil)
                .first()
        else { throw AppError(.notFound, "The member holds no \(role.rawValue) role here.") }
        try RoleRules.checkNotSelf(membership, principal)
        guard role.rank <= RoleRules.highestRank(of: principal, over: lineage) else {
            throw AppError(.forbidden, "You cannot revoke \(role.rawValue), which ranks above your own roles here.")
        }
        let now = deps.now
        let grantID = try grant.requireID()
        let event = try event(
            "role.revoked", membership, by: caller, ["role": role.rawValue, "user_id": userID.uuidString.lowercased()])
        let revoked = try await db.auditedWrite(clock: deps.clock) { db -> (Bool, AuditEvent?) in
            let rows = try await db.sqlDatabase().update(UserRole.schema)
                .set("revoked_at", to: now)
                .set("revoked_by_id", to: principal.userID)
                .set("updated_at", to: now)
                .where("id", .equal, grantID)
                .where("revoked_at", .is, SQLLiteral.null)
                .returning("id")
                .all()
            return (!rows.isEmpty, rows.isEmpty ? nil : event)
        }
        guard revoked else { throw AppError(.notFound, "The member holds no \(role.rawValue) role here.") }
    }

    // MARK: - Records

    /// The record of one membership.
    static func record(_ membership: OrganizationMembership, on db: any Database) async throws -> MembershipRecord {
        guard let record = try await records([membership], on: db).first else {
            throw AppError(.internalError, "The membership could not be mapped.")
        }
        return record
    }

    /// The records of many memberships, loading their users, organisations and live roles in three queries.
    static func records(_ memberships: [OrganizationMembership], on db: any Database) async throws -> [MembershipRecord] {
        guard !memberships.isEmpty else { return [] }
        let userIDs = Array(Set(memberships.map { $0.$user.id }))
        let organizationIDs = Array(Set(memberships.map { $0.$organization.id }))
        let users = try await User.query(on: db).filter(\.$id ~~ userIDs).all()
        let usersByID = Dictionary(uniqueKeysWithValues: users.compactMap { user in user.id.map { ($0, user) } })
        let organizations = try await Organization.query(on: db).filter(\.$id ~~ organizationIDs).all()
        let namesByID = Dictionary(
            uniqueKeysWithValues: organizations.compactMap { organization in organization.id.map { ($0, organization.name) } })
        let grants = try await UserRole.query(on: db)
            .filter(\.$user.$id ~~ userIDs)
            .filter(\.$organization.$id ~~ organizationIDs)
            .filter(\.$revokedAt == nil)
            .all()
        var rolesByPair: [Pair: [UserRole.Role]] = [:]
        for grant in grants {
            guard let organizationID = grant.$organization.id else { continue }
            rolesByPair[Pair(user: grant.$user.id, organization: organizationID), default: []].append(grant.role)
        }
        return try memberships.map { membership in
            guard let user = usersByID[membership.$user.id] else {
                throw AppError(.internalError, "A membership refers to a missing user.")
            }
            return MembershipRecord(
                membership: membership, user: user, organizationName: namesByID[membership.$organization.id],
                roles: rolesByPair[Pair(user: membership.$user.id, organization: membership.$organization.id)] ?? [])
        }
    }

    private struct Pair: Hashable {
        var user: UUID
        var organization: UUID
    }

    // MARK: - Steps

    /// Moves a membership between states with a conditional update; 409 when another request moved it first.
    static func transition(
        _ membership: OrganizationMembership, from: OrganizationMembership.Status, to: OrganizationMembership.Status,
        at now: Date, on db: any Database, set: (SQLUpdateBuilder) -> SQLUpdateBuilder
    ) async throws {
        let update = try db.sqlDatabase().update(OrganizationMembership.schema)
            .set("status", to: to.rawValue)
            .set("updated_at", to: now)
            .where("id", .equal, try membership.requireID())
            .where("status", .equal, from.rawValue)
        let changed = try await set(update).returning("id").all()
        guard !changed.isEmpty else {
            throw AppError(.conflict, "The membership changed meanwhile; reload it and try again.")
        }
    }

    /// An audit event about a membership, by `caller`.
    static func event(
        _ action: String, _ membership: OrganizationMembership, by caller: Caller, _ metadata: [String: String] = [:]
    ) throws -> AuditEvent {
        caller.event(
            action, organizationID: membership.$organization.id, targetType: "membership",
            targetID: try membership.requireID(), metadata: metadata)
    }
}

extension SQLUpdateBuilder {
    /// A membership's pause: when it began and until when (both `nil` when it is not paused). The pause's reason is
    /// never kept in clear, and with every change of the pause its sealed copy goes too.
    fileprivate func settingPause(at start: Date?, until end: Date?) -> SQLUpdateBuilder {
        set("paused_at", to: start).set("paused_until", to: end)
            .set("paused_reason_ciphertext", to: Data?.none).set("key_version", to: Int?.none)
    }
}

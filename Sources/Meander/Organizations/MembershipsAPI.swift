import Fluent
import FluentSQL
import Foundation
import Vapor

extension APIHandler {
    func listMemberships(
        _ input: Operations.ListMemberships.Input
    ) async throws -> Operations.ListMemberships.Output {
        let request = try RequestContext.request
        let organizationID = try APIID.parse(input.path.organizationId, parameter: "organizationId")
        try await request.access.authorize(in: organizationID)
        let query = input.query
        let page = try Keyset.memberships.page(limit: query.limit.map(Int.init), cursor: query.cursor, request: request)

        let builder = OrganizationMembership.query(on: request.db)
            .join(User.self, on: \OrganizationMembership.$user.$id == \User.$id)
            .filter(\.$organization.$id == organizationID)
        if let status = query.status {
            builder.filter(\.$status == OrganizationMembership.Status(status))
        }
        if let role = query.role {
            let memberships = SQLIdentifier(OrganizationMembership.schema)
            builder.filter(
                .sql(
                    embed: """
                        EXISTS (SELECT 1 FROM \(ident: UserRole.schema) r \
                        WHERE r.user_id = \(memberships).user_id \
                        AND r.organization_id = \(memberships).organization_id \
                        AND r.role = \(bind: UserRole.Role(role).rawValue) AND r.revoked_at IS NULL)
                        """))
        }
        if let q = query.q {
            builder.filter(
                CaseFoldedMatch.contains(
                    q, in: [(User.schema, "email"), (User.schema, "first_name"), (User.schema, "last_name")]))
        }
        let rows = try await builder.page(page).all()
        let (memberships, next) = try await page.finish(rows, id: { try $0.requireID() }, on: request.db)
        let items = try await Components.Schemas.Membership.load(memberships, on: request.db)
        return .ok(.init(body: .json(.init(items: items, nextCursor: next))))
    }

    func pauseMembership(_ input: Operations.PauseMembership.Input) async throws -> Operations.PauseMembership.Output {
        let request = try RequestContext.request
        let (membership, lineage) = try await Memberships.authorized(input.path.membershipId, request: request)
        try await RoleRules.checkOutranks(membership, by: try request.requirePrincipal(), over: lineage, on: request.db)
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let now = request.now
        if let until = body.pausedUntil, until <= now {
            throw AppError.validation([
                .init(field: "/paused_until", code: "out_of_range", message: "The end of a pause must be in the future.")
            ])
        }
        guard membership.status == .active else {
            throw AppError(.conflict, "Only an active membership can be paused (it is \(membership.status.rawValue)).")
        }
        // The reason may touch on health: it is stored only encrypted (issue 4) and never in clear or in the audit
        // log. Until encryption exists it is not stored at all.
        try await Memberships.transition(
            membership, from: .active, to: .paused, at: request.now, on: request.db,
            set: { update in
                update.set("paused_at", to: now).set("paused_until", to: body.pausedUntil)
                    .set("paused_reason_ciphertext", to: Data?.none).set("key_version", to: Int?.none)
            })
        membership.status = .paused
        membership.pausedAt = now
        membership.pausedUntil = body.pausedUntil
        var metadata = ["reason_given": "true"]
        if let until = body.pausedUntil {
            metadata["paused_until"] = until.formatted(.iso8601)
        }
        try await Memberships.audit("membership.paused", membership, request: request, metadata: metadata)
        return .ok(.init(body: .json(try await Components.Schemas.Membership.load(membership, on: request.db))))
    }

    func resumeMembership(
        _ input: Operations.ResumeMembership.Input
    ) async throws -> Operations.ResumeMembership.Output {
        let request = try RequestContext.request
        let (membership, lineage) = try await Memberships.authorized(input.path.membershipId, request: request)
        try await RoleRules.checkOutranks(membership, by: try request.requirePrincipal(), over: lineage, on: request.db)
        guard membership.status == .paused else {
            throw AppError(.conflict, "Only a paused membership can be resumed (it is \(membership.status.rawValue)).")
        }
        try await Memberships.transition(
            membership, from: .paused, to: .active, at: request.now, on: request.db,
            set: { update in
                update.set("paused_at", to: Date?.none).set("paused_until", to: Date?.none)
                    .set("paused_reason_ciphertext", to: Data?.none).set("key_version", to: Int?.none)
            })
        membership.status = .active
        membership.pausedAt = nil
        membership.pausedUntil = nil
        try await Memberships.audit("membership.resumed", membership, request: request)
        return .ok(.init(body: .json(try await Components.Schemas.Membership.load(membership, on: request.db))))
    }

    func endMembership(_ input: Operations.EndMembership.Input) async throws -> Operations.EndMembership.Output {
        let request = try RequestContext.request
        let (membership, lineage) = try await Memberships.authorized(input.path.membershipId, request: request)
        let principal = try request.requirePrincipal()
        try await RoleRules.checkOutranks(membership, by: principal, over: lineage, on: request.db)
        let previous = membership.status
        guard previous != .ended else { throw AppError(.conflict, "The membership has already ended.") }
        let now = request.now
        let membershipID = try membership.requireID()
        let userID = membership.$user.id
        let organizationID = membership.$organization.id

        let revokedRoles = try await request.db.transaction { db in
            try await Memberships.transition(
                membership, from: previous, to: .ended, at: now, on: db,
                set: { update in
                    update.set("ended_at", to: now).set("paused_at", to: Date?.none).set("paused_until", to: Date?.none)
                        .set("paused_reason_ciphertext", to: Data?.none).set("key_version", to: Int?.none)
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

        try await Session.revokeAll(
            ofUser: userID, except: nil, reason: .membershipEnded, on: request.db, at: request.now)
        try await Memberships.audit(
            "membership.ended", membership, request: request,
            metadata: [
                "previous_status": previous.rawValue,
                "revoked_roles": Components.Schemas.Membership.apiRoles(revokedRoles).map(\.rawValue)
                    .joined(separator: ","),
            ])
        return .ok(.init(body: .json(try await Components.Schemas.Membership.load(membership, on: request.db))))
    }

    func grantRole(_ input: Operations.GrantRole.Input) async throws -> Operations.GrantRole.Output {
        let request = try RequestContext.request
        let (membership, lineage) = try await Memberships.authorized(input.path.membershipId, request: request)
        let principal = try request.requirePrincipal()
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let role = UserRole.Role(body.role)
        try RoleRules.checkGrantable([role], by: principal, over: lineage, field: "/role")
        guard membership.status == .active || membership.status == .paused else {
            throw AppError(
                .conflict, "Roles are granted on active or paused memberships (this one is \(membership.status.rawValue)).")
        }
        let userID = membership.$user.id
        let organizationID = membership.$organization.id
        let existing = try await UserRole.query(on: request.db)
            .filter(\.$user.$id == userID)
            .filter(\.$organization.$id == organizationID)
            .filter(\.$role == role)
            .filter(\.$revokedAt == nil)
            .count()
        guard existing == 0 else { throw AppError(.conflict, "The member already holds \(role.rawValue) here.") }
        let grant = UserRole(userID: userID, organizationID: organizationID, role: role, grantedByID: principal.userID)
        do {
            try await grant.create(on: request.db)
        } catch let error as any DatabaseError where error.isConstraintFailure {
            throw AppError(.conflict, "The member already holds \(role.rawValue) here.")
        }
        try await Memberships.audit(
            "role.granted", membership, request: request,
            metadata: ["role": role.rawValue, "user_id": userID.uuidString.lowercased()])
        return .ok(.init(body: .json(try await Components.Schemas.Membership.load(membership, on: request.db))))
    }

    func revokeRole(_ input: Operations.RevokeRole.Input) async throws -> Operations.RevokeRole.Output {
        let request = try RequestContext.request
        let (membership, lineage) = try await Memberships.authorized(input.path.membershipId, request: request)
        let principal = try request.requirePrincipal()
        let role = UserRole.Role(input.path.role)
        let userID = membership.$user.id
        let organizationID = membership.$organization.id
        guard
            let grant = try await UserRole.query(on: request.db)
                .filter(\.$user.$id == userID)
                .filter(\.$organization.$id == organizationID)
                .filter(\.$role == role)
                .filter(\.$revokedAt == nil)
                .first()
        else { throw AppError(.notFound, "The member holds no \(role.rawValue) role here.") }
        try RoleRules.checkNotSelf(membership, principal)
        // Nobody takes away a role above their own.
        guard role.rank <= RoleRules.highestRank(of: principal, over: lineage) else {
            throw AppError(.forbidden, "You cannot revoke \(role.rawValue), which ranks above your own roles here.")
        }
        let revoked = try await (request.db as! any SQLDatabase).update(UserRole.schema)
            .set("revoked_at", to: request.now)
            .set("revoked_by_id", to: principal.userID)
            .set("updated_at", to: request.now)
            .where("id", .equal, try grant.requireID())
            .where("revoked_at", .is, SQLLiteral.null)
            .returning("id")
            .all()
        guard !revoked.isEmpty else { throw AppError(.notFound, "The member holds no \(role.rawValue) role here.") }
        try await Memberships.audit(
            "role.revoked", membership, request: request,
            metadata: ["role": role.rawValue, "user_id": userID.uuidString.lowercased()])
        return .ok(.init(body: .json(try await Components.Schemas.Membership.load(membership, on: request.db))))
    }
}

/// Shared steps of the membership operations.
enum Memberships {
    /// Loads a membership by its id and authorises the operation in its organisation; a missing one is 404 too.
    static func authorized(
        _ rawID: String, request: Request
    ) async throws -> (OrganizationMembership, [Organization]) {
        let id = try APIID.parse(rawID, parameter: "membershipId")
        guard let membership = try await OrganizationMembership.find(id, on: request.db) else {
            throw AppError(.notFound, "No such membership.")
        }
        let lineage = try await request.access.authorize(in: membership.$organization.id)
        return (membership, lineage)
    }

    /// Moves a membership between states with a conditional update; 409 when another request moved it first.
    static func transition(
        _ membership: OrganizationMembership, from: OrganizationMembership.Status, to: OrganizationMembership.Status,
        at now: Date, on db: any Database, set: (SQLUpdateBuilder) -> SQLUpdateBuilder
    ) async throws {
        let update = (db as! any SQLDatabase).update(OrganizationMembership.schema)
            .set("status", to: to.rawValue)
            .set("updated_at", to: now)
            .where("id", .equal, try membership.requireID())
            .where("status", .equal, from.rawValue)
        let changed = try await set(update).returning("id").all()
        guard !changed.isEmpty else {
            throw AppError(.conflict, "The membership changed meanwhile; reload it and try again.")
        }
    }

    static func audit(
        _ action: String, _ membership: OrganizationMembership, request: Request, metadata: [String: String] = [:]
    ) async throws {
        try await AuditLog.append(
            AuditEvent(
                action, request: request, organizationID: membership.$organization.id, targetType: "membership",
                targetID: try membership.requireID(), metadata: metadata),
            on: request.db)
    }
}

/// Who may hand out or take away which role.
enum RoleRules {
    /// The highest rank among the caller's roles that reach an organisation: held there or above, or platform-wide.
    static func highestRank(of principal: Principal, over lineage: [Organization]) -> Int {
        let lineageIDs = Set(lineage.compactMap(\.id))
        return principal.grants
            .filter { grant in grant.organizationID.map(lineageIDs.contains) ?? true }
            .map(\.role.rank)
            .max() ?? 0
    }

    /// `platform_admin` is never granted within an organisation (400); no role above the caller's own (403).
    static func checkGrantable(
        _ roles: [UserRole.Role], by principal: Principal, over lineage: [Organization], field: String
    ) throws {
        if roles.contains(.platformAdmin) {
            throw AppError.validation([
                .init(
                    field: field, code: "invalid_value",
                    message: "platform_admin is platform-wide and cannot be granted within an organisation.")
            ])
        }
        let own = highestRank(of: principal, over: lineage)
        if let above = roles.first(where: { $0.rank > own }) {
            throw AppError(.forbidden, "You cannot grant \(above.rawValue), which ranks above your own roles here.")
        }
    }

    /// Managing a membership (pause, resume, end) needs a rank at least as high as the member's own roles there.
    /// Nobody pauses, ends or takes roles from their own membership: an admin could lock themselves (and, as the
    /// last admin, the organisation) out. Another admin does it.
    static func checkNotSelf(_ membership: OrganizationMembership, _ principal: Principal) throws {
        guard membership.$user.id != principal.userID else {
            throw AppError(.forbidden, "You cannot change your own membership or roles; ask another admin.")
        }
    }

    static func checkOutranks(
        _ membership: OrganizationMembership, by principal: Principal, over lineage: [Organization],
        on db: any Database
    ) async throws {
        try checkNotSelf(membership, principal)
        let memberRoles = try await UserRole.query(on: db)
            .filter(\.$user.$id == membership.$user.id)
            .filter(\.$organization.$id == membership.$organization.id)
            .filter(\.$revokedAt == nil)
            .all(\.$role)
        let memberRank = memberRoles.map(\.rank).max() ?? 0
        guard memberRank <= highestRank(of: principal, over: lineage) else {
            throw AppError(.forbidden, "This member holds a role above your own here.")
        }
    }
}

extension OrganizationMembership.Status {
    init(_ status: Components.Schemas.MembershipStatus) {
        switch status {
        case .invited: self = .invited
        case .active: self = .active
        case .paused: self = .paused
        case .ended: self = .ended
        }
    }
}

extension Keyset {
    /// An organisation's memberships by the member's e-mail address (the users table is joined into the list).
    static let memberships = Keyset(
        "listMemberships", table: OrganizationMembership.schema,
        from: """
            \(ident: OrganizationMembership.schema) \(ident: Keyset.alias) \
            JOIN \(ident: User.schema) keyset_user ON keyset_user.id = \(ident: Keyset.alias).user_id
            """,
        [.expression("\(ident: User.schema).\(ident: "email")", stored: "keyset_user.email")], id: .ascending)
}

import Fluent
import FluentSQL
import Foundation

/// Signed-in sessions as their owners and their organisations' administrators see them: listing them, and ending
/// one. Sign-in and sign-out themselves are `SignInService`'s, which owns the `sessions` table with this.
enum Sessions {
    /// What an administrator's session list is filtered by.
    struct Filter: Sendable {
        /// The organisation whose members' sessions are listed (its subtree).
        var organizationID: UUID
        /// One member only.
        var userID: UUID?
        var includeRevoked = false
    }

    /// The caller's own sessions, newest first; live ones only unless `includeRevoked`.
    static func listMine(
        includeRevoked: Bool, page: () throws -> KeysetPage, idleTimeout: TimeInterval, access: Access, deps: AppDependencies,
        on db: any Database
    ) async throws -> (items: [Session], next: String?) {
        let principal = try access.authorizeSelf()
        let page = try page()
        let now = deps.now
        let builder = Session.query(on: db).filter(\.$user.$id == principal.userID)
        if !includeRevoked {
            builder.filter(\.$revokedAt == nil)
                .filter(\.$expiresAt > now)
                .filter(\.$lastSeenAt > now.addingTimeInterval(-idleTimeout))
        }
        let rows = try await builder.page(page).all()
        return try await page.finish(rows, id: { try $0.requireID() }, on: db)
    }

    /// Ends one of the caller's own sessions; anyone else's is 404.
    static func revokeMine(_ sessionID: UUID, access: Access, deps: AppDependencies, on db: any Database) async throws {
        let principal = try access.authorizeSelf()
        guard
            let session = try await Session.query(on: db)
                .filter(\.$id == sessionID)
                .filter(\.$user.$id == principal.userID)
                .first()
        else { throw AppError(.notFound, "No such session.") }
        try checkNotCurrent(sessionID, caller: access.caller)
        let now = deps.now
        let event = access.caller.event(
            "session.revoked", organizationID: nil, targetType: "session", targetID: sessionID,
            metadata: ["reason": Session.RevocationReason.revokedByUser.rawValue])
        try await db.auditedWrite(clock: deps.clock) { transaction -> (Void, AuditEvent?) in
            let revoked = try await Session.revoke(session, reason: .revokedByUser, on: transaction, at: now)
            return ((), revoked ? event : nil)
        }
    }

    /// The sessions of an organisation's members (of its subtree, memberships not ended), newest first; live ones
    /// only unless `includeRevoked`. A user who is no member there is 404.
    static func list(
        _ filter: Filter, page: () throws -> KeysetPage, access: Access, deps: AppDependencies, on db: any Database
    ) async throws -> (items: [Session], next: String?) {
        try await access.authorize(in: filter.organizationID)
        let page = try page()
        let subtree = try await OrganizationTree.subtreeIDs(of: [filter.organizationID], on: db)
        let builder = Session.query(on: db)
        if let userID = filter.userID {
            let memberships = try await OrganizationMembership.query(on: db)
                .filter(\.$user.$id == userID)
                .filter(\.$organization.$id ~~ Array(subtree))
                .filter(\.$status != .ended)
                .count()
            guard memberships > 0 else { throw AppError(.notFound, "No such user in this organisation.") }
            builder.filter(\.$user.$id == userID)
        } else {
            builder.filter(
                .sql(
                    embed: """
                        \(ident: Session.schema).user_id IN (SELECT m.user_id \
                        FROM \(ident: OrganizationMembership.schema) m \
                        WHERE m.organization_id IN (\(binds: Array(subtree))) AND m.status <> 'ended')
                        """))
        }
        if !filter.includeRevoked {
            builder.filter(\.$revokedAt == nil).filter(\.$expiresAt > deps.now)
        }
        let rows = try await builder.page(page).all()
        return try await page.finish(rows, id: { try $0.requireID() }, on: db)
    }

    /// Ends a member's session, for an administrator of one of the organisations the user belongs to. Ending an
    /// ended session again changes nothing and is not an event.
    static func revoke(_ sessionID: UUID, access: Access, deps: AppDependencies, on db: any Database) async throws {
        guard let session = try await Session.find(sessionID, on: db) else {
            throw AppError(.notFound, "No such session.")
        }
        let userID = session.$user.id
        let organizationID = try await authorizeOverUser(userID, access: access, on: db)
        try checkNotCurrent(sessionID, caller: access.caller)
        let now = deps.now
        let event = access.caller.event(
            "session.revoked", organizationID: organizationID, targetType: "session", targetID: sessionID,
            metadata: [
                "user_id": userID.uuidString.lowercased(),
                "reason": Session.RevocationReason.revokedByAdmin.rawValue,
            ])
        try await db.auditedWrite(clock: deps.clock) { transaction -> (Void, AuditEvent?) in
            let revoked = try await Session.revoke(session, reason: .revokedByAdmin, on: transaction, at: now)
            return ((), revoked ? event : nil)
        }
    }

    /// The session making the request ends with `POST /api/v1/auth/logout`, not through the session lists: a client
    /// (or a tool walking the API) that revokes "a session" from a list must not sign itself out by accident.
    static func checkNotCurrent(_ sessionID: UUID, caller: Caller) throws {
        guard caller.sessionID != sessionID else {
            throw AppError(.conflict, "This is the session you are using; sign out with POST /api/v1/auth/logout.")
        }
    }

    /// Authorises `access`'s permission over a user: in one of the organisations where they are a member.
    ///
    /// Returns the organisation that granted it. Like `Access.authorize`, a user outside the caller's reach is 404
    /// and one inside it with no granting role is 403.
    static func authorizeOverUser(_ userID: UUID, access: Access, on db: any Database) async throws -> UUID {
        let organizationIDs = try await OrganizationMembership.query(on: db)
            .filter(\.$user.$id == userID)
            .filter(\.$status != .ended)
            .all(\.$organization.$id)
        var denial = AppError(.notFound, "No such session.")
        for organizationID in Set(organizationIDs).sorted(by: { $0.uuidString < $1.uuidString }) {
            do {
                try await access.authorize(in: organizationID)
                return organizationID
            } catch let error as AppError where error.code == .forbidden {
                denial = error
            } catch let error as AppError where error.code == .notFound {
                continue
            }
        }
        throw denial
    }
}

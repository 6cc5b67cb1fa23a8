import Fluent
import FluentSQL
import Foundation
import Vapor

extension APIHandler {
    func listSessions(_ input: Operations.ListSessions.Input) async throws -> Operations.ListSessions.Output {
        let request = try RequestContext.request
        let query = input.query
        let organizationID = try APIID.parse(query.organizationId, parameter: "organization_id")
        try await request.access.authorize(in: organizationID)
        let page = try Keyset.sessions(list: "listSessions").page(
            limit: query.limit.map(Int.init), cursor: query.cursor, request: request)
        let subtree = try await OrganizationTree.subtreeIDs(of: [organizationID], on: request.db)
        let principal = try request.requirePrincipal()

        let builder = Session.query(on: request.db)
        if let rawUserID = query.userId {
            let userID = try APIID.parse(rawUserID, parameter: "user_id")
            let memberships = try await OrganizationMembership.query(on: request.db)
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
        if query.includeRevoked != true {
            builder.filter(\.$revokedAt == nil).filter(\.$expiresAt > request.now)
        }
        let rows = try await builder.page(page).all()
        let (sessions, next) = try await page.finish(rows, id: { try $0.requireID() }, on: request.db)
        let items = try sessions.map { try Components.Schemas.Session($0, currentSessionID: principal.sessionID) }
        return .ok(.init(body: .json(.init(items: items, nextCursor: next))))
    }

    func revokeSession(_ input: Operations.RevokeSession.Input) async throws -> Operations.RevokeSession.Output {
        let request = try RequestContext.request
        let sessionID = try APIID.parse(input.path.sessionId, parameter: "sessionId")
        guard let session = try await Session.find(sessionID, on: request.db) else {
            throw AppError(.notFound, "No such session.")
        }
        let userID = session.$user.id
        let organizationID = try await AdminSessions.authorizeOverUser(userID, request: request)
        try SessionRules.checkNotCurrent(sessionID, request: request)

        // Revoking an ended session again changes nothing and is not an event.
        guard try await Session.revoke(session, reason: .revokedByAdmin, on: request.db, at: request.now) else {
            return .noContent(.init())
        }
        try await AuditLog.append(
            AuditEvent(
                "session.revoked", request: request, organizationID: organizationID, targetType: "session",
                targetID: sessionID,
                metadata: [
                    "user_id": userID.uuidString.lowercased(),
                    "reason": Session.RevocationReason.revokedByAdmin.rawValue,
                ]),
            on: request.db)
        return .noContent(.init())
    }
}

enum AdminSessions {
    /// Authorises the declared permission over a user: in one of the organisations where they are a member.
    ///
    /// Returns the organisation that granted it. Like `Access.authorize`, a user outside the caller's reach is 404
    /// and one inside it with no granting role is 403.
    static func authorizeOverUser(_ userID: UUID, request: Request) async throws -> UUID {
        let organizationIDs = try await OrganizationMembership.query(on: request.db)
            .filter(\.$user.$id == userID)
            .filter(\.$status != .ended)
            .all(\.$organization.$id)
        var denial = AppError(.notFound, "No such session.")
        for organizationID in Set(organizationIDs).sorted(by: { $0.uuidString < $1.uuidString }) {
            do {
                try await request.access.authorize(in: organizationID)
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

import Foundation
import Vapor

extension APIHandler {
    /// The caller's account, memberships and the roles held in each.
    func getMe(_ input: Operations.GetMe.Input) async throws -> Operations.GetMe.Output {
        let request = try RequestContext.request
        let account = try await Accounts.me(access: request.access, on: request.db)
        return .ok(.init(body: .json(try Components.Schemas.Me(account))))
    }

    /// Changes the caller's password; every other session of theirs ends (see `SignInService.changePassword`).
    func changeMyPassword(_ input: Operations.ChangeMyPassword.Input) async throws -> Operations.ChangeMyPassword.Output {
        let request = try RequestContext.request
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        try await request.signIn.changePassword(
            current: body.currentPassword, new: body.newPassword, access: request.access, on: request.db)
        return .noContent(.init())
    }

    /// The caller's sessions, newest first; live ones only unless `include_revoked`.
    func listMySessions(_ input: Operations.ListMySessions.Input) async throws -> Operations.ListMySessions.Output {
        let request = try RequestContext.request
        let query = input.query
        let page = {
            try Keyset.sessions(list: "listMySessions").page(
                limit: query.limit.map(Int.init), cursor: query.cursor, request: request)
        }
        let (sessions, next) = try await Sessions.listMine(
            includeRevoked: query.includeRevoked == true, page: page,
            idleTimeout: request.application.meander.config.sessionIdleTimeout, access: request.access,
            deps: request.dependencies, on: request.db)
        let current = request.principal?.sessionID
        let items = try sessions.map { try Components.Schemas.Session($0, currentSessionID: current) }
        return .ok(.init(body: .json(.init(items: items, nextCursor: next))))
    }

    /// Ends one of the caller's own sessions; anyone else's answers 404.
    func revokeMySession(_ input: Operations.RevokeMySession.Input) async throws -> Operations.RevokeMySession.Output {
        let request = try RequestContext.request
        guard let sessionID = APIID.uuid(input.path.sessionId) else { throw AppError(.notFound, "No such session.") }
        try await Sessions.revokeMine(sessionID, access: request.access, deps: request.dependencies, on: request.db)
        return .noContent(.init())
    }
}

extension Keyset {
    /// Sessions, newest first (the caller's own, or an administrator's view of an organisation's).
    static func sessions(list: String) -> Keyset {
        Keyset(list, table: Session.schema, [.column("created_at", .descending, nullable: true)], id: .descending)
    }
}

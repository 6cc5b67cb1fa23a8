import Foundation
import Vapor

extension APIHandler {
    func listSessions(_ input: Operations.ListSessions.Input) async throws -> Operations.ListSessions.Output {
        let request = try RequestContext.request
        let query = input.query
        let filter = Sessions.Filter(
            organizationID: try APIID.parse(query.organizationId, parameter: "organization_id"),
            userID: try query.userId.map { try APIID.parse($0, parameter: "user_id") },
            includeRevoked: query.includeRevoked == true)
        let page = {
            try Keyset.sessions(list: "listSessions").page(
                limit: query.limit.map(Int.init), cursor: query.cursor, request: request)
        }
        let (sessions, next) = try await Sessions.list(
            filter, page: page, access: request.access, deps: request.dependencies, on: request.db)
        let current = request.principal?.sessionID
        let items = try sessions.map { try Components.Schemas.Session($0, currentSessionID: current) }
        return .ok(.init(body: .json(.init(items: items, nextCursor: next))))
    }

    func revokeSession(_ input: Operations.RevokeSession.Input) async throws -> Operations.RevokeSession.Output {
        let request = try RequestContext.request
        let sessionID = try APIID.parse(input.path.sessionId, parameter: "sessionId")
        try await Sessions.revoke(sessionID, access: request.access, deps: request.dependencies, on: request.db)
        return .noContent(.init())
    }
}

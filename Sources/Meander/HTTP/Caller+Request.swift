import Foundation
import Vapor

extension Caller {
    /// The signed-in caller of a request (401 without one), with their roles.
    init(_ request: Request) throws {
        _ = try request.requirePrincipal()
        self.init(anyoneOf: request)
    }

    /// The caller of a request, signed in or not; an access check needs them signed in (401 otherwise).
    init(anyoneOf request: Request) {
        let principal = request.principal
        self.init(
            userID: principal?.userID, sessionID: principal?.sessionID, client: AuditEvent.client(of: request),
            ip: request.remoteAddress?.ipAddress,
            userAgent: request.headers.first(name: .userAgent).map { String($0.prefix(512)) }, principal: principal,
            checked: { request.markAuthorized() })
    }
}

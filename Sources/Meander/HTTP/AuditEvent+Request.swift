import Foundation
import Vapor

extension AuditEvent {
    /// An event about a request: actor and session from the signed-in caller, IP, user agent and client.
    init(
        _ action: String, request: Request, outcome: AuditLogEntry.Outcome = .success,
        organizationID: UUID? = nil, targetType: String? = nil, targetID: UUID? = nil,
        actorUserID: UUID? = nil, sessionID: UUID? = nil, metadata: [String: String] = [:]
    ) {
        self.init(
            action, outcome: outcome, actorUserID: actorUserID ?? request.principal?.userID,
            sessionID: sessionID ?? request.principal?.sessionID, organizationID: organizationID,
            targetType: targetType, targetID: targetID, client: AuditEvent.client(of: request),
            ip: request.remoteAddress?.ipAddress,
            userAgent: request.headers.first(name: .userAgent).map { String($0.prefix(512)) }, metadata: metadata)
        self.clock = request.dependencies.clock
    }

    /// `X-Meander-Client: mobile|portal|cli` names the client; anything else counts as a plain API client.
    static func client(of request: Request) -> AuditLogEntry.Client {
        switch request.headers.first(name: "X-Meander-Client")?.lowercased() {
        case "mobile": .mobile
        case "portal", "admin-portal", "admin_portal": .portal
        case "cli": .cli
        default: .api
        }
    }
}

import Foundation
import Vapor

extension AuditEvent {
    /// An event about a request: actor and session from the signed-in caller, IP, user agent and client.
    init(
        _ action: String, request: Request, outcome: AuditLogEntry.Outcome = .success,
        organizationID: UUID? = nil, targetType: String? = nil, targetID: UUID? = nil,
        actorUserID: UUID? = nil, sessionID: UUID? = nil, metadata: [String: String] = [:]
    ) {
        // The caller's identity and origin, read from the request in one place (`Caller(anyoneOf:)`).
        self = Caller(anyoneOf: request).event(
            action, organizationID: organizationID, targetType: targetType, targetID: targetID, outcome: outcome,
            metadata: metadata)
        if let actorUserID { self.actorUserID = actorUserID }
        if let sessionID { self.sessionID = sessionID }
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

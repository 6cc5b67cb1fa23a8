import FluentKit
import Foundation

/// Who calls a service, as the service sees them, without HTTP: a signed-in user over the API or the portal, an
/// operator at the CLI, or a job acting for whoever started it. Handlers build it from the request
/// (`Caller(request)`, in `HTTP/`), the CLI uses `Caller.cli`, and a job keeps the caller it was started by.
///
/// It says who acts (user and session, for the audit chain), from where (client, IP, user agent), and, for a signed-in
/// user, their live roles (`principal`), from which a service works out their reach.
struct Caller: Sendable {
    var userID: UUID?
    var sessionID: UUID?
    var client: AuditLogEntry.Client
    var ip: String?
    var userAgent: String?
    /// The signed-in user's roles; `nil` for the CLI.
    var principal: Principal?
    /// Called when an access check ran for this caller: over HTTP it marks the request as checked, so that
    /// `AccessMiddleware` can refuse a response that skipped every check.
    var checked: (@Sendable () -> Void)?

    init(
        userID: UUID?, sessionID: UUID?, client: AuditLogEntry.Client, ip: String? = nil, userAgent: String? = nil,
        principal: Principal? = nil, checked: (@Sendable () -> Void)? = nil
    ) {
        self.userID = userID
        self.sessionID = sessionID
        self.client = client
        self.ip = ip
        self.userAgent = userAgent
        self.principal = principal
        self.checked = checked
    }

    /// The access checks of `permission` for this caller, reading the organisation tree on `db`.
    func access(_ permission: Permission, on db: any Database) -> Access {
        Access(caller: self, declared: permission, db: db)
    }

    /// An operator at the command line: no user, no session.
    static let cli = Caller(userID: nil, sessionID: nil, client: .cli)

    /// The signed-in user, or 401 for a caller that has none (the CLI calling a user's service).
    func requirePrincipal() throws -> Principal {
        guard let principal else { throw AppError(.unauthorized, "Sign in first.") }
        return principal
    }

    /// An audit event by this caller.
    func event(
        _ action: String, organizationID: UUID?, targetType: String?, targetID: UUID?,
        outcome: AuditLogEntry.Outcome = .success, metadata: [String: String] = [:]
    ) -> AuditEvent {
        AuditEvent(
            action, outcome: outcome, actorUserID: userID, sessionID: sessionID, organizationID: organizationID,
            targetType: targetType, targetID: targetID, client: client, ip: ip, userAgent: userAgent, metadata: metadata)
    }
}

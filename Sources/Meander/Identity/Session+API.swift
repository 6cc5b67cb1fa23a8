import Foundation

extension Components.Schemas.Session {
    /// The API view of a session; `current` marks the session of the calling token.
    init(_ session: Session, currentSessionID: UUID?) throws {
        let id = try session.requireID()
        self.init(
            id: id.uuidString.lowercased(),
            userId: session.$user.id.uuidString.lowercased(),
            authMethod: session.authMethod.rawValue,
            userAgent: session.userAgent,
            ip: session.ip,
            createdAt: session.createdAt ?? session.lastSeenAt,
            lastSeenAt: session.lastSeenAt,
            expiresAt: session.expiresAt,
            revokedAt: session.revokedAt,
            revokedReason: session.revokedReason?.rawValue,
            current: id == currentSessionID)
    }
}

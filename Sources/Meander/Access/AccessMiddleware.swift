import Fluent
import Foundation
import Vapor

/// Attaches each operation's declared permission to the request and authenticates the caller where one is needed.
///
/// Order of checks: 401 for a missing, expired or invalid token or session comes before any validation of the
/// request, so that an anonymous caller learns nothing about the operation. A handler that returns success
/// without having run one of `Access`'s checks is a bug; it answers 500 instead of leaking data.
struct AccessMiddleware: AsyncMiddleware {
    let contract: OpenAPIContract

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard let operation = request.contractOperation(in: contract) else {
            return try await next.respond(to: request)
        }
        guard let declared = operation.permission, let permission = Permission(rawValue: declared) else {
            throw AppError(.internalError, "The operation declares no known permission.")
        }
        request.permission = permission
        if permission.requiresAuthentication {
            request.principal = try await Self.authenticate(request)
        }
        let response = try await next.respond(to: request)
        if permission.requiresAuthentication, !request.wasAuthorized, response.status.code < 300 {
            request.logger.critical(
                "handler skipped its access check", metadata: ["operation": .string(operation.operationID)])
            throw AppError(.internalError, "The operation did not check access.")
        }
        return response
    }

    /// Verifies the bearer token and its session; every failure is the same 401.
    static func authenticate(_ request: Request) async throws -> Principal {
        let unauthorized = AppError(
            .unauthorized, "A valid access token is required.",
            headers: [("WWW-Authenticate", #"Bearer realm="meander""#)])
        guard let token = request.headers.bearerAuthorization?.token else { throw unauthorized }
        let services = request.application.meander
        guard let claims = try? await services.tokens.verifyAccessToken(token),
            let userID = UUID(uuidString: claims.sub.value),
            let sessionID = UUID(uuidString: claims.sid),
            let loaded = try await Principal.loadWithSession(userID: userID, sessionID: sessionID, on: request.db)
        else { throw unauthorized }
        let now = request.now
        let session = loaded.session
        guard session.revokedAt == nil, session.expiresAt > now,
            session.lastSeenAt.addingTimeInterval(services.config.sessionIdleTimeout) > now, session.userIsActive
        else { throw unauthorized }
        if now.timeIntervalSince(session.lastSeenAt) > 60 {
            try await request.db.sqlDatabase().raw(
                "UPDATE sessions SET last_seen_at = \(bind: now) WHERE id = \(bind: sessionID)"
            ).run()
        }
        return loaded.principal
    }
}

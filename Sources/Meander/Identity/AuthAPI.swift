import Foundation
import Vapor

extension APIHandler {
    /// Signs in with e-mail and password (see `SignInService.login`).
    func login(_ input: Operations.Login.Input) async throws -> Operations.Login.Output {
        let request = try RequestContext.request
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let tokens = try await request.signIn.login(
            email: body.email, password: body.password, caller: Caller(anyoneOf: request), on: request.db)
        return .ok(.init(body: .json(.init(tokens, lifetime: request.application.meander.tokens))))
    }

    /// Exchanges a refresh token for a new pair (see `SignInService.refresh`).
    func refreshToken(_ input: Operations.RefreshToken.Input) async throws -> Operations.RefreshToken.Output {
        let request = try RequestContext.request
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let tokens = try await request.signIn.refresh(
            body.refreshToken, caller: Caller(anyoneOf: request), on: request.db)
        return .ok(.init(body: .json(.init(tokens, lifetime: request.application.meander.tokens))))
    }

    /// Ends the caller's session and every token in it.
    func logout(_ input: Operations.Logout.Input) async throws -> Operations.Logout.Output {
        let request = try RequestContext.request
        try await request.signIn.logout(access: request.access, on: request.db)
        return .noContent(.init())
    }

    /// Queues a password-reset e-mail if the address belongs to an active account; answers 202 either way.
    func requestPasswordReset(
        _ input: Operations.RequestPasswordReset.Input
    ) async throws -> Operations.RequestPasswordReset.Output {
        let request = try RequestContext.request
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        try await request.signIn.requestPasswordReset(
            email: body.email, caller: Caller(anyoneOf: request), on: request.db)
        return .accepted(.init())
    }

    /// Spends a reset token, sets the new password, lifts any lock-out and revokes every session of the user.
    func confirmPasswordReset(
        _ input: Operations.ConfirmPasswordReset.Input
    ) async throws -> Operations.ConfirmPasswordReset.Output {
        let request = try RequestContext.request
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        try await request.signIn.confirmPasswordReset(
            token: body.token, newPassword: body.newPassword, caller: Caller(anyoneOf: request), on: request.db)
        return .noContent(.init())
    }
}

extension Components.Schemas.TokenResponse {
    /// The OAuth 2.0 token response.
    init(_ tokens: SignInService.Tokens, lifetime: TokenService) {
        self.init(
            accessToken: tokens.accessToken, tokenType: .bearer, expiresIn: Int32(lifetime.accessTokenLifetime),
            refreshToken: tokens.refreshToken)
    }
}

extension Request {
    /// The sign-in service with this application's configuration, for this request's logger.
    var signIn: SignInService {
        let meander = application.meander
        return SignInService(
            config: meander.config, tokens: meander.tokens, deps: dependencies, threadPool: application.threadPool,
            refreshesInFlight: meander.refreshesInFlight, logger: logger)
    }
}

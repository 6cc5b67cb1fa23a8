import Foundation
import Vapor

extension APIHandler {
    func createInvitation(
        _ input: Operations.CreateInvitation.Input
    ) async throws -> Operations.CreateInvitation.Output {
        let request = try RequestContext.request
        let organizationID = try APIID.parse(input.path.organizationId, parameter: "organizationId")
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let new = NewInvitation(
            organizationID: organizationID, email: body.email, roles: body.roles.map(UserRole.Role.init),
            firstName: body.firstName, lastName: body.lastName, locale: body.locale.map(User.Language.init))
        let (membership, expiresAt) = try await Invitations.create(
            new, access: request.access, deps: request.dependencies,
            publicURL: request.application.meander.config.publicURL, on: request.db)
        let view = try Components.Schemas.Membership(membership)
        return .created(.init(body: .json(.init(membership: view, expiresAt: expiresAt))))
    }

    func acceptInvitation(
        _ input: Operations.AcceptInvitation.Input
    ) async throws -> Operations.AcceptInvitation.Output {
        let request = try RequestContext.request
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let acceptance = InvitationAcceptance(
            token: body.token, password: body.password, firstName: body.firstName, lastName: body.lastName)
        let account = try await Invitations.accept(
            acceptance, caller: Caller(anyoneOf: request), deps: request.dependencies,
            hasher: PasswordHasher(cost: request.application.meander.config.passwordHashCost),
            threadPool: request.application.threadPool, on: request.db)
        return .ok(.init(body: .json(try Components.Schemas.Me(account))))
    }
}

extension UserRole.Role {
    init(_ role: Components.Schemas.Role) {
        switch role {
        case .peerMentor: self = .peerMentor
        case .coordinator: self = .coordinator
        case .orgAdmin: self = .orgAdmin
        case .nationalAdmin: self = .nationalAdmin
        case .platformAdmin: self = .platformAdmin
        }
    }
}

extension User.Language {
    init(_ locale: Components.Schemas.InvitationCreate.LocalePayload) {
        switch locale {
        case .nb: self = .nb
        case .nn: self = .nn
        case .en: self = .en
        }
    }
}

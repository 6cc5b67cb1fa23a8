import Fluent
import Foundation
import Vapor

/// The membership handlers: wire input to `Memberships`, its records to the wire.
extension APIHandler {
    func listMemberships(
        _ input: Operations.ListMemberships.Input
    ) async throws -> Operations.ListMemberships.Output {
        let request = try RequestContext.request
        let organizationID = try APIID.parse(input.path.organizationId, parameter: "organizationId")
        let query = input.query
        let filter = MembershipFilter(
            status: query.status.map(OrganizationMembership.Status.init), role: query.role.map(UserRole.Role.init),
            text: query.q)
        let (records, next) = try await Memberships.list(
            in: organizationID, filter, access: request.access, on: request.db,
            page: { try Keyset.memberships.page(limit: query.limit.map(Int.init), cursor: query.cursor, request: request) })
        return .ok(.init(body: .json(.init(items: try records.map(Components.Schemas.Membership.init), nextCursor: next))))
    }

    func pauseMembership(_ input: Operations.PauseMembership.Input) async throws -> Operations.PauseMembership.Output {
        let request = try RequestContext.request
        let (membership, lineage) = try await authorizedMembership(input.path.membershipId, request: request)
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        try await Memberships.pause(
            membership, lineage: lineage, until: body.pausedUntil, by: try Caller(request), deps: request.dependencies,
            on: request.db)
        return .ok(.init(body: .json(try await membershipView(membership, on: request.db))))
    }

    func resumeMembership(
        _ input: Operations.ResumeMembership.Input
    ) async throws -> Operations.ResumeMembership.Output {
        let request = try RequestContext.request
        let (membership, lineage) = try await authorizedMembership(input.path.membershipId, request: request)
        try await Memberships.resume(
            membership, lineage: lineage, by: try Caller(request), deps: request.dependencies, on: request.db)
        return .ok(.init(body: .json(try await membershipView(membership, on: request.db))))
    }

    func endMembership(_ input: Operations.EndMembership.Input) async throws -> Operations.EndMembership.Output {
        let request = try RequestContext.request
        let (membership, lineage) = try await authorizedMembership(input.path.membershipId, request: request)
        try await Memberships.end(
            membership, lineage: lineage, by: try Caller(request), deps: request.dependencies, on: request.db)
        return .ok(.init(body: .json(try await membershipView(membership, on: request.db))))
    }

    func grantRole(_ input: Operations.GrantRole.Input) async throws -> Operations.GrantRole.Output {
        let request = try RequestContext.request
        let (membership, lineage) = try await authorizedMembership(input.path.membershipId, request: request)
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        try await Memberships.grant(
            UserRole.Role(body.role), on: membership, lineage: lineage, by: try Caller(request),
            deps: request.dependencies, on: request.db)
        return .ok(.init(body: .json(try await membershipView(membership, on: request.db))))
    }

    func revokeRole(_ input: Operations.RevokeRole.Input) async throws -> Operations.RevokeRole.Output {
        let request = try RequestContext.request
        let (membership, lineage) = try await authorizedMembership(input.path.membershipId, request: request)
        try await Memberships.revoke(
            UserRole.Role(input.path.role), on: membership, lineage: lineage, by: try Caller(request),
            deps: request.dependencies, on: request.db)
        return .ok(.init(body: .json(try await membershipView(membership, on: request.db))))
    }

    private func authorizedMembership(
        _ rawID: String, request: Request
    ) async throws -> (OrganizationMembership, [Organization]) {
        try await Memberships.authorized(
            try APIID.parse(rawID, parameter: "membershipId"), access: request.access, on: request.db)
    }

    private func membershipView(
        _ membership: OrganizationMembership, on db: any Database
    ) async throws -> Components.Schemas.Membership {
        try Components.Schemas.Membership(try await Memberships.record(membership, on: db))
    }
}

extension OrganizationMembership.Status {
    init(_ status: Components.Schemas.MembershipStatus) {
        switch status {
        case .invited: self = .invited
        case .active: self = .active
        case .paused: self = .paused
        case .ended: self = .ended
        }
    }
}

extension Keyset {
    /// An organisation's memberships by the member's e-mail address (the users table is joined into the list).
    static let memberships = Keyset(
        "listMemberships", table: OrganizationMembership.schema,
        from: """
            \(ident: OrganizationMembership.schema) \(ident: Keyset.alias) \
            JOIN \(ident: User.schema) keyset_user ON keyset_user.id = \(ident: Keyset.alias).user_id
            """,
        [.expression("\(ident: User.schema).\(ident: "email")", stored: "keyset_user.email")], id: .ascending)
}

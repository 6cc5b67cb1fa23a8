import Foundation
import Vapor

extension APIHandler {
    func listOrganizations(
        _ input: Operations.ListOrganizations.Input
    ) async throws -> Operations.ListOrganizations.Output {
        let request = try RequestContext.request
        let query = input.query
        let page = try Keyset.organizations.page(limit: query.limit.map(Int.init), cursor: query.cursor, request: request)
        let filter = OrganizationFilter(
            kind: query.kind.map(Organization.Kind.init), status: query.status.map { $0 == .active ? .active : .suspended },
            parentID: try query.parentId.map { try APIID.parse($0, parameter: "parent_id") }, text: query.q)
        let (organizations, next) = try await Organizations.list(
            filter, page: page, access: request.access, on: request.db)
        return .ok(
            .init(body: .json(.init(items: try organizations.map(Components.Schemas.Organization.init), nextCursor: next))))
    }

    func createOrganization(
        _ input: Operations.CreateOrganization.Input
    ) async throws -> Operations.CreateOrganization.Output {
        let request = try RequestContext.request
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let new = NewOrganization(
            name: body.name, kind: Organization.Kind(body.kind),
            parentID: try body.parentId.map { try APIID.parse($0, parameter: "parent_id") }, orgNumber: body.orgNumber,
            settings: body.settings.map {
                OrganizationSettingsChanges($0, raw: RawBody.object(of: request)?["settings"])
            })
        let organization = try await Organizations.create(
            new, access: request.access, deps: request.dependencies, on: request.db)
        return .created(.init(body: .json(try Components.Schemas.Organization(organization))))
    }

    func getOrganization(_ input: Operations.GetOrganization.Input) async throws -> Operations.GetOrganization.Output {
        let request = try RequestContext.request
        let organization = try await Organizations.read(
            try APIID.parse(input.path.organizationId, parameter: "organizationId"), access: request.access)
        return .ok(.init(body: .json(try Components.Schemas.Organization(organization))))
    }

    func updateOrganization(
        _ input: Operations.UpdateOrganization.Input
    ) async throws -> Operations.UpdateOrganization.Output {
        let request = try RequestContext.request
        let id = try APIID.parse(input.path.organizationId, parameter: "organizationId")
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let raw = RawBody.object(of: request) ?? [:]
        // `org_number: null` clears the number; an absent key leaves it alone.
        let changes = OrganizationChanges(
            name: body.name, orgNumber: raw.keys.contains("org_number") ? .some(body.orgNumber) : nil,
            settings: body.settings.map { OrganizationSettingsChanges($0, raw: raw["settings"]) })
        let organization = try await Organizations.update(
            id, changes, access: request.access, deps: request.dependencies, on: request.db)
        return .ok(.init(body: .json(try Components.Schemas.Organization(organization))))
    }

    func suspendOrganization(
        _ input: Operations.SuspendOrganization.Input
    ) async throws -> Operations.SuspendOrganization.Output {
        let request = try RequestContext.request
        let id = try APIID.parse(input.path.organizationId, parameter: "organizationId")
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let organization = try await Organizations.suspend(
            id, reason: body.reason, access: request.access, deps: request.dependencies, on: request.db)
        return .ok(.init(body: .json(try Components.Schemas.Organization(organization))))
    }

    func reactivateOrganization(
        _ input: Operations.ReactivateOrganization.Input
    ) async throws -> Operations.ReactivateOrganization.Output {
        let request = try RequestContext.request
        let organization = try await Organizations.reactivate(
            try APIID.parse(input.path.organizationId, parameter: "organizationId"), access: request.access,
            deps: request.dependencies, on: request.db)
        return .ok(.init(body: .json(try Components.Schemas.Organization(organization))))
    }
}

extension OrganizationSettingsChanges {
    /// The service's input from the wire. `raw` is the JSON of the `settings` object as sent, to tell
    /// `"expense_auto_approval_limit_ore": null` (never auto-approve) from an absent key (leave as is).
    init(_ settings: Components.Schemas.OrganizationSettings, raw: JSONValue?) {
        var limit: Int?? = nil
        if case .object(let fields) = raw, fields.keys.contains("expense_auto_approval_limit_ore") {
            limit = .some(settings.expenseAutoApprovalLimitOre.map { Int($0) })
        }
        self.init(
            mileageRateKind: settings.mileageRateKind.map { $0 == .state ? .state : .taxFree },
            expenseAutoApprovalLimitOre: limit,
            enabledProducts: settings.enabledProducts?.compactMap { Organization.Product(rawValue: $0.rawValue) },
            evidenceActivityTypeKeys: settings.evidenceActivityTypeKeys)
    }
}

extension Organization.Kind {
    init(_ kind: Components.Schemas.OrganizationKind) {
        switch kind {
        case .national: self = .national
        case .regional: self = .regional
        case .local: self = .local
        }
    }
}

extension Keyset {
    /// Organisations by name.
    static let organizations = Keyset("listOrganizations", table: Organization.schema, [.column("name")], id: .ascending)
}

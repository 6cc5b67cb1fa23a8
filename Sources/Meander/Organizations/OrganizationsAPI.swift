import Fluent
import FluentSQL
import Foundation
import Vapor

extension APIHandler {
    func listOrganizations(
        _ input: Operations.ListOrganizations.Input
    ) async throws -> Operations.ListOrganizations.Output {
        let request = try RequestContext.request
        let query = input.query
        let page = try Keyset.organizations.page(limit: query.limit.map(Int.init), cursor: query.cursor, request: request)
        let reachable = try await request.access.reachableOrganizationIDs()
        if let reachable, reachable.isEmpty {
            return .ok(.init(body: .json(.init(items: [], nextCursor: nil))))
        }

        let builder = Organization.query(on: request.db)
        if let reachable {
            builder.filter(\.$id ~~ Array(reachable))
        }
        if let kind = query.kind {
            builder.filter(\.$kind == Organization.Kind(kind))
        }
        if let status = query.status {
            builder.filter(\.$status == (status == .active ? .active : .suspended))
        }
        if let parentID = query.parentId {
            builder.filter(\.$parent.$id == (try APIID.parse(parentID, parameter: "parent_id")))
        }
        if let q = query.q {
            builder.filter(CaseFoldedMatch.contains(q, in: [(Organization.schema, "name")]))
        }
        let rows = try await builder.page(page).all()
        let (organizations, next) = try await page.finish(rows, id: { try $0.requireID() }, on: request.db)
        return .ok(
            .init(body: .json(.init(items: try organizations.map(Components.Schemas.Organization.init), nextCursor: next))))
    }

    func createOrganization(
        _ input: Operations.CreateOrganization.Input
    ) async throws -> Operations.CreateOrganization.Output {
        let request = try RequestContext.request
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let kind = Organization.Kind(body.kind)

        var parentID: UUID?
        if let rawParent = body.parentId {
            // A parent outside the caller's reach (or missing) answers 404 before anything else is checked.
            let id = try APIID.parse(rawParent, parameter: "parent_id")
            let parent = try await request.access.authorize(in: id)[0]
            guard kind != .national else {
                throw AppError.validation([
                    .init(field: "/parent_id", code: "invalid_value", message: "A national organisation has no parent.")
                ])
            }
            guard Self.fits(child: kind, under: parent.kind) else {
                throw AppError.validation([
                    .init(
                        field: "/kind", code: "invalid_value",
                        message: "A \(kind.rawValue) organisation cannot sit under a \(parent.kind.rawValue) one.")
                ])
            }
            parentID = id
        } else {
            try request.access.authorizeAnywhere()
            guard kind == .national else {
                throw AppError.validation([
                    .init(
                        field: "/parent_id", code: "required",
                        message: "A \(kind.rawValue) organisation needs a parent.")
                ])
            }
            // Tenants are created by the platform: organisation and national admins hold organizations.create
            // only below their own organisation.
            guard try request.requirePrincipal().holds(.platformAdmin) else {
                throw AppError(.forbidden, "Only a platform admin creates national organisations.")
            }
        }

        if let number = body.orgNumber {
            try Self.checkOrgNumber(number)
            try await Self.checkOrgNumberFree(number, excluding: nil, on: request.db)
        }
        let organization = Organization(
            id: request.dependencies.uuid(), name: body.name, kind: kind, parentID: parentID, orgNumber: body.orgNumber)
        if let settings = body.settings {
            _ = Self.apply(settings, raw: RawBody.object(of: request)?["settings"], to: organization)
        }
        try await Self.store(organization, on: request.db)
        let id = try organization.requireID()
        try await AuditLog.append(
            AuditEvent(
                "organization.created", request: request, organizationID: id, targetType: "organization",
                targetID: id, metadata: ["kind": kind.rawValue, "parent_id": parentID?.uuidString.lowercased() ?? ""]),
            on: request.db)
        return .created(.init(body: .json(try Components.Schemas.Organization(organization))))
    }

    func getOrganization(_ input: Operations.GetOrganization.Input) async throws -> Operations.GetOrganization.Output {
        let request = try RequestContext.request
        let id = try APIID.parse(input.path.organizationId, parameter: "organizationId")
        let organization = try await request.access.authorize(in: id)[0]
        return .ok(.init(body: .json(try Components.Schemas.Organization(organization))))
    }

    func updateOrganization(
        _ input: Operations.UpdateOrganization.Input
    ) async throws -> Operations.UpdateOrganization.Output {
        let request = try RequestContext.request
        let id = try APIID.parse(input.path.organizationId, parameter: "organizationId")
        let organization = try await request.access.authorize(in: id)[0]
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let raw = RawBody.object(of: request) ?? [:]

        var changed: [String] = []
        if let name = body.name, name != organization.name {
            organization.name = name
            changed.append("name")
        }
        // `org_number: null` clears the number; an absent key leaves it alone.
        if raw.keys.contains("org_number"), body.orgNumber != organization.orgNumber {
            if let number = body.orgNumber {
                try Self.checkOrgNumber(number)
                try await Self.checkOrgNumberFree(number, excluding: id, on: request.db)
            }
            organization.orgNumber = body.orgNumber
            changed.append("org_number")
        }
        if let settings = body.settings {
            changed += Self.apply(settings, raw: raw["settings"], to: organization).map { "settings.\($0)" }
        }
        guard !changed.isEmpty else {
            return .ok(.init(body: .json(try Components.Schemas.Organization(organization))))
        }
        try await Self.store(organization, on: request.db)
        try await AuditLog.append(
            AuditEvent(
                "organization.updated", request: request, organizationID: id, targetType: "organization",
                targetID: id, metadata: ["fields": changed.joined(separator: ",")]),
            on: request.db)
        return .ok(.init(body: .json(try Components.Schemas.Organization(organization))))
    }

    func suspendOrganization(
        _ input: Operations.SuspendOrganization.Input
    ) async throws -> Operations.SuspendOrganization.Output {
        let request = try RequestContext.request
        let id = try APIID.parse(input.path.organizationId, parameter: "organizationId")
        let organization = try await request.access.authorize(in: id)[0]
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let updated = try await Self.setStatus(
            .suspended, of: organization, action: "organization.suspended", reason: body.reason, request: request)
        return .ok(.init(body: .json(try Components.Schemas.Organization(updated))))
    }

    func reactivateOrganization(
        _ input: Operations.ReactivateOrganization.Input
    ) async throws -> Operations.ReactivateOrganization.Output {
        let request = try RequestContext.request
        let id = try APIID.parse(input.path.organizationId, parameter: "organizationId")
        let organization = try await request.access.authorize(in: id)[0]
        let updated = try await Self.setStatus(
            .active, of: organization, action: "organization.reactivated", reason: nil, request: request)
        return .ok(.init(body: .json(try Components.Schemas.Organization(updated))))
    }

    // MARK: - Rules

    /// National → regional → local; a local chapter may also sit directly under a national organisation.
    static func fits(child: Organization.Kind, under parent: Organization.Kind) -> Bool {
        switch (parent, child) {
        case (.national, .regional), (.national, .local), (.regional, .local): true
        default: false
        }
    }

    private static func checkOrgNumber(_ number: String) throws {
        guard OrgNumber.isValid(number) else {
            throw AppError.validation([
                .init(
                    field: "/org_number", code: "invalid_value",
                    message: "Not a valid Norwegian organisation number (9 digits, mod-11 check digit).")
            ])
        }
    }

    /// Creates or saves an organisation; the unique organisation number (checked before, but raced) answers 409.
    private static func store(_ organization: Organization, on db: any Database) async throws {
        do {
            try await organization.save(on: db)
        } catch let error as any DatabaseError where error.isConstraintFailure {
            throw AppError(.conflict, "Another organisation has this organisation number.")
        }
    }

    private static func checkOrgNumberFree(_ number: String, excluding: UUID?, on db: any Database) async throws {
        let existing = Organization.query(on: db).filter(\.$orgNumber == number)
        if let excluding {
            existing.filter(\.$id != excluding)
        }
        if try await existing.count() > 0 {
            throw AppError(.conflict, "Another organisation has this organisation number.")
        }
    }

    /// Moves an organisation between active and suspended with a conditional update, so that two racing requests
    /// cannot both succeed; 409 when it already is in that state.
    private static func setStatus(
        _ status: Organization.Status, of organization: Organization, action: String, reason: String?,
        request: Request
    ) async throws -> Organization {
        let id = try organization.requireID()
        let other: Organization.Status = status == .active ? .suspended : .active
        guard organization.status == other else {
            throw AppError(.conflict, "The organisation is already \(status.rawValue).")
        }
        let sql = request.db as! any SQLDatabase
        let updated = try await sql.update(Organization.schema)
            .set("status", to: status.rawValue)
            .set("updated_at", to: request.now)
            .where("id", .equal, id)
            .where("status", .equal, other.rawValue)
            .returning("id")
            .all()
        guard !updated.isEmpty else {
            throw AppError(.conflict, "The organisation is already \(status.rawValue).")
        }
        organization.status = status
        var metadata: [String: String] = [:]
        // A suspension reason is administrative (non-payment, a closed chapter), never about a person.
        if let reason { metadata["reason"] = reason }
        try await AuditLog.append(
            AuditEvent(
                action, request: request, organizationID: id, targetType: "organization", targetID: id,
                metadata: metadata),
            on: request.db)
        return organization
    }

    /// Applies the settings present in the body and returns the names of those that changed.
    ///
    /// `raw` is the JSON of the `settings` object as sent, to tell `"expense_auto_approval_limit_ore": null`
    /// (never auto-approve) from an absent key (leave as is).
    static func apply(
        _ settings: Components.Schemas.OrganizationSettings, raw: JSONValue?, to organization: Organization
    ) -> [String] {
        var changed: [String] = []
        if let kind = settings.mileageRateKind {
            let value: Organization.MileageRateKind = kind == .state ? .state : .taxFree
            if value != organization.mileageRateKind {
                organization.mileageRateKind = value
                changed.append("mileage_rate_kind")
            }
        }
        if case .object(let fields) = raw, fields.keys.contains("expense_auto_approval_limit_ore") {
            let value = settings.expenseAutoApprovalLimitOre.map { Int($0) }
            if value != organization.expenseAutoApprovalLimitOre {
                organization.expenseAutoApprovalLimitOre = value
                changed.append("expense_auto_approval_limit_ore")
            }
        }
        if let products = settings.enabledProducts {
            let value = products.compactMap { Organization.Product(rawValue: $0.rawValue) }
            if value != organization.enabledProducts {
                organization.enabledProducts = value
                changed.append("enabled_products")
            }
        }
        if let keys = settings.evidenceActivityTypeKeys, keys != organization.evidenceActivityTypeKeys {
            organization.evidenceActivityTypeKeys = keys
            changed.append("evidence_activity_type_keys")
        }
        return changed
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

import Fluent
import FluentSQL
import Foundation

/// The organisations service: the tree of national, regional and local organisations, their settings and their
/// status, for the API, the portal and the CLI alike. It takes domain values and an `Access`, and returns
/// `Organization`s or throws `AppError`; it never sees a request, a wire type or the contract.
///
/// It owns `organizations`. Memberships and roles are `Memberships`'; the tree's reads are `OrganizationTree`'s.
enum Organizations {}

/// A new organisation, as the service takes it.
struct NewOrganization: Sendable {
    var name: String
    var kind: Organization.Kind
    /// Required for every kind but national, which has none.
    var parentID: UUID?
    var orgNumber: String?
    var settings: OrganizationSettingsChanges?
}

/// The fields an edit sets. A field left `nil` is unchanged; `orgNumber: .some(nil)` clears the number.
struct OrganizationChanges: Sendable {
    var name: String?
    var orgNumber: String??
    var settings: OrganizationSettingsChanges?
}

/// The settings an edit or a creation sets; `nil` leaves a setting alone. `expenseAutoApprovalLimitOre: .some(nil)`
/// means "never auto-approve".
struct OrganizationSettingsChanges: Sendable {
    var mileageRateKind: Organization.MileageRateKind?
    var expenseAutoApprovalLimitOre: Int??
    var enabledProducts: [Organization.Product]?
    var evidenceActivityTypeKeys: [String]?
}

/// What the organisation list is filtered by.
struct OrganizationFilter: Sendable {
    var kind: Organization.Kind?
    var status: Organization.Status?
    var parentID: UUID?
    /// Part of the name, case-folded.
    var text: String?
}

extension Organizations {
    /// One page of the organisations the caller reaches (all of them for a platform-wide role), by name.
    static func list(
        _ filter: OrganizationFilter, page: KeysetPage, access: Access, on db: any Database
    ) async throws -> (items: [Organization], next: String?) {
        let reachable = try await access.reachableOrganizationIDs()
        if let reachable, reachable.isEmpty { return ([], nil) }
        let builder = Organization.query(on: db)
        if let reachable {
            builder.filter(\.$id ~~ Array(reachable))
        }
        if let kind = filter.kind {
            builder.filter(\.$kind == kind)
        }
        if let status = filter.status {
            builder.filter(\.$status == status)
        }
        if let parentID = filter.parentID {
            builder.filter(\.$parent.$id == parentID)
        }
        if let text = filter.text {
            builder.filter(CaseFoldedMatch.contains(text, in: [(Organization.schema, "name")]))
        }
        let rows = try await builder.page(page).all()
        return try await page.finish(rows, id: { try $0.requireID() }, on: db)
    }

    /// The organisation, if the caller reaches it (404 otherwise).
    static func read(_ id: UUID, access: Access) async throws -> Organization {
        try await access.authorize(in: id)[0]
    }

    /// An organisation by its id or its 9-digit organisation number, for operators at the CLI (no access check).
    static func find(idOrNumber raw: String, on db: any Database) async throws -> Organization? {
        if let id = UUID(uuidString: raw), let organization = try await Organization.find(id, on: db) {
            return organization
        }
        guard raw.count == 9, raw.allSatisfy(\.isNumber) else { return nil }
        return try await Organization.query(on: db).filter(\.$orgNumber == raw).first()
    }

    /// Creates an organisation under a parent the caller reaches, or, for a platform admin, a national one.
    static func create(
        _ new: NewOrganization, access: Access, deps: AppDependencies, on db: any Database
    ) async throws -> Organization {
        let kind = new.kind
        if let parentID = new.parentID {
            // A parent outside the caller's reach (or missing) is 404 before anything else is checked.
            let parent = try await access.authorize(in: parentID)[0]
            guard kind != .national else {
                throw AppError.validation([
                    .init(field: "/parent_id", code: "invalid_value", message: "A national organisation has no parent.")
                ])
            }
            guard fits(child: kind, under: parent.kind) else {
                throw AppError.validation([
                    .init(
                        field: "/kind", code: "invalid_value",
                        message: "A \(kind.rawValue) organisation cannot sit under a \(parent.kind.rawValue) one.")
                ])
            }
        } else {
            try access.authorizeAnywhere()
            guard kind == .national else {
                throw AppError.validation([
                    .init(
                        field: "/parent_id", code: "required",
                        message: "A \(kind.rawValue) organisation needs a parent.")
                ])
            }
            // Tenants are created by the platform: organisation and national admins hold organizations.create
            // only below their own organisation.
            guard try access.caller.requirePrincipal().holds(.platformAdmin) else {
                throw AppError(.forbidden, "Only a platform admin creates national organisations.")
            }
        }
        if let number = new.orgNumber {
            try checkOrgNumber(number)
            try await checkOrgNumberFree(number, excluding: nil, on: db)
        }
        let id = deps.uuid()
        let organization = Organization(
            id: id, name: new.name, kind: kind, parentID: new.parentID, orgNumber: new.orgNumber)
        if let settings = new.settings {
            _ = apply(settings, to: organization)
        }
        let event = access.caller.event(
            "organization.created", organizationID: id, targetType: "organization", targetID: id,
            metadata: ["kind": kind.rawValue, "parent_id": new.parentID?.uuidString.lowercased() ?? ""])
        try await db.auditedWrite(event, clock: deps.clock) { db in try await store(organization, on: db) }
        return organization
    }

    /// Changes an organisation's name, number and settings; nothing is written or audited when nothing changed.
    static func update(
        _ id: UUID, _ changes: OrganizationChanges, access: Access, deps: AppDependencies, on db: any Database
    ) async throws -> Organization {
        let organization = try await access.authorize(in: id)[0]
        var changed: [String] = []
        if let name = changes.name, name != organization.name {
            organization.name = name
            changed.append("name")
        }
        if let number = changes.orgNumber, number != organization.orgNumber {
            if let number {
                try checkOrgNumber(number)
                try await checkOrgNumberFree(number, excluding: id, on: db)
            }
            organization.orgNumber = number
            changed.append("org_number")
        }
        if let settings = changes.settings {
            changed += apply(settings, to: organization).map { "settings.\($0)" }
        }
        guard !changed.isEmpty else { return organization }
        let event = access.caller.event(
            "organization.updated", organizationID: id, targetType: "organization", targetID: id,
            metadata: ["fields": changed.joined(separator: ",")])
        try await db.auditedWrite(event, clock: deps.clock) { db in try await store(organization, on: db) }
        return organization
    }

    /// Suspends an organisation. The reason is administrative (non-payment, a closed chapter), never about a person.
    static func suspend(
        _ id: UUID, reason: String?, access: Access, deps: AppDependencies, on db: any Database
    ) async throws -> Organization {
        let organization = try await access.authorize(in: id)[0]
        return try await setStatus(
            .suspended, of: organization, action: "organization.suspended", reason: reason, caller: access.caller,
            deps: deps, on: db)
    }

    /// Makes a suspended organisation active again.
    static func reactivate(
        _ id: UUID, access: Access, deps: AppDependencies, on db: any Database
    ) async throws -> Organization {
        let organization = try await access.authorize(in: id)[0]
        return try await setStatus(
            .active, of: organization, action: "organization.reactivated", reason: nil, caller: access.caller,
            deps: deps, on: db)
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

    /// Creates or saves an organisation; the unique organisation number (checked before, but raced) is 409.
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
        caller: Caller, deps: AppDependencies, on db: any Database
    ) async throws -> Organization {
        let id = try organization.requireID()
        let other: Organization.Status = status == .active ? .suspended : .active
        let already = AppError(.conflict, "The organisation is already \(status.rawValue).")
        guard organization.status == other else { throw already }
        let now = deps.now
        var metadata: [String: String] = [:]
        if let reason { metadata["reason"] = reason }
        let event = caller.event(
            action, organizationID: id, targetType: "organization", targetID: id, metadata: metadata)
        try await db.auditedWrite(event, clock: deps.clock) { db in
            let updated = try await db.sqlDatabase().update(Organization.schema)
                .set("status", to: status.rawValue)
                .set("updated_at", to: now)
                .where("id", .equal, id)
                .where("status", .equal, other.rawValue)
                .returning("id")
                .all()
            guard !updated.isEmpty else { throw already }
        }
        organization.status = status
        return organization
    }

    /// Applies the settings given and returns the names of those that changed.
    static func apply(_ settings: OrganizationSettingsChanges, to organization: Organization) -> [String] {
        var changed: [String] = []
        if let value = settings.mileageRateKind, value != organization.mileageRateKind {
            organization.mileageRateKind = value
            changed.append("mileage_rate_kind")
        }
        if let value = settings.expenseAutoApprovalLimitOre, value != organization.expenseAutoApprovalLimitOre {
            organization.expenseAutoApprovalLimitOre = value
            changed.append("expense_auto_approval_limit_ore")
        }
        if let value = settings.enabledProducts, value != organization.enabledProducts {
            organization.enabledProducts = value
            changed.append("enabled_products")
        }
        if let keys = settings.evidenceActivityTypeKeys, keys != organization.evidenceActivityTypeKeys {
            organization.evidenceActivityTypeKeys = keys
            changed.append("evidence_activity_type_keys")
        }
        return changed
    }
}

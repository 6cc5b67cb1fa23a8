import Fluent
import Foundation

/// The activity types service: the platform's global catalogue and each organisation's own types, which say how an
/// activity counts for Bufdir and whether it needs evidence. For the API, the portal and the CLI alike; it takes
/// domain values and an `Access`, and never sees a request or a wire type. It owns `activity_types`.
enum ActivityTypes {}

/// A new organisation-owned activity type.
struct NewActivityType: Sendable {
    var organizationID: UUID
    /// Unique among the types that apply to the organisation (global ones and those of its lineage).
    var key: String
    var nameNb: String
    var nameEn: String
    var bufdirCategory: ActivityType.BufdirCategory
    var reportable: Bool
    var requiresEvidence: Bool
    var defaultDurationMinutes: Int
    var sortOrder: Int = 1000
}

/// The fields an edit sets; `nil` leaves a field alone. `active: false` deactivates the type.
struct ActivityTypeChanges: Sendable {
    var nameNb: String?
    var nameEn: String?
    var reportable: Bool?
    var requiresEvidence: Bool?
    var defaultDurationMinutes: Int?
    var sortOrder: Int?
    var active: Bool?
}

/// What an activity type list is filtered by.
struct ActivityTypeFilter: Sendable {
    var bufdirCategory: ActivityType.BufdirCategory?
    var reportable: Bool?
    var requiresEvidence: Bool?
    var includeInactive = false
}

extension ActivityTypes {
    /// One page of the global catalogue, which every signed-in user may read.
    static func listGlobal(
        _ filter: ActivityTypeFilter, page: KeysetPage, on db: any Database
    ) async throws -> (items: [ActivityType], next: String?) {
        let builder = ActivityType.query(on: db).filter(\.$organization.$id == nil)
        return try await list(builder, filter, page: page, on: db)
    }

    /// One page of the types that apply in an organisation: the global ones and those of its lineage.
    static func list(
        in organizationID: UUID, _ filter: ActivityTypeFilter, page: () throws -> KeysetPage, access: Access, on db: any Database
    ) async throws -> (items: [ActivityType], next: String?) {
        let owners = try await access.authorize(in: organizationID).compactMap(\.id)
        let page = try page()
        let builder = ActivityType.query(on: db).group(.or) { or in
            or.filter(\.$organization.$id == nil).filter(\.$organization.$id ~~ owners)
        }
        return try await list(builder, filter, page: page, on: db)
    }

    private static func list(
        _ builder: QueryBuilder<ActivityType>, _ filter: ActivityTypeFilter, page: KeysetPage, on db: any Database
    ) async throws -> (items: [ActivityType], next: String?) {
        if let category = filter.bufdirCategory { builder.filter(\.$bufdirCategory == category) }
        if let reportable = filter.reportable { builder.filter(\.$reportable == reportable) }
        if let requiresEvidence = filter.requiresEvidence { builder.filter(\.$requiresEvidence == requiresEvidence) }
        if !filter.includeInactive { builder.filter(\.$isActive == true) }
        let rows = try await builder.page(page).all()
        return try await page.finish(rows, id: { try $0.requireID() }, on: db)
    }

    /// Creates an organisation's own type; a key that already applies there is 409.
    static func create(
        _ new: NewActivityType, access: Access, deps: AppDependencies, on db: any Database
    ) async throws -> ActivityType {
        let lineage = try await access.authorize(in: new.organizationID)
        let clash = try await ActivityType.query(on: db)
            .filter(\.$key == new.key)
            .group(.or) { or in or.filter(\.$organization.$id == nil).filter(\.$organization.$id ~~ lineage.compactMap(\.id)) }
            .count()
        guard clash == 0 else {
            throw AppError(.conflict, "An activity type with the key '\(new.key)' already applies here.")
        }
        let type = ActivityType(
            id: deps.uuid(), organizationID: new.organizationID, key: new.key, nameNb: new.nameNb, nameEn: new.nameEn,
            bufdirCategory: new.bufdirCategory, reportable: new.reportable, requiresEvidence: new.requiresEvidence,
            defaultDurationMinutes: new.defaultDurationMinutes, sortOrder: new.sortOrder)
        let event = access.caller.event(
            "activity_type.created", organizationID: new.organizationID, targetType: "activity_type",
            targetID: try type.requireID(), metadata: ["key": new.key])
        do {
            try await db.auditedWrite(event, clock: deps.clock) { db in try await type.create(on: db) }
        } catch let error as any DatabaseError where error.isConstraintFailure {
            throw AppError(.conflict, "An activity type with the key '\(new.key)' already exists here.")
        }
        return type
    }

    /// Changes an organisation's own type. A global one is 403 here (`updateGlobal` changes those); one outside the
    /// caller's reach, or missing, is 404.
    static func update(
        _ id: UUID?, _ changes: ActivityTypeChanges, access: Access, deps: AppDependencies, on db: any Database
    ) async throws -> ActivityType {
        guard let id, let type = try await ActivityType.find(id, on: db) else {
            // Marks the access as checked: a missing type is an answer, not a skipped check.
            _ = try? await access.reachableOrganizationIDs()
            throw AppError(.notFound, "No such activity type.")
        }
        guard let owner = type.$organization.id else {
            try access.authorizeAnywhere()
            throw AppError(.forbidden, "Global activity types are changed by platform admins (updateGlobalActivityType).")
        }
        try await access.authorize(in: owner)
        try await apply(changes, to: type, caller: access.caller, deps: deps, on: db)
        return type
    }

    /// Changes a type of the global catalogue (platform admins).
    static func updateGlobal(
        _ id: UUID?, _ changes: ActivityTypeChanges, access: Access, deps: AppDependencies, on db: any Database
    ) async throws -> ActivityType {
        try access.authorizeAnywhere()
        guard let id, let type = try await ActivityType.find(id, on: db), type.$organization.id == nil else {
            throw AppError(.notFound, "No such global activity type.")
        }
        try await apply(changes, to: type, caller: access.caller, deps: deps, on: db)
        return type
    }

    /// Applies the given fields and audits the change (deactivation and reactivation by name); nothing is written
    /// when nothing changed.
    private static func apply(
        _ changes: ActivityTypeChanges, to type: ActivityType, caller: Caller, deps: AppDependencies,
        on db: any Database
    ) async throws {
        var changed: [String] = []
        func set<Value: Equatable>(
            _ field: String, _ new: Value?, _ keyPath: ReferenceWritableKeyPath<ActivityType, Value>
        ) {
            guard let new, type[keyPath: keyPath] != new else { return }
            type[keyPath: keyPath] = new
            changed.append(field)
        }
        set("name_nb", changes.nameNb, \.nameNb)
        set("name_en", changes.nameEn, \.nameEn)
        set("reportable", changes.reportable, \.reportable)
        set("requires_evidence", changes.requiresEvidence, \.requiresEvidence)
        set("default_duration_minutes", changes.defaultDurationMinutes, \.defaultDurationMinutes)
        set("sort_order", changes.sortOrder, \.sortOrder)
        set("active", changes.active, \.isActive)
        guard !changed.isEmpty else { return }
        let action =
            changed == ["active"]
            ? (type.isActive ? "activity_type.reactivated" : "activity_type.deactivated") : "activity_type.updated"
        let event = caller.event(
            action, organizationID: type.$organization.id, targetType: "activity_type", targetID: try type.requireID(),
            metadata: ["fields": changed.joined(separator: ",")])
        try await db.auditedWrite(event, clock: deps.clock) { db in try await type.save(on: db) }
    }
}

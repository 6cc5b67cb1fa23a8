import Fluent
import Foundation
import Vapor

extension APIHandler {
    func listOrganizationActivityTypes(
        _ input: Operations.ListOrganizationActivityTypes.Input
    ) async throws -> Operations.ListOrganizationActivityTypes.Output {
        let request = try RequestContext.request
        let organizationID = try APIID.parse(input.path.organizationId, parameter: "organization")
        let lineage = try await request.access.authorize(in: organizationID)
        let query = input.query
        let page = try Keyset.activityTypes(list: "listOrganizationActivityTypes").page(
            limit: query.limit.map(Int.init), cursor: query.cursor, request: request)

        let owners = lineage.compactMap(\.id)
        let builder = ActivityType.query(on: request.db).group(.or) { or in
            or.filter(\.$organization.$id == nil).filter(\.$organization.$id ~~ owners)
        }
        if let category = query.bufdirCategory.flatMap({ ActivityType.BufdirCategory(rawValue: $0.rawValue) }) {
            builder.filter(\.$bufdirCategory == category)
        }
        if let reportable = query.reportable { builder.filter(\.$reportable == reportable) }
        if let requiresEvidence = query.requiresEvidence { builder.filter(\.$requiresEvidence == requiresEvidence) }
        if query.includeInactive != true { builder.filter(\.$isActive == true) }
        let rows = try await builder.page(page).all()
        let (types, next) = try await page.finish(rows, id: { try $0.requireID() }, on: request.db)
        return .ok(.init(body: .json(.init(items: try types.map(Components.Schemas.ActivityType.init), nextCursor: next))))
    }

    func createActivityType(
        _ input: Operations.CreateActivityType.Input
    ) async throws -> Operations.CreateActivityType.Output {
        let request = try RequestContext.request
        let organizationID = try APIID.parse(input.path.organizationId, parameter: "organization")
        let lineage = try await request.access.authorize(in: organizationID)
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        guard let category = ActivityType.BufdirCategory(rawValue: body.bufdirCategory.rawValue) else {
            throw AppError.validation([.init(field: "/bufdir_category", code: "invalid_value", message: "Unknown category.")])
        }
        let clash = try await ActivityType.query(on: request.db)
            .filter(\.$key == body.key)
            .group(.or) { or in or.filter(\.$organization.$id == nil).filter(\.$organization.$id ~~ lineage.compactMap(\.id)) }
            .count()
        guard clash == 0 else {
            throw AppError(.conflict, "An activity type with the key '\(body.key)' already applies here.")
        }
        let type = ActivityType(
            organizationID: organizationID, key: body.key, nameNb: body.nameNb, nameEn: body.nameEn,
            bufdirCategory: category, reportable: body.reportable, requiresEvidence: body.requiresEvidence,
            defaultDurationMinutes: Int(body.defaultDurationMinutes), sortOrder: Int(body.sortOrder ?? 1000))
        do {
            try await request.db.writeTransaction { transaction in
                try await type.create(on: transaction)
                try await AuditLog.append(
                    AuditEvent(
                        "activity_type.created", request: request, organizationID: organizationID,
                        targetType: "activity_type", targetID: try type.requireID(), metadata: ["key": body.key]),
                    on: transaction)
            }
        } catch let error as any DatabaseError where error.isConstraintFailure {
            throw AppError(.conflict, "An activity type with the key '\(body.key)' already exists here.")
        }
        return .created(.init(body: .json(try Components.Schemas.ActivityType(type))))
    }

    func updateActivityType(
        _ input: Operations.UpdateActivityType.Input
    ) async throws -> Operations.UpdateActivityType.Output {
        let request = try RequestContext.request
        guard let id = APIID.uuid(input.path.activityTypeId),
            let type = try await ActivityType.find(id, on: request.db)
        else {
            _ = try? await request.access.reachableOrganizationIDs()
            throw AppError(.notFound, "No such activity type.")
        }
        guard let owner = type.$organization.id else {
            try request.access.authorizeAnywhere()
            throw AppError(.forbidden, "Global activity types are changed by platform admins (updateGlobalActivityType).")
        }
        try await request.access.authorize(in: owner)
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        try await ActivityTypeRules.apply(body, to: type, request: request)
        return .ok(.init(body: .json(try Components.Schemas.ActivityType(type))))
    }

    func updateGlobalActivityType(
        _ input: Operations.UpdateGlobalActivityType.Input
    ) async throws -> Operations.UpdateGlobalActivityType.Output {
        let request = try RequestContext.request
        try request.access.authorizeAnywhere()
        guard let id = APIID.uuid(input.path.activityTypeId),
            let type = try await ActivityType.find(id, on: request.db), type.$organization.id == nil
        else { throw AppError(.notFound, "No such global activity type.") }
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        try await ActivityTypeRules.apply(body, to: type, request: request)
        return .ok(.init(body: .json(try Components.Schemas.ActivityType(type))))
    }
}

enum ActivityTypeRules {
    /// Applies the given fields and audits the change (deactivation and reactivation by name).
    static func apply(
        _ body: Components.Schemas.ActivityTypeUpdate, to type: ActivityType, request: Request
    ) async throws {
        var changed: [String] = []
        func set<Value: Equatable>(
            _ field: String, _ new: Value?, _ keyPath: ReferenceWritableKeyPath<ActivityType, Value>
        ) {
            guard let new, type[keyPath: keyPath] != new else { return }
            type[keyPath: keyPath] = new
            changed.append(field)
        }
        set("name_nb", body.nameNb, \.nameNb)
        set("name_en", body.nameEn, \.nameEn)
        set("reportable", body.reportable, \.reportable)
        set("requires_evidence", body.requiresEvidence, \.requiresEvidence)
        set("default_duration_minutes", body.defaultDurationMinutes.map(Int.init), \.defaultDurationMinutes)
        set("sort_order", body.sortOrder.map(Int.init), \.sortOrder)
        set("active", body.active, \.isActive)
        guard !changed.isEmpty else { return }
        let action =
            changed == ["active"]
            ? (type.isActive ? "activity_type.reactivated" : "activity_type.deactivated") : "activity_type.updated"
        let metadata = ["fields": changed.joined(separator: ",")]
        let id = try type.requireID()
        try await request.db.writeTransaction { transaction in
            try await type.save(on: transaction)
            try await AuditLog.append(
                AuditEvent(
                    action, request: request, organizationID: type.$organization.id, targetType: "activity_type",
                    targetID: id, metadata: metadata),
                on: transaction)
        }
    }
}

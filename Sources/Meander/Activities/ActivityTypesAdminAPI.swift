import Foundation
import Vapor

extension APIHandler {
    func listOrganizationActivityTypes(
        _ input: Operations.ListOrganizationActivityTypes.Input
    ) async throws -> Operations.ListOrganizationActivityTypes.Output {
        let request = try RequestContext.request
        let organizationID = try APIID.parse(input.path.organizationId, parameter: "organization")
        let query = input.query
        let page = {
            try Keyset.activityTypes(list: "listOrganizationActivityTypes").page(
                limit: query.limit.map(Int.init), cursor: query.cursor, request: request)
        }
        let filter = ActivityTypeFilter(
            bufdirCategory: query.bufdirCategory.flatMap { ActivityType.BufdirCategory(rawValue: $0.rawValue) },
            reportable: query.reportable, requiresEvidence: query.requiresEvidence,
            includeInactive: query.includeInactive == true)
        let (types, next) = try await ActivityTypes.list(
            in: organizationID, filter, page: page, access: request.access, on: request.db)
        return .ok(.init(body: .json(.init(items: try types.map(Components.Schemas.ActivityType.init), nextCursor: next))))
    }

    func createActivityType(
        _ input: Operations.CreateActivityType.Input
    ) async throws -> Operations.CreateActivityType.Output {
        let request = try RequestContext.request
        let organizationID = try APIID.parse(input.path.organizationId, parameter: "organization")
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        guard let category = ActivityType.BufdirCategory(rawValue: body.bufdirCategory.rawValue) else {
            throw AppError.validation([.init(field: "/bufdir_category", code: "invalid_value", message: "Unknown category.")])
        }
        let new = NewActivityType(
            organizationID: organizationID, key: body.key, nameNb: body.nameNb, nameEn: body.nameEn,
            bufdirCategory: category, reportable: body.reportable, requiresEvidence: body.requiresEvidence,
            defaultDurationMinutes: Int(body.defaultDurationMinutes), sortOrder: Int(body.sortOrder ?? 1000))
        let type = try await ActivityTypes.create(new, access: request.access, deps: request.dependencies, on: request.db)
        return .created(.init(body: .json(try Components.Schemas.ActivityType(type))))
    }

    func updateActivityType(
        _ input: Operations.UpdateActivityType.Input
    ) async throws -> Operations.UpdateActivityType.Output {
        let request = try RequestContext.request
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let type = try await ActivityTypes.update(
            APIID.uuid(input.path.activityTypeId), ActivityTypeChanges(body), access: request.access,
            deps: request.dependencies, on: request.db)
        return .ok(.init(body: .json(try Components.Schemas.ActivityType(type))))
    }

    func updateGlobalActivityType(
        _ input: Operations.UpdateGlobalActivityType.Input
    ) async throws -> Operations.UpdateGlobalActivityType.Output {
        let request = try RequestContext.request
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let type = try await ActivityTypes.updateGlobal(
            APIID.uuid(input.path.activityTypeId), ActivityTypeChanges(body), access: request.access,
            deps: request.dependencies, on: request.db)
        return .ok(.init(body: .json(try Components.Schemas.ActivityType(type))))
    }
}

extension ActivityTypeChanges {
    /// The service's input from the wire.
    init(_ body: Components.Schemas.ActivityTypeUpdate) {
        self.init(
            nameNb: body.nameNb, nameEn: body.nameEn, reportable: body.reportable, requiresEvidence: body.requiresEvidence,
            defaultDurationMinutes: body.defaultDurationMinutes.map(Int.init), sortOrder: body.sortOrder.map(Int.init),
            active: body.active)
    }
}

import Foundation
import Vapor

extension APIHandler {
    func listActivityTypes(
        _ input: Operations.ListActivityTypes.Input
    ) async throws -> Operations.ListActivityTypes.Output {
        let request = try RequestContext.request
        let query = input.query
        let page = try Keyset.activityTypes(list: "listActivityTypes").page(
            limit: query.limit.map(Int.init), cursor: query.cursor, request: request)

        var category: ActivityType.BufdirCategory?
        if let raw = query.bufdirCategory {
            guard let value = ActivityType.BufdirCategory(rawValue: raw.rawValue) else {
                throw AppError.invalidParameter("bufdir_category", "unknown category '\(raw.rawValue)'.")
            }
            category = value
        }
        let filter = ActivityTypeFilter(
            bufdirCategory: category, reportable: query.reportable, requiresEvidence: query.requiresEvidence,
            includeInactive: query.includeInactive == true)
        let (types, next) = try await ActivityTypes.listGlobal(filter, page: page, on: request.db)
        return .ok(.init(body: .json(.init(items: try types.map(Components.Schemas.ActivityType.init), nextCursor: next))))
    }
}

extension Components.Schemas.ActivityType {
    /// The API view of an activity type.
    init(_ model: ActivityType) throws {
        guard let category = Components.Schemas.BufdirCategory(rawValue: model.bufdirCategory.rawValue) else {
            throw AppError(.internalError, "Unknown Bufdir category in the database.")
        }
        self.init(
            id: try model.requireID().uuidString.lowercased(),
            organizationId: model.$organization.id?.uuidString.lowercased(),
            key: model.key,
            nameNb: model.nameNb,
            nameEn: model.nameEn,
            bufdirCategory: category,
            reportable: model.reportable,
            requiresEvidence: model.requiresEvidence,
            defaultDurationMinutes: Int32(model.defaultDurationMinutes),
            active: model.isActive,
            sortOrder: Int32(model.sortOrder))
    }
}

extension Keyset {
    /// Activity types in their display order: `sort_order`, then `key`, then the id (a global type and an
    /// organisation's own type may share a key).
    static func activityTypes(list: String) -> Keyset {
        Keyset(list, table: ActivityType.schema, [.column("sort_order"), .column("key")], id: .ascending)
    }
}

import Fluent
import Foundation
import Vapor

extension APIHandler {
    func listActivityTypes(
        _ input: Operations.ListActivityTypes.Input
    ) async throws -> Operations.ListActivityTypes.Output {
        let request = try RequestContext.request
        let query = input.query
        let limit = try PageCursor.limit(query.limit.map(Int.init))
        let cursor = try PageCursor.decode(query.cursor, count: 2)

        let builder = ActivityType.query(on: request.db).filter(\.$organization.$id == nil)
        if let category = query.bufdirCategory {
            guard let value = ActivityType.BufdirCategory(rawValue: category.rawValue) else {
                throw AppError.invalidParameter("bufdir_category", "unknown category '\(category.rawValue)'.")
            }
            builder.filter(\.$bufdirCategory == value)
        }
        if let reportable = query.reportable {
            builder.filter(\.$reportable == reportable)
        }
        if let requiresEvidence = query.requiresEvidence {
            builder.filter(\.$requiresEvidence == requiresEvidence)
        }
        if query.includeInactive != true {
            builder.filter(\.$isActive == true)
        }
        if let cursor {
            guard let sortOrder = Int(cursor.values[0]) else {
                throw AppError(.invalidCursor, "The cursor is not one this API issued; start again without it.")
            }
            let key = cursor.values[1]
            builder.group(.or) { or in
                or.filter(\.$sortOrder > sortOrder)
                or.group(.and) { and in
                    and.filter(\.$sortOrder == sortOrder).filter(\.$key > key)
                }
            }
        }
        let rows = try await builder.sort(\.$sortOrder).sort(\.$key).limit(limit + 1).all()
        let page = Array(rows.prefix(limit))
        let next = rows.count > limit ? page.last.map { PageCursor(values: [String($0.sortOrder), $0.key]).encoded } : nil
        return .ok(.init(body: .json(.init(items: try page.map(Components.Schemas.ActivityType.init), nextCursor: next))))
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

import Fluent
import Foundation
import Vapor

/// The activities handlers. Each maps the wire input to a domain input, builds the `Caller` and its access for the
/// operation's declared permission, calls `Activities`, and maps the domain result to the wire output.
extension APIHandler {
    func listActivities(_ input: Operations.ListActivities.Input) async throws -> Operations.ListActivities.Output {
        let request = try RequestContext.request
        let query = input.query
        let page = try Keyset.activities.page(limit: query.limit.map(Int.init), cursor: query.cursor, request: request)
        let filter = ActivityFilter(
            organizationID: try query.organizationId.map { try APIID.parse($0, parameter: "organization_id") },
            from: query.from, to: query.to,
            mentorID: try query.mentorId.map { try APIID.filter($0, parameter: "mentor_id") },
            contactID: try query.contactId.map { try APIID.filter($0, parameter: "contact_id") },
            activityTypeID: try query.activityTypeId.map { try APIID.filter($0, parameter: "activity_type_id") },
            status: query.status.flatMap { Activity.Status(rawValue: $0.rawValue) },
            countsForBufdir: query.countsForBufdir, missingEvidence: query.missingEvidence)
        let (records, next) = try await Activities.list(filter, page: page, access: request.access, on: request.db)
        return .ok(.init(body: .json(.init(items: try records.map(Components.Schemas.Activity.init), nextCursor: next))))
    }

    func createActivity(_ input: Operations.CreateActivity.Input) async throws -> Operations.CreateActivity.Output {
        let request = try RequestContext.request
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let logged = try await Activities.log(
            try NewActivity(body), access: request.access, deps: request.dependencies,
            cipher: request.application.meander.cipher, rules: BufdirRulesCache(), on: request.db)
        let view = try Components.Schemas.Activity(try await logged.record(on: request.db))
        return logged.created ? .created(.init(body: .json(view))) : .ok(.init(body: .json(view)))
    }

    func createActivitiesBatch(
        _ input: Operations.CreateActivitiesBatch.Input
    ) async throws -> Operations.CreateActivitiesBatch.Output {
        let request = try RequestContext.request
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let result = try await ActivityBatch.run(body.items, request: request)
        return .ok(.init(body: .json(result)))
    }

    func getActivity(_ input: Operations.GetActivity.Input) async throws -> Operations.GetActivity.Output {
        let request = try RequestContext.request
        let access = request.access
        let (activity, _) = try await Activities.authorized(
            APIID.uuid(input.path.activityId), access: access, on: request.db)
        let summary = try await Activities.readSummary(
            activity, by: access.caller, deps: request.dependencies, cipher: request.application.meander.cipher,
            on: request.db)
        let record = try await Activities.record(activity, summary: summary, on: request.db)
        return .ok(.init(body: .json(try Components.Schemas.Activity(record))))
    }

    func updateActivity(_ input: Operations.UpdateActivity.Input) async throws -> Operations.UpdateActivity.Output {
        let request = try RequestContext.request
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let access = request.access
        let (activity, lineage) = try await Activities.authorized(
            APIID.uuid(input.path.activityId), access: access, on: request.db)
        let changes = try ActivityChanges(body, present: Set((RawBody.object(of: request) ?? [:]).keys))
        let summary = try await Activities.edit(
            activity, lineage: lineage, changes: changes, by: access.caller, deps: request.dependencies,
            cipher: request.application.meander.cipher, on: request.db)
        let record = try await Activities.record(activity, summary: summary, on: request.db)
        return .ok(.init(body: .json(try Components.Schemas.Activity(record))))
    }

    func deleteActivity(_ input: Operations.DeleteActivity.Input) async throws -> Operations.DeleteActivity.Output {
        let request = try RequestContext.request
        let access = request.access
        let (activity, lineage) = try await Activities.authorized(
            APIID.uuid(input.path.activityId), access: access, on: request.db)
        try await Activities.delete(
            activity, lineage: lineage, by: access.caller, deps: request.dependencies, on: request.db)
        return .noContent(.init())
    }

    func approveActivity(_ input: Operations.ApproveActivity.Input) async throws -> Operations.ApproveActivity.Output {
        let request = try RequestContext.request
        let reviewed = try await review(input.path.activityId, approve: true, reason: nil, request: request)
        return .ok(.init(body: .json(reviewed)))
    }

    func rejectActivity(_ input: Operations.RejectActivity.Input) async throws -> Operations.RejectActivity.Output {
        let request = try RequestContext.request
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let reviewed = try await review(input.path.activityId, approve: false, reason: body.reason, request: request)
        return .ok(.init(body: .json(reviewed)))
    }

    private func review(
        _ rawID: String, approve: Bool, reason: String?, request: Request
    ) async throws -> Components.Schemas.Activity {
        let access = request.access
        let (activity, lineage) = try await Activities.authorized(APIID.uuid(rawID), access: access, on: request.db)
        let reviewed = try await Activities.review(
            activity, lineage: lineage, approve: approve, reason: reason, by: access.caller,
            deps: request.dependencies, publicURL: request.application.meander.config.publicURL, on: request.db)
        return try Components.Schemas.Activity(try await Activities.record(reviewed, summary: nil, on: request.db))
    }
}

extension Keyset {
    /// Activities, newest first: `idx_activities_occurred_at_id`, `idx_activities_mentor_id_occurred_at`.
    static let activities = Keyset(
        "listActivities", table: Activity.schema, [.column("occurred_at", .descending)], id: .descending)
}

import Fluent
import FluentSQL
import Foundation
import Vapor

extension APIHandler {
    func listActivities(_ input: Operations.ListActivities.Input) async throws -> Operations.ListActivities.Output {
        let request = try RequestContext.request
        let query = input.query
        let page = try Keyset.activities.page(limit: query.limit.map(Int.init), cursor: query.cursor, request: request)
        let principal = try request.requirePrincipal()
        // With an organisation: 404 outside the caller's reach, as everywhere. Without: 403 for a caller whose roles
        // read activities nowhere (the platform admin), as on every list of tenant data.
        let root = try query.organizationId.map { try APIID.parse($0, parameter: "organization_id") }
        if let root {
            try await request.access.authorize(in: root)
        } else {
            try request.access.authorizeAnywhere()
        }
        let reach = try await TenantReach.of(principal, on: request.db)

        var staff = reach.staff
        var mentor = reach.mentor
        if let root {
            let subtree = try await OrganizationTree.subtreeIDs(of: [root], on: request.db)
            staff.formIntersection(subtree)
            mentor.formIntersection(subtree)
        }
        let builder = Activity.query(on: request.db)
        builder.group(.or) { or in
            or.filter(\.$organization.$id ~~ staff)
            or.group(.and) { own in
                own.filter(\.$organization.$id ~~ mentor).filter(\.$mentor.$id == principal.userID)
            }
        }
        if let from = query.from { builder.filter(\.$occurredAt >= from) }
        if let to = query.to { builder.filter(\.$occurredAt < to) }
        if let raw = query.mentorId { builder.filter(\.$mentor.$id == (try ActivityQuery.uuid(raw, "mentor_id"))) }
        if let raw = query.contactId { builder.filter(\.$contact.$id == (try ActivityQuery.uuid(raw, "contact_id"))) }
        if let raw = query.activityTypeId {
            builder.filter(\.$activityType.$id == (try ActivityQuery.uuid(raw, "activity_type_id")))
        }
        if let status = query.status.flatMap({ Activity.Status(rawValue: $0.rawValue) }) {
            builder.filter(\.$status == status)
        }
        if let counts = query.countsForBufdir { builder.filter(\.$countsForBufdir == counts) }
        if let missing = query.missingEvidence { ActivityQuery.filterMissingEvidence(builder, missing) }
        let rows = try await builder.page(page).allPlain()
        let (activities, next) = try await page.finish(rows, id: { try $0.requireID() }, on: request.db)
        // The list leaves the encrypted summary out: reading it is audited, one activity at a time (getActivity).
        let items = try await ActivityView.make(activities, summaries: [:], on: request.db)
        return .ok(.init(body: .json(.init(items: items, nextCursor: next))))
    }

    func createActivity(_ input: Operations.CreateActivity.Input) async throws -> Operations.CreateActivity.Output {
        let request = try RequestContext.request
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let logged = try await ActivityLogging.create(body, request: request, rules: BufdirRulesCache())
        let view =
            logged.created
            ? try ActivityView.make(created: logged.activity, type: logged.type, summary: logged.summary)
            : try await ActivityView.make(logged.activity, summary: logged.summary, on: request.db)
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
        let (activity, _) = try await ActivityQuery.authorized(input.path.activityId, request: request)
        let summary = try await ActivityQuery.readSummary(activity, request: request)
        return .ok(.init(body: .json(try await ActivityView.make(activity, summary: summary, on: request.db))))
    }

    func updateActivity(_ input: Operations.UpdateActivity.Input) async throws -> Operations.UpdateActivity.Output {
        let request = try RequestContext.request
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let (activity, lineage) = try await ActivityQuery.authorized(input.path.activityId, request: request)
        try await ActivityQuery.checkEditable(activity, lineage: lineage, request: request)
        let summary = try await ActivityEdit.apply(body, to: activity, lineage: lineage, request: request)
        return .ok(.init(body: .json(try await ActivityView.make(activity, summary: summary, on: request.db))))
    }

    func deleteActivity(_ input: Operations.DeleteActivity.Input) async throws -> Operations.DeleteActivity.Output {
        let request = try RequestContext.request
        let (activity, lineage) = try await ActivityQuery.authorized(input.path.activityId, request: request)
        try await ActivityQuery.checkEditable(activity, lineage: lineage, request: request)
        try await AuditLog.delete(
            activity, targetType: "activity", organizationID: activity.$organization.id, request: request)
        return .noContent(.init())
    }

    func approveActivity(_ input: Operations.ApproveActivity.Input) async throws -> Operations.ApproveActivity.Output {
        let request = try RequestContext.request
        let activity = try await ActivityReview.decide(input.path.activityId, approve: true, reason: nil, request: request)
        return .ok(.init(body: .json(try await ActivityView.make(activity, summary: nil, on: request.db))))
    }

    func rejectActivity(_ input: Operations.RejectActivity.Input) async throws -> Operations.RejectActivity.Output {
        let request = try RequestContext.request
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let activity = try await ActivityReview.decide(
            input.path.activityId, approve: false, reason: body.reason, request: request)
        return .ok(.init(body: .json(try await ActivityView.make(activity, summary: nil, on: request.db))))
    }
}

/// Loading activities within the caller's reach.
enum ActivityQuery {
    static func uuid(_ raw: String, _ parameter: String) throws -> UUID {
        guard let id = UUID(uuidString: raw) else { throw AppError.invalidParameter(parameter, "Not a UUID.") }
        return id
    }

    /// The activity, if the caller may see it: staff in its subtree, or its own mentor. Otherwise 404.
    static func authorized(_ raw: String, request: Request) async throws -> (Activity, [Organization]) {
        let notFound = AppError(.notFound, "No such activity.")
        guard let id = UUID(uuidString: raw), let activity = try await Activity.find(id, on: request.db) else {
            // Still a checked answer: the access check ran (no record, no reach).
            _ = try? await request.access.reachableOrganizationIDs()
            throw notFound
        }
        let lineage = try await request.access.authorize(in: activity.$organization.id)
        let principal = try request.requirePrincipal()
        guard TenantReach.isStaff(principal, in: lineage) || activity.$mentor.id == principal.userID else {
            throw notFound
        }
        return (activity, lineage)
    }

    /// Approved activities, and those in a finalised Bufdir period, are read-only; a mentor changes only their own
    /// unapproved work, and not while their membership is paused.
    static func checkEditable(_ activity: Activity, lineage: [Organization], request: Request) async throws {
        let principal = try request.requirePrincipal()
        if !TenantReach.isStaff(principal, in: lineage), TenantReach.isPaused(principal, in: lineage) {
            throw AppError(.forbidden, "Your membership here is paused: you can read your history but not change it.")
        }
        if activity.status == .approved {
            throw AppError(.conflict, "The activity is approved and can no longer be changed.")
        }
        if try await ClosedPeriods.contains(activity.occurredAt, lineage: lineage, on: request.db) {
            throw AppError(.conflict, "The activity lies in a finalised Bufdir period, which is read-only.")
        }
    }

    /// Decrypts the summary for the caller and audits the read (who read which record).
    static func readSummary(_ activity: Activity, request: Request) async throws -> String? {
        guard let sealed = activity.summaryCiphertext else { return nil }
        let id = try activity.requireID()
        let summary = try await request.application.meander.cipher.open(
            sealed, ActivityLogging.summaryContext(activity.$organization.id, id), on: request.db)
        try await AuditLog.append(
            AuditEvent(
                "activity.sensitive_read", request: request, organizationID: activity.$organization.id,
                targetType: "activity", targetID: id, metadata: ["fields": "summary"]),
            on: request.db)
        return summary
    }

    /// Activities whose type needs evidence and that have no live attachment (or, with `false`, the others).
    static func filterMissingEvidence(_ builder: QueryBuilder<Activity>, _ missing: Bool) {
        let condition = """
            (EXISTS (SELECT 1 FROM activity_types t WHERE t.id = activities.activity_type_id AND t.requires_evidence)
             AND NOT EXISTS (SELECT 1 FROM activity_attachments a
                             WHERE a.activity_id = activities.id AND a.deleted_at IS NULL))
            """
        builder.filter(.sql(unsafeRaw: missing ? condition : "NOT \(condition)"))
    }
}

/// Approval and rejection by a coordinator or admin.
enum ActivityReview {
    static func decide(_ raw: String, approve: Bool, reason: String?, request: Request) async throws -> Activity {
        let (activity, lineage) = try await ActivityQuery.authorized(raw, request: request)
        let principal = try request.requirePrincipal()
        guard TenantReach.isStaff(principal, in: lineage) else {
            throw AppError(.forbidden, "Only coordinators and admins review activities.")
        }
        guard activity.status == .registered else {
            throw AppError(
                .conflict, "Only a registered activity can be reviewed (this one is \(activity.status.rawValue)).")
        }
        if try await ClosedPeriods.contains(activity.occurredAt, lineage: lineage, on: request.db) {
            throw AppError(.conflict, "The activity lies in a finalised Bufdir period, which is read-only.")
        }
        let id = try activity.requireID()
        let now = Date()
        // A conditional update decides a race between two reviewers: exactly one wins.
        let won = try await request.db.identityTransaction { transaction -> Bool in
            let sql = try transaction.sqlDatabase()
            let rows =
                approve
                ? try await sql.raw(
                    """
                    UPDATE activities SET status = 'approved', approved_at = \(bind: now),
                        approved_by_id = \(bind: principal.userID), updated_at = \(bind: now)
                    WHERE id = \(bind: id) AND status = 'registered' AND deleted_at IS NULL RETURNING id
                    """
                ).all()
                : try await sql.raw(
                    """
                    UPDATE activities SET status = 'rejected', rejection_reason = \(bind: reason),
                        counts_for_bufdir = \(bind: false), bufdir_reason = 'rejected', updated_at = \(bind: now)
                    WHERE id = \(bind: id) AND status = 'registered' AND deleted_at IS NULL RETURNING id
                    """
                ).all()
            guard !rows.isEmpty else { return false }
            try await AuditLog.append(
                AuditEvent(
                    approve ? "activity.approved" : "activity.rejected", request: request,
                    organizationID: activity.$organization.id, targetType: "activity", targetID: id),
                on: transaction)
            return true
        }
        guard won, let reloaded = try await Activity.find(id, on: request.db) else {
            throw AppError(.conflict, "Someone else reviewed the activity first.")
        }
        return reloaded
    }
}

extension Keyset {
    /// Activities, newest first: `idx_activities_occurred_at_id`, `idx_activities_mentor_id_occurred_at`.
    static let activities = Keyset(
        "listActivities", table: Activity.schema, [.column("occurred_at", .descending)], id: .descending)
}

import Fluent
import FluentSQL
import Foundation

/// The activities service: logging, reading, editing, deleting and reviewing a peer mentor's activities, for the API,
/// the portal, the CLI and jobs alike. It takes domain values, a `Caller`, the app's dependencies and a database, and
/// returns domain values or throws `AppError`; it never sees a request, a wire type or the contract.
///
/// It owns `activities`, `activity_attachments` (see `Attachments`) and `activity_types`. Other capabilities reach
/// them through its functions (`Activities.scrub(forContact:…)`, `Activities.rejudge(year:…)`), never their SQL.
enum Activities {}

/// A new activity, as the service takes it.
struct NewActivity: Sendable {
    var organizationID: UUID
    /// The peer mentor whose work it is; the caller when `nil`.
    var mentorID: UUID?
    var activityTypeID: UUID
    var contactID: UUID?
    /// The app's own id for it, which makes a retried upload idempotent; a new one when `nil`.
    var clientID: UUID?
    var occurredAt: Date
    var durationMinutes: Int
    var participantCount: Int = 1
    var place: String?
    var channel: Activity.Channel?
    /// ISO 3166-1 alpha-2, upper-cased by the service.
    var countryCode: String = "NO"
    var municipalityCode: String?
    /// Special-category text: sealed before it is stored, never logged.
    var summary: String?
    /// Logged as a draft instead of registered.
    var draft: Bool = false
}

/// The fields an edit sets. A field left `nil` is unchanged; for the clearable ones, `.some(nil)` clears it.
struct ActivityChanges: Sendable {
    var activityTypeID: UUID?
    var contactID: UUID??
    var occurredAt: Date?
    var durationMinutes: Int?
    var participantCount: Int?
    var place: String??
    var channel: Activity.Channel?
    var countryCode: String?
    var municipalityCode: String??
    var summary: String??
    /// Draft or registered, as the mentor asks.
    var status: Activity.Status?
}

/// What the activity list is filtered by.
struct ActivityFilter: Sendable {
    /// Only this organisation's subtree.
    var organizationID: UUID?
    var from: Date?
    var to: Date?
    var mentorID: UUID?
    var contactID: UUID?
    var activityTypeID: UUID?
    var status: Activity.Status?
    var countsForBufdir: Bool?
    var missingEvidence: Bool?
}

/// An activity as the service returns it: the row, its evidence state and, where the caller may read it, its
/// decrypted summary. Everything a view needs, so that building the view runs no query.
struct ActivityRecord: Sendable {
    let activity: Activity
    /// Its type asks for evidence.
    let evidenceRequired: Bool
    /// Live evidence files.
    let attachmentCount: Int
    let summary: String?
}

extension Activities {
    // MARK: - Reading

    /// The activity, if the caller may see it: staff in its subtree, or its own mentor. Otherwise 404.
    static func authorized(_ id: UUID?, access: Access, on db: any Database) async throws -> (Activity, [Organization]) {
        let notFound = AppError(.notFound, "No such activity.")
        guard let id, let activity = try await Activity.find(id, on: db) else {
            // Still a checked answer: the access check ran (no record, no reach).
            _ = try? await access.reachableOrganizationIDs()
            throw notFound
        }
        let lineage = try await access.authorize(in: activity.$organization.id)
        let principal = try access.caller.requirePrincipal()
        guard TenantReach.isStaff(principal, in: lineage) || activity.$mentor.id == principal.userID else {
            throw notFound
        }
        return (activity, lineage)
    }

    /// Decrypts the summary for the caller and audits the read (who read which record).
    static func readSummary(
        _ activity: Activity, by caller: Caller, deps: AppDependencies, cipher: FieldCipher, on db: any Database
    ) async throws -> String? {
        guard let sealed = activity.summaryCiphertext else { return nil }
        let id = try activity.requireID()
        let summary = try await cipher.open(sealed, summaryContext(activity.$organization.id, id), on: db)
        try await AuditLog.append(
            caller.event(
                "activity.sensitive_read", organizationID: activity.$organization.id, targetType: "activity",
                targetID: id, metadata: ["fields": "summary"]
            ).dated(by: deps.clock),
            on: db)
        return summary
    }

    /// One page of the activities the caller may see: staff see their organisations' subtrees, a mentor their own
    /// work. With an organisation: 404 outside the caller's reach, as everywhere. Without: 403 for a caller whose
    /// roles read activities nowhere (the platform admin), as on every list of tenant data.
    static func list(
        _ filter: ActivityFilter, page: KeysetPage, access: Access, on db: any Database
    ) async throws -> (items: [ActivityRecord], next: String?) {
        let principal = try access.caller.requirePrincipal()
        if let root = filter.organizationID {
            try await access.authorize(in: root)
        } else {
            try access.authorizeAnywhere()
        }
        let reach = try await TenantReach.of(principal, on: db)

        var staff = reach.staff
        var mentor = reach.mentor
        if let root = filter.organizationID {
            let subtree = try await OrganizationTree.subtreeIDs(of: [root], on: db)
            staff.formIntersection(subtree)
            mentor.formIntersection(subtree)
        }
        let builder = Activity.query(on: db)
        builder.group(.or) { or in
            or.filter(\.$organization.$id ~~ staff)
            or.group(.and) { own in
                own.filter(\.$organization.$id ~~ mentor).filter(\.$mentor.$id == principal.userID)
            }
        }
        if let from = filter.from { builder.filter(\.$occurredAt >= from) }
        if let to = filter.to { builder.filter(\.$occurredAt < to) }
        if let id = filter.mentorID { builder.filter(\.$mentor.$id == id) }
        if let id = filter.contactID { builder.filter(\.$contact.$id == id) }
        if let id = filter.activityTypeID { builder.filter(\.$activityType.$id == id) }
        if let status = filter.status { builder.filter(\.$status == status) }
        if let counts = filter.countsForBufdir { builder.filter(\.$countsForBufdir == counts) }
        if let missing = filter.missingEvidence { filterMissingEvidence(builder, missing) }
        let rows = try await builder.page(page).allPlain()
        let (activities, next) = try await page.finish(rows, id: { try $0.requireID() }, on: db)
        // The list leaves the encrypted summary out: reading it is audited, one activity at a time.
        return (try await records(activities, summaries: [:], on: db), next)
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

    /// The records of one activity.
    static func record(_ activity: Activity, summary: String?, on db: any Database) async throws -> ActivityRecord {
        try await records([activity], summaries: summary.map { [try activity.requireID(): $0] } ?? [:], on: db)[0]
    }

    /// The records of many activities, with two queries for the evidence state of all of them.
    static func records(
        _ activities: [Activity], summaries: [UUID: String], on db: any Database
    ) async throws -> [ActivityRecord] {
        guard !activities.isEmpty else { return [] }
        let ids = try activities.map { try $0.requireID() }
        let typeIDs = Set(activities.map { $0.$activityType.id })
        let needsEvidence = Set(
            try await ActivityType.query(on: db).filter(\.$id ~~ typeIDs).filter(\.$requiresEvidence == true).all()
                .map { try $0.requireID() })
        var attachmentCounts: [UUID: Int] = [:]
        for attachment in try await ActivityAttachment.query(on: db).filter(\.$activity.$id ~~ ids).all() {
            attachmentCounts[attachment.$activity.id, default: 0] += 1
        }
        return try activities.map { activity in
            let id = try activity.requireID()
            return ActivityRecord(
                activity: activity, evidenceRequired: needsEvidence.contains(activity.$activityType.id),
                attachmentCount: attachmentCounts[id] ?? 0, summary: summaries[id])
        }
    }

    // MARK: - Changing

    /// The facts the status rules decide on, for a change to `activity` by `caller`. Whether its day is closed is
    /// asked only when the other rules allow the change (one query fewer for a refused one).
    static func check(
        _ change: ActivityTransitions.Change, _ activity: Activity, lineage: [Organization], by caller: Caller,
        on db: any Database
    ) async throws {
        let principal = try caller.requirePrincipal()
        var facts = ActivityTransitions.Facts(
            status: activity.status, byStaff: TenantReach.isStaff(principal, in: lineage),
            callerPaused: TenantReach.isPaused(principal, in: lineage), periodClosed: false)
        try ActivityTransitions.check(change, facts)
        facts.periodClosed = try await ClosedPeriods.contains(activity.occurredAt, lineage: lineage, on: db)
        try ActivityTransitions.check(change, facts)
    }

    /// Soft-deletes an activity the caller may change, and audits it.
    static func delete(
        _ activity: Activity, lineage: [Organization], by caller: Caller, deps: AppDependencies, on db: any Database
    ) async throws {
        try await check(.delete, activity, lineage: lineage, by: caller, on: db)
        try await AuditLog.delete(
            activity, targetType: "activity", organizationID: activity.$organization.id, by: caller, deps: deps,
            on: db)
    }

    /// Approves or rejects a registered activity. A conditional update decides a race between two reviewers:
    /// exactly one wins, the other gets 409. The mentor is told (`activity_approved`, `activity_rejected`) in the same
    /// transaction; the message names no contact and no summary.
    static func review(
        _ activity: Activity, lineage: [Organization], approve: Bool, reason: String?, by caller: Caller,
        deps: AppDependencies, publicURL: String, on db: any Database
    ) async throws -> Activity {
        try await check(approve ? .approve : .reject, activity, lineage: lineage, by: caller, on: db)
        let principal = try caller.requirePrincipal()
        let id = try activity.requireID()
        let now = deps.now
        let event = caller.event(
            approve ? "activity.approved" : "activity.rejected", organizationID: activity.$organization.id,
            targetType: "activity", targetID: id)
        let won = try await db.auditedWrite(clock: deps.clock) { transaction -> (Bool, AuditEvent?) in
            let rows =
                approve
                ? try await ActivitySQL.approve(id, by: principal.userID, at: now, on: transaction)
                : try await ActivitySQL.reject(id, reason: reason, at: now, on: transaction)
            if rows {
                try await Notifier.notify(
                    activity.$mentor.id,
                    Notifier.Message(
                        approve ? .activityApproved : .activityRejected,
                        values: ["link": "\(publicURL)/activities/\(id.uuidString.lowercased())"],
                        dedupeKey: "activity:\(id.uuidString.lowercased()):\(approve ? "approved" : "rejected")",
                        organizationID: activity.$organization.id, data: ["activity_id": id.uuidString.lowercased()]),
                    deps: deps, on: transaction)
            }
            return (rows, rows ? event : nil)
        }
        guard won, let reloaded = try await Activity.find(id, on: db) else {
            throw AppError(.conflict, "Someone else reviewed the activity first.")
        }
        return reloaded
    }

    static func summaryContext(_ organizationID: UUID, _ activityID: UUID) -> FieldContext {
        FieldContext(
            organizationID: organizationID, table: Activity.schema, column: "summary_ciphertext", rowID: activityID)
    }
}

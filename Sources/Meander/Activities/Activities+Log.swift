import Fluent
import Foundation

/// Logging an activity: one service for the single upload, the offline batch, the portal and the CLI.
extension Activities {
    /// What logging one activity did.
    struct Logged: Sendable {
        let activity: Activity
        /// `false` when the same `client_id` with the same content was logged before: the original.
        let created: Bool
        let summary: String?
        /// The activity's type, as checked when logging.
        let type: ActivityType

        /// The record of a new activity, built from what is in hand: it has no attachments yet, so its evidence
        /// state needs no query. A replayed one is read as any other.
        func record(on db: any Database) async throws -> ActivityRecord {
            guard created else { return try await Activities.record(activity, summary: summary, on: db) }
            return ActivityRecord(
                activity: activity, evidenceRequired: type.requiresEvidence, attachmentCount: 0, summary: summary)
        }
    }

    /// Logs one activity: checks, Bufdir eligibility, idempotency by `client_id`, audit.
    ///
    /// All of it runs on one connection (`requestTransaction`). A `client_id` used before, or by a concurrent upload
    /// that commits first, is answered as a retry. When a write fails on another constraint (a racing change to
    /// what the activity names), the whole attempt rolls back and runs once more.
    static func log(
        _ new: NewActivity, access: Access, deps: AppDependencies, cipher: FieldCipher, rules: BufdirRulesCache,
        on db: any Database
    ) async throws -> Logged {
        func attempt() async throws -> Logged {
            try await db.requestTransaction { db in
                try await log(new, access: access, deps: deps, cipher: cipher, rules: rules, attemptOn: db)
            }
        }
        do {
            return try await attempt()
        } catch let error as any DatabaseError where error.isConstraintFailure {
            do {
                return try await attempt()
            } catch let error as any DatabaseError where error.isConstraintFailure {
                throw AppError(.conflict, "The activity conflicts with another record: \(String(describing: error))")
            }
        }
    }

    private static func log(
        _ new: NewActivity, access: Access, deps: AppDependencies, cipher: FieldCipher, rules: BufdirRulesCache,
        attemptOn db: any Database
    ) async throws -> Logged {
        let caller = access.caller
        let principal = try caller.requirePrincipal()
        let organizationID = new.organizationID
        let lineage = try await access.authorize(in: organizationID, on: db)
        if TenantReach.isPaused(principal, in: lineage) {
            throw AppError(
                .forbidden, "Your membership here is paused: you can read your history but not log new work.")
        }
        let isStaff = TenantReach.isStaff(principal, in: lineage)
        let mentorID = new.mentorID ?? principal.userID
        if mentorID != principal.userID {
            guard isStaff else {
                throw AppError(.forbidden, "Only coordinators and admins log activities on a mentor's behalf.")
            }
            try await checkMentor(mentorID, lineage: lineage, at: new.occurredAt, on: db)
        } else {
            try checkMentor(principal, lineage: lineage)
        }
        let type = try await activityType(new.activityTypeID, lineage: lineage, requireActive: true, on: db)
        let contactID = try await contact(new.contactID, mentorID: mentorID, principal: principal, on: db)
        let municipalityCode = try municipality(new.municipalityCode)
        let clientID = new.clientID ?? deps.uuid()
        let status = ActivityTransitions.initialStatus(draft: new.draft)

        let id = deps.uuid()
        let activity = Activity(
            id: id, organizationID: organizationID, mentorID: mentorID, activityTypeID: try type.requireID(),
            occurredAt: new.occurredAt, durationMinutes: new.durationMinutes, registeredByID: principal.userID,
            contactID: contactID, clientID: clientID, participantCount: new.participantCount, place: new.place,
            channel: new.channel, countryCode: new.countryCode.uppercased(), municipalityCode: municipalityCode,
            status: status)
        try await judge(activity, type: type, rules: rules, on: db)
        if let summary = new.summary {
            let sealed = try await cipher.seal(summary, summaryContext(organizationID, id), on: db)
            activity.summaryCiphertext = sealed
            activity.keyVersion = FieldCipher.keyVersion(of: sealed)
        }
        let lineageIDs = try ClosedPeriods.lineageIDs(lineage)
        let event = caller.event(
            "activity.created", organizationID: organizationID, targetType: "activity", targetID: id,
            metadata: [
                "client_id": clientID.uuidString.lowercased(),
                "on_behalf": String(mentorID != principal.userID),
                "counts_for_bufdir": String(activity.countsForBufdir),
            ])
        let now = deps.now
        let inserted = try await db.auditedWrite(clock: deps.clock) { transaction -> (Bool, AuditEvent?) in
            let inserted = try await insert(activity, unlessClosedIn: lineageIDs, at: now, on: transaction)
            return (inserted, inserted ? event : nil)
        }
        guard inserted else {
            // The client id was used before, or by a concurrent upload that has now committed: answer as a retry.
            // That holds in a period closed since, too: a retry of an upload made before it closed gets its original.
            if let existing = try await find(clientID: clientID, in: organizationID, on: db) {
                return try await replay(existing, of: activity, type: type, summary: new.summary, cipher: cipher, on: db)
            }
            if try await ClosedPeriods.contains(new.occurredAt, lineage: lineage, on: db) {
                throw AppError.closedPeriod("That date")
            }
            throw AppError(.conflict, "The client_id \(clientID.uuidString.lowercased()) is taken; use a new one.")
        }
        return Logged(activity: activity, created: true, summary: new.summary, type: type)
    }

    /// Inserts a new activity with one plain statement and marks the model as saved, unless the organisation has
    /// one with its `client_id` already (or a concurrent upload of it commits first), or its day lies in a closed
    /// Bufdir period of `lineageIDs` (nearest first): then nothing is written and the answer is `false`. Fluent's
    /// `create` enumerates the model's properties by reflection on every call, a cost the logging path pays on
    /// every request. `Activity.id` must be set.
    static func insert(
        _ activity: Activity, unlessClosedIn lineageIDs: [UUID], at now: Date, on db: any Database
    ) async throws -> Bool {
        activity.createdAt = now
        activity.updatedAt = now
        let statement = InsertActivityStatement(activity: activity, now: now, lineageIDs: lineageIDs)
        guard try await statement.first(on: db) != nil else { return false }
        activity.$id.exists = true
        return true
    }

    /// The original for a retried `client_id`, or 409 if the content differs.
    private static func replay(
        _ existing: Activity, of attempt: Activity, type: ActivityType, summary: String?, cipher: FieldCipher,
        on db: any Database
    ) async throws -> Logged {
        let existingSummary = try await cipher.open(
            existing.summaryCiphertext, summaryContext(existing.$organization.id, try existing.requireID()), on: db)
        let sameLinks =
            existing.$mentor.id == attempt.$mentor.id && existing.$contact.id == attempt.$contact.id
            && existing.$activityType.id == attempt.$activityType.id
        let sameTime =
            abs(existing.occurredAt.timeIntervalSince(attempt.occurredAt)) < 0.001
            && existing.durationMinutes == attempt.durationMinutes
        let samePlace =
            existing.place == attempt.place && existing.channel == attempt.channel
            && existing.countryCode == attempt.countryCode && existing.municipalityCode == attempt.municipalityCode
        let sameRest =
            existing.participantCount == attempt.participantCount && existingSummary == summary
            && existing.deletedAt == nil
        let same = sameLinks && sameTime && samePlace && sameRest
        guard same else {
            throw AppError(
                .conflict,
                "The client_id \(attempt.clientID.uuidString.lowercased()) was already used for an activity with other content (or one since deleted). Use a new client_id for a new activity."
            )
        }
        return Logged(activity: existing, created: false, summary: existingSummary, type: type)
    }

    /// The activity an earlier upload of `clientID` made here, deleted or not. A plain query for the id first: on
    /// nearly every call there is none, and the model is only read when there is.
    static func find(clientID: UUID, in organizationID: UUID, on db: any Database) async throws -> Activity? {
        guard let id = try await ActivityByClientIDStatement(organizationID: organizationID, clientID: clientID).first(on: db)
        else { return nil }
        return try await Activity.query(on: db).withDeleted().filter(\.$id == id).first()
    }

    /// Sets `counts_for_bufdir` and `bufdir_reason` from the rules of the activity's year.
    static func judge(
        _ activity: Activity, type: ActivityType, rules: BufdirRulesCache, on db: any Database
    ) async throws {
        let year = BufdirEligibility.reportingYear(of: activity.occurredAt)
        let verdict = BufdirEligibility.evaluate(
            .init(
                category: type.bufdirCategory, reportable: type.reportable, channel: activity.channel,
                participants: activity.participantCount, minutes: activity.durationMinutes,
                countryCode: activity.countryCode, status: activity.status),
            rules: try await rules.rules(for: year, on: db), year: year)
        activity.countsForBufdir = verdict.counts
        activity.bufdirReason = verdict.reason
    }

    // MARK: - Checks

    /// An activity type usable in the organisation: global, or owned by it or an organisation above it.
    static func activityType(
        _ id: UUID, lineage: [Organization], requireActive: Bool, on db: any Database
    ) async throws -> ActivityType {
        let lineageIDs = Set(lineage.compactMap(\.id))
        guard let type = try await ActivityTypeStatement(id: id).first(on: db),
            type.$organization.id.map(lineageIDs.contains) ?? true
        else {
            throw AppError.validation([
                .init(field: "/activity_type_id", code: "unknown", message: "No such activity type here.")
            ])
        }
        if requireActive, !type.isActive {
            throw AppError.validation([
                .init(
                    field: "/activity_type_id", code: "inactive",
                    message: "This activity type is deactivated; choose another for new work.")
            ])
        }
        return type
    }

    /// The answer when the named mentor holds no peer-mentor role: an activity is a peer mentor's work, so a
    /// coordinator or admin without that role cannot be its mentor, not even their own.
    static let notAMentor = AppError(
        .notAMentor,
        "The mentor of an activity must hold a peer-mentor role in its organisation, or one above it, on that day.",
        fieldErrors: [
            .init(field: "/mentor_id", code: "not_a_mentor", message: "This person is not a peer mentor here.")
        ])

    /// The caller logging their own work: a live peer-mentor role here or above, from the grants already loaded
    /// with the session (no query on the logging path).
    static func checkMentor(_ principal: Principal, lineage: [Organization]) throws {
        let ids = Set(lineage.compactMap(\.id))
        guard principal.grants.contains(where: { $0.role == .peerMentor && $0.organizationID.map(ids.contains) == true })
        else { throw notAMentor }
    }

    /// The mentor a coordinator logs for: a peer-mentor role here or above that was not revoked by the activity's
    /// day (`date`), through a membership that is active (paused: 409) and has not ended.
    static func checkMentor(_ mentorID: UUID, lineage: [Organization], at date: Date, on db: any Database) async throws {
        let lineageIDs = lineage.compactMap(\.id)
        let roles = try await UserRole.query(on: db)
            .filter(\.$user.$id == mentorID).filter(\.$role == .peerMentor)
            .group(.or) { live in live.filter(\.$revokedAt == nil).filter(\.$revokedAt > date) }
            .filter(\.$organization.$id ~~ lineageIDs)
            .all()
        let memberships = try await OrganizationMembership.query(on: db)
            .filter(\.$user.$id == mentorID)
            .filter(\.$organization.$id ~~ roles.compactMap { $0.$organization.id })
            .all()
        guard memberships.contains(where: { $0.status == .active || $0.status == .paused }) else {
            throw notAMentor
        }
        guard memberships.contains(where: { $0.status == .active }) else {
            throw AppError(.conflict, "The mentor's membership is paused: no new work can be logged for them.")
        }
    }

    /// The contact of an activity: within the caller's reach, and for a mentor one assigned to them.
    static func contact(
        _ id: UUID?, mentorID: UUID, principal: Principal, on db: any Database
    ) async throws -> UUID? {
        guard let id else { return nil }
        let unknown = AppError.validation([
            .init(field: "/contact_id", code: "unknown", message: "No such contact within your reach.")
        ])
        guard let contact = try await Contact.find(id, on: db), contact.erasedAt == nil else { throw unknown }
        let reach = try await TenantReach.of(principal, on: db)
        let assigned = try await ContactAccess.isAssigned(contact: id, to: mentorID, on: db)
        let visible =
            reach.staff.contains(contact.$organization.id)
            || (assigned && principal.userID == mentorID)
        guard visible else { throw unknown }
        if contact.status == .archived {
            throw AppError(.conflict, "The contact is archived; no new activities can name them.")
        }
        return id
    }

    static func municipality(_ code: String?) throws -> String? {
        guard let code else { return nil }
        guard Municipalities.byCode[code] != nil else {
            throw AppError.validation([
                .init(
                    field: "/municipality_code", code: "unknown",
                    message: "'\(code)' is not a municipality number in the 2024 list.")
            ])
        }
        return code
    }
}

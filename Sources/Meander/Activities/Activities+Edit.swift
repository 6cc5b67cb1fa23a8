import Fluent
import Foundation

extension Activities {
    /// Edits an activity the caller may change: applies the given fields, re-judges Bufdir eligibility, saves and
    /// audits. Returns the summary when the edit set it (an unchanged summary is not decrypted: reading it is
    /// audited, and only `readSummary` does that).
    static func edit(
        _ activity: Activity, lineage: [Organization], changes: ActivityChanges, by caller: Caller,
        deps: AppDependencies, cipher: FieldCipher, on db: any Database
    ) async throws -> String? {
        try await check(.edit, activity, lineage: lineage, by: caller, on: db)
        let principal = try caller.requirePrincipal()
        var changed: [String] = []
        func note(_ field: String, _ different: Bool) { if different { changed.append(field) } }

        var type = try await ActivityType.find(activity.$activityType.id, on: db)
        if let typeID = changes.activityTypeID, typeID != activity.$activityType.id {
            let newType = try await activityType(typeID, lineage: lineage, requireActive: true, on: db)
            activity.$activityType.id = try newType.requireID()
            type = newType
            changed.append("activity_type_id")
        }
        if let contactID = changes.contactID {
            let contactID = try await contact(contactID, mentorID: activity.$mentor.id, principal: principal, on: db)
            note("contact_id", contactID != activity.$contact.id)
            activity.$contact.id = contactID
        }
        if let occurredAt = changes.occurredAt, occurredAt != activity.occurredAt {
            if try await ClosedPeriods.contains(occurredAt, lineage: lineage, on: db) {
                throw AppError.closedPeriod("That date")
            }
            // The mentor must have been one on the new day too.
            try await checkMentor(activity.$mentor.id, lineage: lineage, at: occurredAt, on: db)
            activity.occurredAt = occurredAt
            changed.append("occurred_at")
        }
        if let minutes = changes.durationMinutes {
            note("duration_minutes", minutes != activity.durationMinutes)
            activity.durationMinutes = minutes
        }
        if let participants = changes.participantCount {
            note("participant_count", participants != activity.participantCount)
            activity.participantCount = participants
        }
        if let place = changes.place {
            note("place", place != activity.place)
            activity.place = place
        }
        if let channel = changes.channel {
            note("channel", channel != activity.channel)
            activity.channel = channel
        }
        if let country = changes.countryCode?.uppercased() {
            note("country_code", country != activity.countryCode)
            activity.countryCode = country
        }
        if let code = changes.municipalityCode {
            let code = try municipality(code)
            note("municipality_code", code != activity.municipalityCode)
            activity.municipalityCode = code
        }
        var summary: String?
        if let newSummary = changes.summary {
            summary = newSummary
            let sealed = try await cipher.seal(
                newSummary, summaryContext(activity.$organization.id, try activity.requireID()), on: db)
            activity.summaryCiphertext = sealed
            activity.keyVersion = sealed.flatMap(FieldCipher.keyVersion(of:))
            changed.append("summary")
        }
        let fieldsChanged = !changed.isEmpty
        if let status = ActivityTransitions.status(
            afterEdit: activity.status, requested: changes.status, fieldsChanged: fieldsChanged)
        {
            if changes.status != nil {
                note("status", status != activity.status)
            } else {
                // A corrected rejected activity goes back for review.
                activity.rejectionReason = nil
                changed.append("status")
            }
            activity.status = status
        }
        guard let type else { throw AppError(.internalError, "The activity's type is missing.") }
        try await judge(activity, type: type, rules: BufdirRulesCache(), on: db)
        guard !changed.isEmpty else { return summary }

        let event = caller.event(
            "activity.updated", organizationID: activity.$organization.id, targetType: "activity",
            targetID: try activity.requireID(),
            metadata: [
                "fields": changed.joined(separator: ","), "counts_for_bufdir": String(activity.countsForBufdir),
            ])
        let now = deps.now
        try await db.auditedWrite(event, clock: deps.clock) { transaction in
            try await activity.save(on: transaction)
            // Fluent stamps `updated_at` with the machine's clock; the activity's time is the app's.
            try await ActivitySQL.touch(try activity.requireID(), at: now, on: transaction)
        }
        activity.updatedAt = now
        return summary
    }
}

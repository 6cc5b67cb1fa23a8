import Foundation
import OpenAPIRuntime

// The activities' wire format: domain values to and from the contract's types. Pure functions, no queries.

extension Components.Schemas.Activity {
    /// The API view of an activity record.
    init(_ record: ActivityRecord) throws {
        func api(_ id: UUID) -> String { APIID.string(id) }
        let activity = record.activity
        guard let status = Components.Schemas.ActivityStatus(rawValue: activity.status.rawValue) else {
            throw AppError(.internalError, "Unknown activity status in the database.")
        }
        let required = record.evidenceRequired
        let attachments = record.attachmentCount
        self.init(
            id: api(try activity.requireID()), clientId: api(activity.clientID),
            organizationId: api(activity.$organization.id), mentorId: api(activity.$mentor.id),
            registeredById: api(activity.$registeredBy.id), onBehalf: activity.$registeredBy.id != activity.$mentor.id,
            contactId: activity.$contact.id.map(api), activityTypeId: api(activity.$activityType.id),
            occurredAt: activity.occurredAt, durationMinutes: Int32(activity.durationMinutes),
            participantCount: Int32(activity.participantCount), place: activity.place,
            channel: activity.channel.flatMap { Components.Schemas.ActivityChannel(rawValue: $0.rawValue) },
            countryCode: activity.countryCode, municipalityCode: activity.municipalityCode, summary: record.summary,
            status: status, rejectionReason: activity.rejectionReason, approvedById: activity.$approvedBy.id.map(api),
            approvedAt: activity.approvedAt,
            eligibility: .init(
                counts: activity.countsForBufdir, reason: activity.bufdirReason,
                reportingYear: Int32(BufdirEligibility.reportingYear(of: activity.occurredAt))),
            evidence: .init(required: required, attachmentCount: Int32(attachments), missing: required && attachments == 0),
            createdAt: activity.createdAt ?? activity.occurredAt, updatedAt: activity.updatedAt ?? activity.occurredAt)
    }
}

extension NewActivity {
    /// A new activity from the contract's `ActivityCreate` (already checked against its schema); a malformed id is
    /// a validation error at its field.
    init(_ body: Components.Schemas.ActivityCreate) throws {
        self.init(
            organizationID: try APIID.parse(body.organizationId, parameter: "organization"),
            mentorID: try body.mentorId.map { try APIID.field($0, pointer: "/mentor_id") },
            activityTypeID: try APIID.field(body.activityTypeId, pointer: "/activity_type_id"),
            contactID: try body.contactId.map { try APIID.field($0, pointer: "/contact_id") },
            clientID: try body.clientId.map { try APIID.field($0, pointer: "/client_id") },
            occurredAt: body.occurredAt, durationMinutes: Int(body.durationMinutes),
            participantCount: Int(body.participantCount ?? 1), place: body.place,
            channel: body.channel.flatMap { Activity.Channel(rawValue: $0.rawValue) },
            countryCode: body.countryCode ?? "NO", municipalityCode: body.municipalityCode, summary: body.summary,
            draft: body.status == .draft)
    }
}

extension ActivityChanges {
    /// The changes of the contract's `ActivityUpdate`. `present` holds the body's keys: for `contact_id`, `place`,
    /// `municipality_code` and `summary` an explicit `null` clears the field, where an absent key leaves it (the
    /// generated type reads both as `nil`).
    init(_ body: Components.Schemas.ActivityUpdate, present: Set<String>) throws {
        self.init()
        activityTypeID = try body.activityTypeId.map { try APIID.field($0, pointer: "/activity_type_id") }
        if present.contains("contact_id") {
            contactID = .some(try body.contactId.map { try APIID.field($0, pointer: "/contact_id") })
        }
        occurredAt = body.occurredAt
        durationMinutes = body.durationMinutes.map(Int.init)
        participantCount = body.participantCount.map(Int.init)
        if present.contains("place") { place = .some(body.place) }
        channel = body.channel.flatMap { Activity.Channel(rawValue: $0.rawValue) }
        countryCode = body.countryCode
        if present.contains("municipality_code") { municipalityCode = .some(body.municipalityCode) }
        if present.contains("summary") { summary = .some(body.summary) }
        status = body.status.flatMap { Activity.Status(rawValue: $0.rawValue) }
    }
}

import Fluent
import Foundation
import OpenAPIRuntime
import Vapor

/// The API view of activities, with their evidence state.
enum ActivityView {
    static func make(_ activity: Activity, summary: String?, on db: any Database) async throws
        -> Components.Schemas.Activity
    {
        try await make([activity], summaries: summary.map { [try activity.requireID(): $0] } ?? [:], on: db)[0]
    }

    /// The view of an activity just created with a type in hand: it has no attachments yet, so its evidence state
    /// needs no query.
    static func make(created activity: Activity, type: ActivityType, summary: String?) throws
        -> Components.Schemas.Activity
    {
        try view(activity, summary: summary, required: type.requiresEvidence, attachments: 0)
    }

    /// Views of many activities, with two queries for the evidence state of the whole page.
    static func make(_ activities: [Activity], summaries: [UUID: String], on db: any Database) async throws
        -> [Components.Schemas.Activity]
    {
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
            let required = needsEvidence.contains(activity.$activityType.id)
            let count = attachmentCounts[id] ?? 0
            return try view(activity, summary: summaries[id], required: required, attachments: count)
        }
    }

    private static func view(_ activity: Activity, summary: String?, required: Bool, attachments: Int) throws
        -> Components.Schemas.Activity
    {
        func api(_ id: UUID) -> String { id.uuidString.lowercased() }
        guard let status = Components.Schemas.ActivityStatus(rawValue: activity.status.rawValue) else {
            throw AppError(.internalError, "Unknown activity status in the database.")
        }
        return Components.Schemas.Activity(
            id: api(try activity.requireID()), clientId: api(activity.clientID),
            organizationId: api(activity.$organization.id), mentorId: api(activity.$mentor.id),
            registeredById: api(activity.$registeredBy.id), onBehalf: activity.$registeredBy.id != activity.$mentor.id,
            contactId: activity.$contact.id.map(api), activityTypeId: api(activity.$activityType.id),
            occurredAt: activity.occurredAt, durationMinutes: Int32(activity.durationMinutes),
            participantCount: Int32(activity.participantCount), place: activity.place,
            channel: activity.channel.flatMap { Components.Schemas.ActivityChannel(rawValue: $0.rawValue) },
            countryCode: activity.countryCode, municipalityCode: activity.municipalityCode, summary: summary,
            status: status, rejectionReason: activity.rejectionReason, approvedById: activity.$approvedBy.id.map(api),
            approvedAt: activity.approvedAt,
            eligibility: .init(
                counts: activity.countsForBufdir, reason: activity.bufdirReason,
                reportingYear: Int32(BufdirEligibility.reportingYear(of: activity.occurredAt))),
            evidence: .init(required: required, attachmentCount: Int32(attachments), missing: required && attachments == 0),
            createdAt: activity.createdAt ?? activity.occurredAt, updatedAt: activity.updatedAt ?? activity.occurredAt)
    }
}

/// Editing an activity (PATCH).
enum ActivityEdit {
    /// Applies the given fields, re-judges Bufdir eligibility, saves and audits. Returns the summary when the request
    /// set it (an unchanged summary is not decrypted: reading it is audited, and only `getActivity` does that).
    static func apply(
        _ body: Components.Schemas.ActivityUpdate, to activity: Activity, lineage: [Organization], request: Request
    ) async throws -> String? {
        let principal = try request.requirePrincipal()
        let raw = RawBody.object(of: request) ?? [:]
        let isStaff = TenantReach.isStaff(principal, in: lineage)
        var changed: [String] = []
        func note(_ field: String, _ different: Bool) { if different { changed.append(field) } }

        var type = try await ActivityType.find(activity.$activityType.id, on: request.db)
        if let rawType = body.activityTypeId, UUID(uuidString: rawType) != activity.$activityType.id {
            let newType = try await ActivityLogging.activityType(rawType, lineage: lineage, requireActive: true, on: request.db)
            activity.$activityType.id = try newType.requireID()
            type = newType
            changed.append("activity_type_id")
        }
        if raw.keys.contains("contact_id") {
            let contactID = try await ActivityLogging.contact(
                body.contactId, mentorID: activity.$mentor.id, asStaff: isStaff, principal: principal, on: request.db)
            note("contact_id", contactID != activity.$contact.id)
            activity.$contact.id = contactID
        }
        if let occurredAt = body.occurredAt, occurredAt != activity.occurredAt {
            if try await ClosedPeriods.contains(occurredAt, lineage: lineage, on: request.db) {
                throw AppError(.conflict, "That date lies in a finalised Bufdir period, which is read-only.")
            }
            // The mentor must have been one on the new day too.
            try await ActivityLogging.checkMentor(
                activity.$mentor.id, lineage: lineage, at: occurredAt, on: request.db)
            activity.occurredAt = occurredAt
            changed.append("occurred_at")
        }
        if let minutes = body.durationMinutes.map(Int.init) {
            note("duration_minutes", minutes != activity.durationMinutes)
            activity.durationMinutes = minutes
        }
        if let participants = body.participantCount.map(Int.init) {
            note("participant_count", participants != activity.participantCount)
            activity.participantCount = participants
        }
        if raw.keys.contains("place") {
            note("place", body.place != activity.place)
            activity.place = body.place
        }
        if let channel = body.channel.flatMap({ Activity.Channel(rawValue: $0.rawValue) }) {
            note("channel", channel != activity.channel)
            activity.channel = channel
        }
        if let country = body.countryCode?.uppercased() {
            note("country_code", country != activity.countryCode)
            activity.countryCode = country
        }
        if raw.keys.contains("municipality_code") {
            let code = try ActivityLogging.municipality(body.municipalityCode)
            note("municipality_code", code != activity.municipalityCode)
            activity.municipalityCode = code
        }
        var summary: String?
        if raw.keys.contains("summary") {
            summary = body.summary
            let sealed = try await request.application.meander.cipher.seal(
                body.summary, ActivityLogging.summaryContext(activity.$organization.id, try activity.requireID()),
                on: request.db)
            activity.summaryCiphertext = sealed
            activity.keyVersion = sealed.flatMap(FieldCipher.keyVersion(of:))
            changed.append("summary")
        }
        if let status = body.status.flatMap({ Activity.Status(rawValue: $0.rawValue) }) {
            note("status", status != activity.status)
            activity.status = status
        } else if activity.status == .rejected, !changed.isEmpty {
            // A corrected rejected activity goes back for review.
            activity.status = .registered
            activity.rejectionReason = nil
            changed.append("status")
        }
        guard let type else { throw AppError(.internalError, "The activity's type is missing.") }
        try await ActivityLogging.judge(activity, type: type, rules: BufdirRulesCache(), on: request.db)
        guard !changed.isEmpty else { return summary }

        let id = try activity.requireID()
        let metadata = [
            "fields": changed.joined(separator: ","), "counts_for_bufdir": String(activity.countsForBufdir),
        ]
        try await request.db.identityTransaction { transaction in
            try await activity.save(on: transaction)
            try await AuditLog.append(
                AuditEvent(
                    "activity.updated", request: request, organizationID: activity.$organization.id,
                    targetType: "activity", targetID: id, metadata: metadata),
                on: transaction)
        }
        return summary
    }
}

/// Offline sync: up to 500 activities, each handled as `createActivity` would handle it alone.
enum ActivityBatch {
    static func run(_ items: [OpenAPIObjectContainer], request: Request) async throws -> Components.Schemas.BatchResult {
        // Each item is authorised on its own organisation; the batch as a whole needs the permission somewhere.
        try request.access.authorizeAnywhere()
        guard
            let schema = request.application.meander.contract.operations
                .first(where: { $0.operationID == "createActivity" })?.requestBodies["application/json"]
        else { throw AppError(.internalError, "The contract has no createActivity body.") }
        let rules = BufdirRulesCache()
        var results: [Components.Schemas.BatchItemResult] = []
        var created = 0
        var replayed = 0
        for (index, item) in items.enumerated() {
            let data = try JSONEncoder().encode(item)
            let clientID = (try? JSONDecoder().decode(ClientIDProbe.self, from: data))?.clientId
            do {
                let body = try decode(
                    data, schema: schema, index: index,
                    context: ValidationContext(config: request.application.meander.config))
                let logged = try await ActivityLogging.create(body, request: request, rules: rules)
                let view = try await ActivityView.make(logged.activity, summary: logged.summary, on: request.db)
                if logged.created { created += 1 } else { replayed += 1 }
                results.append(
                    .init(
                        index: Int32(index), clientId: view.clientId, outcome: logged.created ? .created : .replayed,
                        status: logged.created ? 201 : 200, activity: view))
            } catch let error as AppError {
                let rooted = error.rootingFieldPointers(at: "/items/\(index)").concealingExistence()
                results.append(
                    .init(
                        index: Int32(index), clientId: clientID, outcome: outcome(of: rooted),
                        status: Int32(rooted.status.code), problem: problem(rooted, request: request)))
            }
        }
        return .init(results: results, created: Int32(created), replayed: Int32(replayed), failed: Int32(items.count - created - replayed))
    }

    private struct ClientIDProbe: Decodable {
        var clientId: String?
        enum CodingKeys: String, CodingKey { case clientId = "client_id" }
    }

    /// Checks one item against the `ActivityCreate` schema (errors named `/items/N/...`) and decodes it.
    private static func decode(
        _ data: Data, schema: OpenAPIContract.Schema, index: Int, context: ValidationContext
    ) throws -> Components.Schemas.ActivityCreate {
        let value = try JSONDecoder().decode(JSONValue.self, from: data)
        var errors: [AppError.FieldError] = []
        SchemaValidator.validate(value, against: schema, at: "/items/\(index)", context: context, errors: &errors)
        guard errors.isEmpty else { throw AppError.validation(errors) }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = RFC3339.date(from: text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: text))
            }
            return date
        }
        do {
            return try decoder.decode(Components.Schemas.ActivityCreate.self, from: data)
        } catch {
            throw AppError.validation([
                .init(field: "/items/\(index)", code: "invalid_value", message: "Not an ActivityCreate object.")
            ])
        }
    }

    private static func outcome(of error: AppError) -> Components.Schemas.BatchItemResult.OutcomePayload {
        switch error.status {
        case .conflict: .conflict
        case .forbidden, .unauthorized: .forbidden
        case .notFound: .notFound
        default: .invalid
        }
    }

    private static func problem(_ error: AppError, request: Request) -> Components.Schemas.Problem {
        Components.Schemas.Problem(
            _type: ProblemDocument.typeURI(for: error.code), title: error.code.title, status: Int32(error.status.code),
            detail: error.detail, instance: request.url.path, code: error.code.rawValue,
            requestId: request.headers.first(name: "X-Request-Id"),
            errors: error.fieldErrors.isEmpty
                ? nil : error.fieldErrors.map { .init(field: $0.field, code: $0.code, message: $0.message) })
    }
}

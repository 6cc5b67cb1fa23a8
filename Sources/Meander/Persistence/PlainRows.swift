import FluentKit
import FluentSQL
import Foundation
import NIOConcurrencyHelpers

/// Models read column by column from a plain SQL row (or, for the activity list, from a Fluent query's output), for
/// the queries every request runs.
///
/// Fluent fills a model by enumerating its properties through reflection on every row, which costs more than the
/// query itself on the activity-logging path. These initialisers name each column once instead; a test compares
/// them with Fluent's own decoding (`PlainRowsTests`), so a column added to a model and not here is caught. The
/// models come back marked as saved.
extension Organization {
    /// The columns `init(plainRow:)` reads, for `SELECT`.
    static let plainColumns = """
        id, created_at, updated_at, parent_id, name, kind, org_number, status, mileage_rate_kind, \
        expense_auto_approval_limit_ore, enabled_products, evidence_activity_type_keys
        """

    convenience init(plainRow row: any SQLRow) throws {
        self.init()
        id = try row.decode(column: "id", as: UUID.self)
        createdAt = try row.decode(column: "created_at", as: Date?.self)
        updatedAt = try row.decode(column: "updated_at", as: Date?.self)
        $parent.id = try row.decode(column: "parent_id", as: UUID?.self)
        name = try row.decode(column: "name", as: String.self)
        kind = try PlainRows.value(row, "kind")
        orgNumber = try row.decode(column: "org_number", as: String?.self)
        status = try PlainRows.value(row, "status")
        mileageRateKind = try PlainRows.value(row, "mileage_rate_kind")
        expenseAutoApprovalLimitOre = try row.decode(column: "expense_auto_approval_limit_ore", as: Int?.self)
        enabledProductsJSON = try row.decode(column: "enabled_products", as: String.self)
        evidenceActivityTypeKeysJSON = try row.decode(column: "evidence_activity_type_keys", as: String.self)
        $id.exists = true
    }
}

extension ActivityType {
    /// The columns `init(plainRow:)` reads, for `SELECT`.
    static let plainColumns = """
        id, created_at, updated_at, organization_id, key, name_nb, name_en, bufdir_category, reportable, \
        requires_evidence, default_duration_minutes, is_active, sort_order
        """

    convenience init(plainRow row: any SQLRow) throws {
        self.init()
        id = try row.decode(column: "id", as: UUID.self)
        createdAt = try row.decode(column: "created_at", as: Date?.self)
        updatedAt = try row.decode(column: "updated_at", as: Date?.self)
        $organization.id = try row.decode(column: "organization_id", as: UUID?.self)
        key = try row.decode(column: "key", as: String.self)
        nameNb = try row.decode(column: "name_nb", as: String.self)
        nameEn = try row.decode(column: "name_en", as: String.self)
        bufdirCategory = try PlainRows.value(row, "bufdir_category")
        reportable = try row.decode(column: "reportable", as: Bool.self)
        requiresEvidence = try row.decode(column: "requires_evidence", as: Bool.self)
        defaultDurationMinutes = try row.decode(column: "default_duration_minutes", as: Int.self)
        isActive = try row.decode(column: "is_active", as: Bool.self)
        sortOrder = try row.decode(column: "sort_order", as: Int.self)
        $id.exists = true
    }

}

extension Activity {
    /// Reads an activity from one row of a Fluent query on `activities`, key by key (`QueryBuilder.allPlain()`).
    /// A page of the activity list spent more time in Fluent's reflection than in the rest of the request.
    convenience init(plainOutput output: any DatabaseOutput) throws {
        self.init()
        id = try output.decode("id", as: UUID.self)
        createdAt = try output.decode("created_at", as: Date?.self)
        updatedAt = try output.decode("updated_at", as: Date?.self)
        deletedAt = try output.decode("deleted_at", as: Date?.self)
        $organization.id = try output.decode("organization_id", as: UUID.self)
        $mentor.id = try output.decode("mentor_id", as: UUID.self)
        $registeredBy.id = try output.decode("registered_by_id", as: UUID.self)
        $contact.id = try output.decode("contact_id", as: UUID?.self)
        $activityType.id = try output.decode("activity_type_id", as: UUID.self)
        $event.id = try output.decode("event_id", as: UUID?.self)
        $approvedBy.id = try output.decode("approved_by_id", as: UUID?.self)
        clientID = try output.decode("client_id", as: UUID.self)
        occurredAt = try output.decode("occurred_at", as: Date.self)
        durationMinutes = try output.decode("duration_minutes", as: Int.self)
        participantCount = try output.decode("participant_count", as: Int.self)
        place = try output.decode("place", as: String?.self)
        channel = try output.decode("channel", as: String?.self).map { try PlainRows.value($0, "channel") }
        countryCode = try output.decode("country_code", as: String.self)
        municipalityCode = try output.decode("municipality_code", as: String?.self)
        summaryCiphertext = try output.decode("summary_ciphertext", as: Data?.self)
        keyVersion = try output.decode("key_version", as: Int?.self)
        status = try PlainRows.value(try output.decode("status", as: String.self), "status")
        rejectionReason = try output.decode("rejection_reason", as: String?.self)
        approvedAt = try output.decode("approved_at", as: Date?.self)
        countsForBufdir = try output.decode("counts_for_bufdir", as: Bool.self)
        bufdirReason = try output.decode("bufdir_reason", as: String?.self)
        $id.exists = true
    }
}

extension QueryBuilder where Model == Activity {
    /// `all()`, with each row read by `Activity(plainOutput:)` instead of Fluent's reflection. No eager loading.
    func allPlain() async throws -> [Activity] {
        guard eagerLoaders.isEmpty else {
            throw AppError(.internalError, "allPlain() does not eager-load; use all() for a query with `with`.")
        }
        let rows = NIOLockedValueBox<[Result<Activity, any Error>]>([])
        try await run { output in
            let row = Result {
                try Activity(plainOutput: output.qualifiedSchema(space: Activity.spaceIfNotAliased, Activity.schemaOrAlias))
            }
            rows.withLockedValue { $0.append(row) }
        }
        return try rows.withLockedValue { $0 }.map { try $0.get() }
    }
}

enum PlainRows {
    /// A string column as the enum whose raw value it holds.
    static func value<T: RawRepresentable>(_ row: any SQLRow, _ column: String) throws -> T where T.RawValue == String {
        try value(try row.decode(column: column, as: String.self), column)
    }

    /// A column's text as the enum whose raw value it holds.
    static func value<T: RawRepresentable>(_ raw: String, _ column: String) throws -> T where T.RawValue == String {
        guard let value = T(rawValue: raw) else {
            throw AppError(.internalError, "Unknown value '\(raw)' in column \(column).")
        }
        return value
    }
}

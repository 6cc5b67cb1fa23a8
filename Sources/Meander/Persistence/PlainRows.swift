import FluentKit
import FluentSQL
import Foundation

/// Models read column by column from a plain SQL row, for the queries every request runs.
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

enum PlainRows {
    /// A string column as the enum whose raw value it holds.
    static func value<T: RawRepresentable>(_ row: any SQLRow, _ column: String) throws -> T where T.RawValue == String {
        let raw = try row.decode(column: column, as: String.self)
        guard let value = T(rawValue: raw) else {
            throw AppError(.internalError, "Unknown value '\(raw)' in column \(column).")
        }
        return value
    }
}

import FluentSQL

/// Makes `audit_log_entries` append-only in the database itself (see `AppendOnlyTable`).
///
/// Erasing personal data from old entries (IP, user agent, metadata) is an operator's job: disable the triggers in
/// a maintenance transaction, null the columns, enable them again. Those columns are outside the hashed content, so
/// the chain stays valid.
struct UpdateAuditLogEntryAppendOnly: AsyncMigration {
    static let message = AppendOnlyTable.message(AuditLogEntry.schema)

    func prepare(on database: any Database) async throws {
        try await AppendOnlyTable.install(on: AuditLogEntry.schema, database)
    }

    func revert(on database: any Database) async throws {
        try await AppendOnlyTable.remove(from: AuditLogEntry.schema, database)
    }
}

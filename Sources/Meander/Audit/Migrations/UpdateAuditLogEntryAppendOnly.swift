import FluentSQL

/// Makes `audit_log_entries` append-only in the database itself: triggers refuse every UPDATE and DELETE (and, on
/// PostgreSQL, TRUNCATE), whoever sends it, so a bug or an injected statement in the application cannot rewrite
/// history. Someone who may change the schema can still drop the triggers; the hash chain and its checkpoint are
/// what expose that.
///
/// Erasing personal data from old entries (IP, user agent, metadata) is an operator's job: disable the triggers in
/// a maintenance transaction, null the columns, enable them again. Those columns are outside the hashed content, so
/// the chain stays valid.
struct UpdateAuditLogEntryAppendOnly: AsyncMigration {
    static let message = "audit_log_entries is append-only"
    static let functionName = "audit_log_entries_refuse_change"
    static let updateTrigger = "trg_audit_log_entries_no_update"
    static let deleteTrigger = "trg_audit_log_entries_no_delete"
    static let truncateTrigger = "trg_audit_log_entries_no_truncate"

    func prepare(on database: any Database) async throws {
        let sql = try database.sqlDatabase()
        let table = AuditLogEntry.schema
        switch sql.dialect.name {
        case "postgresql":
            try await sql.raw(
                """
                CREATE OR REPLACE FUNCTION \(unsafeRaw: Self.functionName)() RETURNS trigger
                LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION '\(unsafeRaw: Self.message) (% refused)', TG_OP;
                END
                $$
                """
            ).run()
            for (trigger, event, level) in [
                (Self.updateTrigger, "UPDATE", "ROW"), (Self.deleteTrigger, "DELETE", "ROW"),
                (Self.truncateTrigger, "TRUNCATE", "STATEMENT"),
            ] {
                try await sql.raw(
                    """
                    CREATE TRIGGER \(unsafeRaw: trigger) BEFORE \(unsafeRaw: event) ON \(unsafeRaw: table)
                    FOR EACH \(unsafeRaw: level) EXECUTE FUNCTION \(unsafeRaw: Self.functionName)()
                    """
                ).run()
            }
        case "sqlite":
            // SQLite has no TRUNCATE; `DELETE FROM t` without WHERE is caught by the DELETE trigger.
            for (trigger, event) in [(Self.updateTrigger, "UPDATE"), (Self.deleteTrigger, "DELETE")] {
                try await sql.raw(
                    """
                    CREATE TRIGGER \(unsafeRaw: trigger) BEFORE \(unsafeRaw: event) ON \(unsafeRaw: table)
                    BEGIN SELECT RAISE(ABORT, '\(unsafeRaw: Self.message)'); END
                    """
                ).run()
            }
        default:
            throw NotAnSQLDatabase()
        }
    }

    func revert(on database: any Database) async throws {
        let sql = try database.sqlDatabase()
        let table = AuditLogEntry.schema
        switch sql.dialect.name {
        case "postgresql":
            for trigger in [Self.updateTrigger, Self.deleteTrigger, Self.truncateTrigger] {
                try await sql.raw("DROP TRIGGER IF EXISTS \(unsafeRaw: trigger) ON \(unsafeRaw: table)").run()
            }
            try await sql.raw("DROP FUNCTION IF EXISTS \(unsafeRaw: Self.functionName)()").run()
        case "sqlite":
            for trigger in [Self.updateTrigger, Self.deleteTrigger] {
                try await sql.raw("DROP TRIGGER IF EXISTS \(unsafeRaw: trigger)").run()
            }
        default:
            throw NotAnSQLDatabase()
        }
    }
}

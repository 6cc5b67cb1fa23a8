import FluentSQL

/// Database triggers that make a table append-only: every UPDATE and DELETE (and, on PostgreSQL, TRUNCATE) is
/// refused, whoever sends it, so a bug or an injected statement in the application cannot rewrite history.
///
/// The names follow the table: function `<table>_refuse_change`, triggers `trg_<table>_no_update|no_delete|no_truncate`.
/// Someone who may change the schema can still drop them; what they protect is also hashed into the audit chain.
enum AppendOnlyTable {
    static func message(_ table: String) -> String { "\(table) is append-only" }

    static func install(on table: String, _ database: any Database) async throws {
        let sql = try database.sqlDatabase()
        let names = Names(table)
        switch sql.dialect.name {
        case "postgresql":
            try await sql.raw(
                """
                CREATE OR REPLACE FUNCTION \(unsafeRaw: names.function)() RETURNS trigger
                LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION '\(unsafeRaw: message(table)) (% refused)', TG_OP;
                END
                $$
                """
            ).run()
            for (trigger, event, level) in [
                (names.update, "UPDATE", "ROW"), (names.delete, "DELETE", "ROW"), (names.truncate, "TRUNCATE", "STATEMENT"),
            ] {
                try await sql.raw(
                    """
                    CREATE TRIGGER \(unsafeRaw: trigger) BEFORE \(unsafeRaw: event) ON \(unsafeRaw: table)
                    FOR EACH \(unsafeRaw: level) EXECUTE FUNCTION \(unsafeRaw: names.function)()
                    """
                ).run()
            }
        case "sqlite":
            // SQLite has no TRUNCATE; `DELETE FROM t` without WHERE is caught by the DELETE trigger.
            for (trigger, event) in [(names.update, "UPDATE"), (names.delete, "DELETE")] {
                try await sql.raw(
                    """
                    CREATE TRIGGER \(unsafeRaw: trigger) BEFORE \(unsafeRaw: event) ON \(unsafeRaw: table)
                    BEGIN SELECT RAISE(ABORT, '\(unsafeRaw: message(table))'); END
                    """
                ).run()
            }
        default:
            throw NotAnSQLDatabase()
        }
    }

    static func remove(from table: String, _ database: any Database) async throws {
        let sql = try database.sqlDatabase()
        let names = Names(table)
        switch sql.dialect.name {
        case "postgresql":
            for trigger in [names.update, names.delete, names.truncate] {
                try await sql.raw("DROP TRIGGER IF EXISTS \(unsafeRaw: trigger) ON \(unsafeRaw: table)").run()
            }
            try await sql.raw("DROP FUNCTION IF EXISTS \(unsafeRaw: names.function)()").run()
        case "sqlite":
            for trigger in [names.update, names.delete] {
                try await sql.raw("DROP TRIGGER IF EXISTS \(unsafeRaw: trigger)").run()
            }
        default:
            throw NotAnSQLDatabase()
        }
    }

    private struct Names {
        let function: String
        let update: String
        let delete: String
        let truncate: String

        init(_ table: String) {
            function = "\(table)_refuse_change"
            update = "trg_\(table)_no_update"
            delete = "trg_\(table)_no_delete"
            truncate = "trg_\(table)_no_truncate"
        }
    }
}

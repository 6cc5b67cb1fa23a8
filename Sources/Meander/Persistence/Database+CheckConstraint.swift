import FluentKit
import SQLKit

extension Database {
    /// Replaces the predicate of the named CHECK constraint of `table`, keeping every row.
    ///
    /// PostgreSQL drops and adds the constraint. SQLite cannot alter a constraint, so the table is rebuilt the way
    /// SQLite's documentation describes ("Making Other Kinds Of Table Schema Changes"): a copy made from the table's
    /// own CREATE statement with the new predicate, the rows copied, the old table dropped and the copy renamed, its
    /// indexes and triggers made again; all in one transaction. Nothing may reference `table` by foreign key.
    func replaceCheck(on table: String, named name: String, _ predicate: String) async throws {
        let sql = try sqlDatabase()
        let quotedTable = SQLIdentifier(table)
        let quotedName = SQLIdentifier(name)
        guard sql.dialect.name == "sqlite" else {
            try await sql.raw(
                "ALTER TABLE \(quotedTable) DROP CONSTRAINT \(quotedName), ADD CONSTRAINT \(quotedName) CHECK (\(unsafeRaw: predicate))"
            ).run()
            return
        }
        try await transaction { transaction in
            let sql = try transaction.sqlDatabase()
            guard
                let create = try await sql.raw(
                    "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = \(bind: table)"
                ).first(decoding: SchemaStatementRow.self)?.sql
            else { throw CheckConstraintChangeFailed(table: table, name: name, reason: "no such table") }
            let others = try await sql.raw(
                "SELECT sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND tbl_name = \(bind: table) AND sql IS NOT NULL"
            ).all(decoding: SchemaStatementRow.self).compactMap(\.sql)
            let copy = "\(table)__rebuild"
            let statement = try Self.sqliteCreate(create, table: table, copy: copy, check: name, predicate: predicate)
            try await sql.raw("\(unsafeRaw: statement)").run()
            try await sql.raw("INSERT INTO \(SQLIdentifier(copy)) SELECT * FROM \(quotedTable)").run()
            try await sql.raw("DROP TABLE \(quotedTable)").run()
            try await sql.raw("ALTER TABLE \(SQLIdentifier(copy)) RENAME TO \(quotedTable)").run()
            for statement in others {
                try await sql.raw("\(unsafeRaw: statement)").run()
            }
        }
    }

    /// `create` with the table renamed to `copy` and the named constraint's CHECK clause replaced.
    static func sqliteCreate(
        _ create: String, table: String, copy: String, check name: String, predicate: String
    ) throws -> String {
        let failed = { (reason: String) in CheckConstraintChangeFailed(table: table, name: name, reason: reason) }
        let header = "CREATE TABLE \"\(table)\""
        guard create.hasPrefix(header) else { throw failed("unexpected CREATE statement") }
        var statement = "CREATE TABLE \"\(copy)\"" + create.dropFirst(header.count)
        guard let constraint = statement.range(of: "CONSTRAINT \"\(name)\" CHECK") else {
            throw failed("the constraint is not in the table's CREATE statement")
        }
        guard let open = statement[constraint.upperBound...].firstIndex(of: "(") else { throw failed("no predicate") }
        var depth = 0
        var inString = false
        var close: String.Index?
        for index in statement[open...].indices {
            let character = statement[index]
            if character == "'" { inString.toggle() }
            guard !inString else { continue }
            if character == "(" { depth += 1 }
            if character == ")" {
                depth -= 1
                if depth == 0 {
                    close = index
                    break
                }
            }
        }
        guard let close else { throw failed("unbalanced predicate") }
        statement.replaceSubrange(open...close, with: "(\(predicate))")
        return statement
    }
}

/// A CHECK constraint that could not be replaced (see `Database.replaceCheck`).
struct CheckConstraintChangeFailed: Error, CustomStringConvertible {
    var table: String
    var name: String
    var reason: String
    var description: String { "Cannot replace \(name) on \(table): \(reason)." }
}

private struct SchemaStatementRow: Decodable {
    var sql: String?
}

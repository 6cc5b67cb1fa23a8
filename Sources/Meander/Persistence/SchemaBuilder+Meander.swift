import FluentKit
import FluentSQL
import SQLKit

extension SchemaBuilder {
    /// Adds a named CHECK constraint that limits `column` to `values`.
    ///
    /// Enumerations are plain strings plus this constraint instead of native enum types, so that one migration
    /// runs unchanged on SQLite and PostgreSQL. A NULL passes the check, so optional enumerations stay optional.
    func check(_ column: String, in values: [String]) -> Self {
        let list = values.map(Self.sqlLiteral).joined(separator: ", ")
        return self.check(named: "ck_\(self.schema.schema)_\(column)", "\(Self.sqlIdentifier(column)) IN (\(list))")
    }

    /// Adds a named CHECK constraint that limits `column` to the raw values of `type`.
    func check<Value>(_ column: String, in type: Value.Type) -> Self
    where Value: CaseIterable & RawRepresentable, Value.RawValue == String {
        self.check(column, in: type.allCases.map(\.rawValue))
    }

    /// Adds a named CHECK constraint with a raw predicate; write it in the SQL that SQLite and PostgreSQL share.
    func check(named name: String, _ predicate: String) -> Self {
        self.constraint(
            .constraint(.custom(SQLTableConstraintAlgorithm.check(SQLRaw("(\(predicate))"))), name: name)
        )
    }

    private static func sqlLiteral(_ value: String) -> String {
        "'\(value.replacingOccurrences(of: "'", with: "''"))'"
    }

    private static func sqlIdentifier(_ name: String) -> String {
        "\"\(name.replacingOccurrences(of: "\"", with: "\"\""))\""
    }
}

/// An index beyond the ones unique constraints create, made and dropped through SQLKit.
///
/// Names are global per schema in PostgreSQL, so they carry the table name (`idx_<table>_<columns>`).
/// A `predicate` makes a partial index (`WHERE ...`), which both SQLite and PostgreSQL support.
struct SchemaIndex: Sendable {
    let name: String
    let table: String
    let columns: [String]
    let isUnique: Bool
    let predicate: String?

    init(_ name: String, on table: String, _ columns: [String], unique: Bool = false, where predicate: String? = nil) {
        self.name = name
        self.table = table
        self.columns = columns
        self.isUnique = unique
        self.predicate = predicate
    }
}

/// Raised when a migration needs SQL but the database is not an SQL database.
struct NotAnSQLDatabase: Error, CustomStringConvertible {
    var description: String { "Meander's migrations need an SQL database (SQLite or PostgreSQL)." }
}

extension Database {
    /// This database as SQLKit sees it; every Meander database is SQL.
    func sqlDatabase() throws -> any SQLDatabase {
        guard let sql = self as? any SQLDatabase else { throw NotAnSQLDatabase() }
        return sql
    }

    /// Creates each index in order.
    func createIndexes(_ indexes: [SchemaIndex]) async throws {
        let sql = try self.sqlDatabase()
        for index in indexes {
            let builder = sql.create(index: index.name).on(index.table)
            if index.isUnique {
                builder.unique()
            }
            for column in index.columns {
                builder.column(column)
            }
            if let predicate = index.predicate {
                builder.createIndex.predicate = SQLRaw(predicate)
            }
            try await builder.run()
        }
    }

    /// Drops each index if it still exists, so that reverting works whether or not the table went first.
    func dropIndexes(_ indexes: [SchemaIndex]) async throws {
        let sql = try self.sqlDatabase()
        for index in indexes.reversed() {
            try await sql.drop(index: index.name).ifExists().run()
        }
    }
}

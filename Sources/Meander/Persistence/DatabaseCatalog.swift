import Fluent
import FluentSQL
import Foundation

/// The tables and columns of the live database, read from its catalogue (SQLite's `pragma_table_info`,
/// PostgreSQL's `information_schema`), so that the GDPR export finds every table that refers to a contact, including
/// tables added after this code was written.
enum DatabaseCatalog {
    /// One column: its name and the type the database declares.
    struct Column: Sendable, Equatable {
        var name: String
        var type: String
    }

    /// Every table's columns, in their declared order.
    static func columns(on sql: any SQLDatabase) async throws -> [String: [Column]] {
        struct Row: Decodable {
            var table: String
            var column: String
            var type: String

            enum CodingKeys: String, CodingKey {
                case table = "table_name"
                case column = "column_name"
                case type = "data_type"
            }
        }
        let rows: [Row]
        if sql.dialect.name == "sqlite" {
            rows = try await sql.raw(
                """
                SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type
                FROM sqlite_master m JOIN pragma_table_info(m.name) p
                WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
                ORDER BY m.name, p.cid
                """
            ).all(decoding: Row.self)
        } else {
            rows = try await sql.raw(
                """
                SELECT c.table_name::text AS table_name, c.column_name::text AS column_name,
                    c.data_type::text AS data_type
                FROM information_schema.columns c
                JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
                WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
                ORDER BY c.table_name, c.ordinal_position
                """
            ).all(decoding: Row.self)
        }
        var tables: [String: [Column]] = [:]
        for row in rows {
            tables[row.table, default: []].append(Column(name: row.column, type: row.type))
        }
        return tables
    }

    /// The tables of a catalogue that have a column of this name, sorted.
    static func tables(withColumn column: String, in catalog: [String: [Column]]) -> [String] {
        catalog.filter { $0.value.contains { $0.name == column } }.keys.sorted()
    }
}

import Fluent
import FluentSQL
import Foundation
import OpenAPIRuntime

/// Reads whole rows of any table as JSON-ready values, every column included, with sealed columns
/// (`<name>_ciphertext`) replaced by their opened value under `<name>`.
struct RecordDumper {
    let sql: any SQLDatabase
    let db: any Database
    let cipher: FieldCipher
    let catalog: [String: [DatabaseCatalog.Column]]
    /// Sealed columns that are never opened here, as `table.column`: dispatches are readable by their recipient
    /// alone, not by the organisation's administrators.
    var withheld: Set<String> = ["\(EncryptedDispatch.schema).payload_ciphertext"]

    init(db: any Database, cipher: FieldCipher) async throws {
        self.db = db
        sql = try db.sqlDatabase()
        self.cipher = cipher
        catalog = try await DatabaseCatalog.columns(on: sql)
    }

    /// The rows of `table` matching `condition` (an SQL fragment), in `order`, leaving out `excluding` columns.
    func rows(
        of table: String, where condition: SQLQueryString, orderBy order: String = "id", excluding: Set<String> = []
    ) async throws -> [[String: (any Sendable)?]] {
        guard let columns = catalog[table] else { return [] }
        let rows = try await sql.raw("SELECT * FROM \(ident: table) WHERE \(condition) ORDER BY \(ident: order)").all()
        var result: [[String: (any Sendable)?]] = []
        for row in rows {
            var object: [String: (any Sendable)?] = [:]
            for column in columns where !excluding.contains(column.name) {
                if column.name.hasSuffix("_ciphertext") {
                    let name = String(column.name.dropLast("_ciphertext".count))
                    if withheld.contains("\(table).\(column.name)") {
                        object.updateValue(nil, forKey: name)
                        object.updateValue(try !row.decodeNil(column: column.name), forKey: name + "_withheld")
                    } else {
                        object.updateValue(try await open(row, table: table, column: column.name), forKey: name)
                    }
                } else {
                    // `updateValue`, not the subscript: assigning nil through a subscript would drop the column.
                    object.updateValue(try value(of: column, in: row), forKey: column.name)
                }
            }
            result.append(object)
        }
        return result
    }

    private func open(_ row: any SQLRow, table: String, column: String) async throws -> (any Sendable)? {
        guard let envelope = try row.decode(column: column, as: Data?.self) else { return nil }
        let context = FieldContext(
            organizationID: try row.decode(column: "organization_id", as: UUID.self), table: table, column: column,
            rowID: try row.decode(column: "id", as: UUID.self))
        return try await cipher.open(envelope, context, on: db)
    }

    /// A column's value as JSON: ids in lower case, times in ISO 8601 (UTC, milliseconds), bytes in base64.
    private func value(of column: DatabaseCatalog.Column, in row: any SQLRow) throws -> (any Sendable)? {
        if try row.decodeNil(column: column.name) { return nil }
        let type = column.type.lowercased()
        let sqlite = sql.dialect.name == "sqlite"
        switch type {
        case "uuid":
            return try row.decode(column: column.name, as: UUID.self).uuidString.lowercased()
        case _ where type.hasPrefix("timestamp") || (sqlite && type == "real"):
            return try row.decode(column: column.name, as: Date.self)
                .formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        case "boolean", "bool":
            return try row.decode(column: column.name, as: Bool.self)
        case "bigint", "integer", "smallint", "int", "int8", "int4", "int2":
            return try row.decode(column: column.name, as: Int.self)
        case "real", "double precision", "numeric", "double", "float":
            return try row.decode(column: column.name, as: Double.self)
        case "bytea", "blob":
            return try row.decode(column: column.name, as: Data.self).base64EncodedString()
        case "date":
            return try row.decode(column: column.name, as: Date.self)
                .formatted(Date.ISO8601FormatStyle().year().month().day())
        default:
            // Text, and anything this code does not know yet: a new column type must not make the export fail.
            if let text = try? row.decode(column: column.name, as: String.self) { return text }
            if let number = try? row.decode(column: column.name, as: Int.self) { return number }
            if let number = try? row.decode(column: column.name, as: Double.self) { return number }
            return try row.decode(column: column.name, as: Data.self).base64EncodedString()
        }
    }
}

extension OpenAPIObjectContainer {
    /// A container for a dumped row (strings, numbers, booleans and nulls only).
    init(row: [String: (any Sendable)?]) throws {
        try self.init(unvalidatedValue: row)
    }
}

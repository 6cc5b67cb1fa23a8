import FluentKit
import FluentSQL
import Foundation
import PostgresKit
import PostgresNIO

/// A statement that every request runs, written once with `$1`, `$2`, … placeholders for both engines.
///
/// On PostgreSQL it is a named prepared statement: parsed and planned once per connection, then only bound and
/// executed. PostgresNIO sends every SQLKit query as an unnamed statement that the server parses and plans anew,
/// and for the short statements of the logging path that was most of the server's work: the same statements
/// through pgbench ran at 555 transactions/s that way and at 908 prepared. On SQLite, which has no such cost,
/// the statement runs through SQLKit, each `$n` becoming a `?` bound to the same value.
///
/// Each statement names itself (`static let name`): PostgresNIO's default name is `String(reflecting:)` of the type,
/// worked out again on every execution.
protocol SharedStatement: PostgresPreparedStatement where Row: Sendable {
    /// The values of `$1`, `$2`, …, in order.
    var values: [StatementValue] { get }

    /// A result row, from either engine.
    static func decode(_ row: any SQLRow) throws -> Row
}

/// One bound value of a `SharedStatement`: typed, so that PostgreSQL's prepared parameter types stay fixed.
enum StatementValue: Sendable {
    case uuid(UUID?)
    case text(String?)
    case integer(Int?)
    case time(Date?)
    case flag(Bool?)
    case bytes(Data?)

    fileprivate var encodable: any Encodable & Sendable {
        switch self {
        case .uuid(let value): value
        case .text(let value): value
        case .integer(let value): value
        case .time(let value): value
        case .flag(let value): value
        case .bytes(let value): value
        }
    }

    fileprivate func append(to bindings: inout PostgresBindings) throws {
        switch self {
        case .uuid(let value): bindings.append(value)
        case .text(let value): bindings.append(value)
        case .integer(let value): bindings.append(value)
        case .time(let value): bindings.append(value)
        case .flag(let value): bindings.append(value)
        case .bytes(let value): try bindings.append(value)
        }
    }
}

extension SharedStatement {
    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values {
            try value.append(to: &bindings)
        }
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        try Self.decode(row.sql())
    }

    /// Runs the statement on `db` and returns its rows.
    func rows(on db: any Database) async throws -> [Row] {
        guard let postgres = db as? any PostgresDatabase else {
            return try await db.sqlDatabase().raw("\(Placeholders(sql: Self.sql, values: values))").all().map(Self.decode)
        }
        if db.inTransaction {
            // A transaction keeps its connection checked out until it ends, so the statement runs on it directly,
            // without the task per statement that the pooled path below needs.
            let connection = try await postgres.withConnection { $0.eventLoop.makeSucceededFuture($0) }.get()
            return try await rows(on: connection)
        }
        return try await postgres.withConnection { connection in
            connection.eventLoop.makeFutureWithTask { try await rows(on: connection) }
        }.get()
    }

    private func rows(on connection: PostgresConnection) async throws -> [Row] {
        var rows: [Row] = []
        for try await row in try await connection.execute(self, logger: connection.logger) {
            rows.append(row)
        }
        return rows
    }

    /// The first row, if any.
    func first(on db: any Database) async throws -> Row? {
        try await rows(on: db).first
    }
}

/// A `$n` statement for SQLKit: each placeholder becomes the dialect's bind marker for value n.
private struct Placeholders: SQLExpression {
    let sql: String
    let values: [StatementValue]

    func serialize(to serializer: inout SQLSerializer) {
        var text = Substring(sql)
        while let dollar = text.firstIndex(of: "$") {
            serializer.write(String(text[..<dollar]))
            let digits = text[text.index(after: dollar)...].prefix(while: \.isASCIIDigit)
            guard let number = Int(digits) else {
                serializer.write("$")
                text = text[text.index(after: dollar)...]
                continue
            }
            precondition(values.indices.contains(number - 1), "The statement has no value for $\(number).")
            serializer.write(bind: values[number - 1].encodable)
            text = text[digits.endIndex...]
        }
        serializer.write(String(text))
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

import Crypto
import Fluent
import FluentSQL
import Foundation
import SQLKit
import Vapor

/// The one way a list pages: keyset pagination over a strict total order.
///
/// An ordering is a list of keys, each a column (or expression) with a direction, ending with the row's unique id.
/// The same keys build the `ORDER BY` and the condition "after the cursor", in the expanded form that lets
/// directions differ:
///
/// ```sql
/// a < A OR (a = A AND (b > B OR (b = B AND id > $id)))
/// ```
///
/// - **Exact values.** The cursor carries only the last row's id (`PageCursor`). `A`, `B` are that row's *stored*
///   values, read by a subquery (`(SELECT a FROM t WHERE id = $id)`), so a timestamp is never rounded through a
///   string or a `Double` (SQLite keeps fractions the cursor used to lose; PostgreSQL microseconds).
/// - **Nullable keys.** NULL sorts after every value, on both engines (`ASC NULLS LAST`, `DESC NULLS FIRST`:
///   PostgreSQL's own default, so its indexes still serve the order). The condition spells that out with `IS NULL`
///   on the listed row and on the cursor's row, since `NULL < x` is never true.
/// - **Indexes.** A leading non-nullable key also gets the redundant bound `a <= A` (or `>=`), which the planner can
///   use as an index range where it cannot use the `OR`.
/// - **A deleted cursor row.** A soft-deleted row still has its values and the list continues after it. When the
///   row is gone (hard-deleted), every comparison with its values is NULL, so nothing passes: the page comes back
///   empty, and `finish` then answers 400 `invalid_cursor` (start again) instead of an empty last page that would end
///   the walk early without saying so.
struct Keyset: Sendable {
    enum Direction: Sendable {
        case ascending, descending
    }

    /// One sort key: its value in a listed row, and the same value in the cursor's row (`from`'s alias `cursor`).
    struct Key: Sendable {
        /// The listed table's column, qualified by `Keyset.qualifier`; or else
        var column: String?
        /// an expression over the query's tables (a joined table's column).
        var expression: SQLQueryString?
        var stored: SQLQueryString
        var direction: Direction
        var nullable: Bool

        /// A key of the listed table's own column.
        static func column(_ name: String, _ direction: Direction = .ascending, nullable: Bool = false) -> Key {
            Key(
                column: name, stored: "\(ident: Keyset.alias).\(ident: name)", direction: direction,
                nullable: nullable)
        }

        /// A key whose listed value is `expression` and whose cursor value is `stored` (over `Keyset.from`).
        static func expression(
            _ expression: SQLQueryString, stored: SQLQueryString, _ direction: Direction = .ascending,
            nullable: Bool = false
        ) -> Key {
            Key(expression: expression, stored: stored, direction: direction, nullable: nullable)
        }
    }

    /// The alias of the cursor's row in the subqueries.
    static let alias = "keyset_cursor"

    /// The operation's name: a cursor is valid for this list only.
    let list: String
    /// The table the cursor's id names a row of.
    let table: String
    /// How a listed row's columns are qualified: the table's name, or its alias in a raw query.
    let qualifier: String
    /// The cursor row's `FROM` clause; its row is `keyset_cursor`.
    let from: SQLQueryString
    /// The keys before the id.
    let keys: [Key]
    /// The direction of the id, the last key.
    let idDirection: Direction

    /// An ordering of `table`'s rows by `keys`, then by id. `qualifier` is the listed table's alias in a raw query;
    /// `from` the cursor row's `FROM` clause when a key's stored value needs a join.
    init(
        _ list: String, table: String, qualifier: String? = nil, from: SQLQueryString? = nil, _ keys: [Key],
        id idDirection: Direction
    ) {
        self.list = list
        self.table = table
        self.qualifier = qualifier ?? table
        self.from = from ?? "\(ident: table) \(ident: Keyset.alias)"
        self.keys = keys
        self.idDirection = idDirection
    }

    // MARK: SQL

    /// `ORDER BY`'s items, comma-separated.
    var orderBy: SQLQueryString {
        orderItems.enumerated().reduce(into: SQLQueryString("")) { result, item in
            result = item.offset == 0 ? item.element : "\(result), \(item.element)"
        }
    }

    /// Each `ORDER BY` item: the keys, then the id.
    var orderItems: [SQLQueryString] {
        keys.map { key in
            switch (key.direction, key.nullable) {
            case (.ascending, false): "\(listed(key)) ASC"
            case (.descending, false): "\(listed(key)) DESC"
            case (.ascending, true): "\(listed(key)) ASC NULLS LAST"
            case (.descending, true): "\(listed(key)) DESC NULLS FIRST"
            }
        } + ["\(listedID) \(unsafeRaw: idDirection == .ascending ? "ASC" : "DESC")"]
    }

    /// The rows after the cursor's row, in this order.
    func after(_ id: UUID) -> SQLQueryString {
        var condition: SQLQueryString = "\(listedID) \(unsafeRaw: idDirection == .ascending ? ">" : "<") \(bind: id)"
        for key in keys.reversed() {
            condition = "(\(beyond(key, id)) OR (\(tied(key, id)) AND \(condition)))"
        }
        if let first = keys.first, !first.nullable {
            let bound = first.direction == .ascending ? ">=" : "<="
            condition = "(\(listed(first)) \(unsafeRaw: bound) \(stored(first, id)) AND \(condition))"
        }
        return condition
    }

    private var listedID: SQLQueryString { "\(ident: qualifier).\(ident: "id")" }

    private func listed(_ key: Key) -> SQLQueryString {
        if let column = key.column { return "\(ident: qualifier).\(ident: column)" }
        return key.expression ?? "NULL"
    }

    /// The cursor row's value of `key`; NULL when the row does not exist.
    private func stored(_ key: Key, _ id: UUID) -> SQLQueryString {
        "(SELECT \(key.stored) FROM \(from) WHERE \(ident: Keyset.alias).\(ident: "id") = \(bind: id))"
    }

    /// 1 when the cursor row's value of `key` is NULL, 0 when it is not, NULL when the row does not exist.
    private func storedIsNull(_ key: Key, _ id: UUID) -> SQLQueryString {
        "(SELECT CASE WHEN \(key.stored) IS NULL THEN 1 ELSE 0 END FROM \(from) WHERE \(ident: Keyset.alias).\(ident: "id") = \(bind: id))"
    }

    /// The listed row comes strictly after the cursor's row in `key`.
    private func beyond(_ key: Key, _ id: UUID) -> SQLQueryString {
        let (value, cursor) = (listed(key), stored(key, id))
        let comparison: SQLQueryString = key.direction == .ascending ? "\(value) > \(cursor)" : "\(value) < \(cursor)"
        guard key.nullable else { return comparison }
        let isNull = storedIsNull(key, id)
        return switch key.direction {
        // NULL is last: after a value come greater values and NULL; after NULL comes nothing.
        case .ascending: "(\(isNull) = 0 AND (\(comparison) OR \(value) IS NULL))"
        // NULL is first: after NULL come all values; after a value, the smaller ones.
        case .descending: "((\(isNull) = 1 AND \(value) IS NOT NULL) OR (\(isNull) = 0 AND \(comparison)))"
        }
    }

    /// The listed row ties with the cursor's row in `key`.
    private func tied(_ key: Key, _ id: UUID) -> SQLQueryString {
        let (value, cursor) = (listed(key), stored(key, id))
        guard key.nullable else { return "\(value) = \(cursor)" }
        let isNull = storedIsNull(key, id)
        return "((\(isNull) = 1 AND \(value) IS NULL) OR (\(isNull) = 0 AND \(value) = \(cursor)))"
    }

    // MARK: Pages

    /// The page a request asks for: its `limit` (1…200, default 50) and its cursor, checked against this list and
    /// the caller.
    func page(limit: Int?, cursor: String?, request: Request) throws(AppError) -> KeysetPage {
        let limit = try PageCursor.limit(limit)
        let (caller, key) = (request.principal?.userID, request.application.meander.pageCursorKey)
        let after = try PageCursor.decode(cursor, list: list, caller: caller, key: key)
        return KeysetPage(keyset: self, limit: limit, after: after?.id, caller: caller, key: key)
    }
}

/// One requested page of a `Keyset` list.
struct KeysetPage: Sendable {
    let keyset: Keyset
    let limit: Int
    /// The id of the previous page's last row.
    let after: UUID?
    /// Who the next cursor is issued to, and the key that signs it.
    let caller: UUID?
    let key: SymmetricKey

    /// The condition for a raw query: after the cursor, or `1 = 1` on the first page.
    var condition: SQLQueryString {
        after.map(keyset.after) ?? "1 = 1"
    }

    /// The `ORDER BY … LIMIT …` of a raw query (one row more than the page, to know whether another follows).
    var orderAndLimit: SQLQueryString {
        "ORDER BY \(keyset.orderBy) LIMIT \(literal: limit + 1)"
    }

    /// The page's rows and the next cursor (nil on the last page), from the rows the query returned.
    ///
    /// An empty page after a cursor whose row no longer exists is `invalid_cursor` (see `Keyset`).
    func finish<Row>(
        _ rows: [Row], id: (Row) throws -> UUID, on db: any Database
    ) async throws -> (items: [Row], next: String?) {
        if rows.isEmpty, let after {
            let found = try await db.sqlDatabase().raw(
                "SELECT 1 AS found FROM \(ident: keyset.table) WHERE \(ident: "id") = \(bind: after)"
            ).first()
            if found == nil { throw PageCursor.gone }
        }
        let items = Array(rows.prefix(limit))
        guard rows.count > limit, let last = items.last else { return (items, nil) }
        return (items, PageCursor(id: try id(last)).encoded(list: keyset.list, caller: caller, key: key))
    }
}

extension QueryBuilder {
    /// Orders the query by `page`'s keyset, keeps the rows after its cursor, and asks for one row more than the page.
    @discardableResult
    func page(_ page: KeysetPage) -> Self {
        if let after = page.after {
            filter(.sql(embed: page.keyset.after(after)))
        }
        for item in page.keyset.orderItems {
            sort(.sql(embed: item))
        }
        return limit(page.limit + 1)
    }
}

import FluentKit
import FluentSQL
import Foundation

/// A case-insensitive substring match that behaves the same on SQLite and PostgreSQL.
///
/// SQLite's `LOWER` folds only ASCII (and PostgreSQL's depends on the database's locale), so the column is also
/// folded explicitly for the upper-case letters of Norwegian and its neighbours; the needle is folded in Swift.
enum CaseFoldedMatch {
    static let foldedLetters: [(upper: String, lower: String)] = [
        ("Æ", "æ"), ("Ø", "ø"), ("Å", "å"), ("Ä", "ä"), ("Ö", "ö"), ("Ü", "ü"), ("É", "é"),
    ]

    /// A filter that holds when any of the columns contains `needle`, ignoring case.
    static func contains(_ needle: String, in columns: [(table: String, column: String)]) -> DatabaseQuery.Filter {
        let escaped = needle.lowercased()
            .replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
        let pattern = "%" + escaped + "%"
        var condition: SQLQueryString = ""
        for (index, column) in columns.enumerated() {
            var folded: SQLQueryString = "LOWER(\(ident: column.table).\(ident: column.column))"
            for letter in foldedLetters {
                folded = "REPLACE(\(folded), \(literal: letter.upper), \(literal: letter.lower))"
            }
            if index > 0 { condition += " OR " }
            condition += "\(folded) LIKE \(bind: pattern) ESCAPE '\\'"
        }
        return .sql(embed: "(\(condition))")
    }
}

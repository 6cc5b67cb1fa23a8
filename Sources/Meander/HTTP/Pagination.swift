import Foundation

/// Cursor pagination shared by every list: an opaque, URL-safe cursor holding the sort key of the last row.
struct PageCursor: Equatable, Sendable {
    /// The sort-key values of the last row on the previous page, in sort order.
    var values: [String]

    static let defaultLimit = 50
    static let maxLimit = 200

    /// base64url of the JSON array of values.
    var encoded: String {
        let data = (try? JSONEncoder().encode(values)) ?? Data()
        return data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Decodes a cursor, expecting `count` values; anything else is `invalid_cursor`.
    static func decode(_ raw: String?, count: Int) throws(AppError) -> PageCursor? {
        guard let raw else { return nil }
        var base64 = raw.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64),
            let values = try? JSONDecoder().decode([String].self, from: data),
            values.count == count
        else {
            throw AppError(
                .invalidCursor, "The cursor is not one this API issued; start again without it.",
                fieldErrors: [.init(field: "cursor", code: "invalid_value", message: "Unknown or corrupted cursor.")])
        }
        return PageCursor(values: values)
    }

    /// Checks a requested page size against 1…`maxLimit`.
    static func limit(_ requested: Int?) throws(AppError) -> Int {
        guard let requested else { return defaultLimit }
        guard (1...maxLimit).contains(requested) else {
            throw AppError.invalidParameter(
                "limit", code: "out_of_range", "must be between 1 and \(maxLimit), not \(requested).")
        }
        return requested
    }
}

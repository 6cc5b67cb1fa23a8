import Foundation
import OpenAPIRuntime

/// Strict RFC 3339 (section 5.6) dates and date-times, as JSON Schema's `date` and `date-time` formats mean them.
///
/// `2025-10-01`, `2025-10-01T10:00:00Z`, `2025-10-01T10:00:00.250+02:00`: four-digit year, every field in range
/// (the day within its month, leap years included), seconds 00–59, an offset `Z` or `±hh:mm`, nothing before or
/// after. The layout is checked by hand, byte by byte; the instant then comes from `Date.ISO8601FormatStyle`, a
/// value type that is cheap to use on every request (a new `ISO8601DateFormatter` costs about 0.1 ms).
enum RFC3339 {
    /// The instant a date-time names, or nil when the text is not a strict RFC 3339 date-time.
    static func date(from string: String) -> Date? {
        let bytes = Array(string.utf8)
        guard isDateTime(bytes) else { return nil }
        return try? (bytes.contains(UInt8(ascii: ".")) ? fractional : whole).parse(string)
    }

    /// `yyyy-mm-dd` with a day that exists.
    static func isFullDate(_ bytes: [UInt8]) -> Bool {
        guard bytes.count == 10, bytes[4] == dash, bytes[7] == dash,
            let year = number(bytes, 0, 4), let month = number(bytes, 5, 2), let day = number(bytes, 8, 2),
            (1...12).contains(month)
        else { return false }
        return (1...daysIn(month: month, year: year)).contains(day)
    }

    /// `full-date "T" hh:mm:ss[.fraction] offset`.
    static func isDateTime(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 20, isFullDate(Array(bytes[0..<10])), bytes[10] == UInt8(ascii: "T"),
            let hour = number(bytes, 11, 2), bytes[13] == colon, let minute = number(bytes, 14, 2),
            bytes[16] == colon, let second = number(bytes, 17, 2),
            hour < 24, minute < 60, second < 60
        else { return false }
        var index = 19
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            guard index > start, index < bytes.count else { return false }
        }
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            return index + 1 == bytes.count
        case UInt8(ascii: "+"), dash:
            guard index + 6 == bytes.count, let hours = number(bytes, index + 1, 2), bytes[index + 3] == colon,
                let minutes = number(bytes, index + 4, 2)
            else { return false }
            return hours < 24 && minutes < 60
        default:
            return false
        }
    }

    private static let whole = Date.ISO8601FormatStyle()
    private static let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    private static let dash = UInt8(ascii: "-")
    private static let colon = UInt8(ascii: ":")

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    /// The decimal number in `bytes[start..<start+count]`, or nil unless all of them are digits.
    private static func number(_ bytes: [UInt8], _ start: Int, _ count: Int) -> Int? {
        guard start + count <= bytes.count else { return nil }
        var value = 0
        for byte in bytes[start..<start + count] {
            guard isDigit(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

/// How the API reads and writes `date-time` values: strict RFC 3339 in (fractional seconds and offsets allowed,
/// as `ContractValidationMiddleware` already checked), whole seconds in UTC out (`2025-10-01T10:00:00Z`).
///
/// Replaces the OpenAPI runtime's default, which allocates an `ISO8601DateFormatter` per value on Linux and
/// refuses fractional seconds, such as those JavaScript's `toISOString()` writes.
struct RFC3339DateTranscoder: DateTranscoder {
    private static let output = Date.ISO8601FormatStyle()

    func encode(_ date: Date) throws -> String {
        Self.output.format(date)
    }

    func decode(_ text: String) throws -> Date {
        guard let date = RFC3339.date(from: text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: [], debugDescription: "Expected an RFC 3339 date-time, such as 2025-10-01T10:00:00Z."))
        }
        return date
    }
}

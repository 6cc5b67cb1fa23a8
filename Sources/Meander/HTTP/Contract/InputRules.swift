import Foundation

/// What a range check needs that a schema cannot say by itself: the time now and the configured limits.
struct ValidationContext: Sendable {
    var now: Date
    /// `MEANDER_ACTIVITY_EARLIEST_DATE`.
    var activityEarliest: Date
    /// `MEANDER_ACTIVITY_FUTURE_MARGIN_HOURS`, in seconds.
    var activityFutureMargin: TimeInterval

    init(now: Date = Date(), config: AppConfig? = nil) {
        self.now = now
        activityEarliest = config?.activityEarliestDate ?? Date(timeIntervalSince1970: 946_684_800)
        activityFutureMargin = config?.activityFutureMargin ?? 24 * 3_600
    }

    /// The calendar year now, in Norway.
    var currentYear: Int { NorwegianCalendar.calendar.component(.year, from: now) }
}

/// The one rule for text: PostgreSQL refuses NUL in text (SQLite stores it), and no single-line field means a
/// control character. So every string of every request (body, query, path and header parameter, object key) is
/// refused with 400 `invalid_character` when it holds U+0000, or any other C0 control character or DEL, except
/// tab, line feed and carriage return in a field marked `x-multiline: true` in the contract.
enum TextRule {
    static let code = "invalid_character"

    /// The error for `string` at `pointer`, or nil when it is clean; `multiline` for a field marked `x-multiline: true`.
    static func violation(in string: String, multiline: Bool = false, at pointer: String) -> AppError.FieldError? {
        for scalar in string.unicodeScalars where isControl(scalar, multiline: multiline) {
            let hex = String(scalar.value, radix: 16, uppercase: true)
            let name = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            let message =
                scalar.value == 0
                ? "Must not contain the NUL character (U+0000)."
                : multiline
                    ? "Must not contain the control character \(name); only tab and line breaks are allowed."
                    : "Must not contain the control character \(name); this field is a single line."
            return AppError.FieldError(field: pointer, code: code, message: message)
        }
        return nil
    }

    static func isControl(_ scalar: Unicode.Scalar, multiline: Bool) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A, 0x0D: !multiline
        case 0x00...0x1F, 0x7F: true
        default: false
        }
    }

    /// Checks a value that has no schema (a free-form object or array) as single-line text throughout.
    static func scan(_ value: JSONValue, at pointer: String, errors: inout [AppError.FieldError]) {
        switch value {
        case .string(let string):
            if let error = violation(in: string, at: pointer) { errors.append(error) }
        case .array(let items):
            for (index, item) in items.enumerated() { scan(item, at: "\(pointer)/\(index)", errors: &errors) }
        case .object(let object):
            let base = pointer == "/" ? "" : pointer
            for name in object.keys.sorted() {
                let field = "\(base)/\(escapedPointerToken(name))"
                if let error = violation(in: name, at: field) {
                    errors.append(error)
                } else {
                    scan(object[name]!, at: field, errors: &errors)
                }
            }
        case .null, .bool, .integer, .number:
            break
        }
    }

    /// An object key as a JSON-pointer token (RFC 6901: `~` as `~0`, `/` as `~1`).
    static func escapedPointerToken(_ key: String) -> String {
        guard key.contains("~") || key.contains("/") else { return key }
        return key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }
}

/// The named ranges of `x-date-range`: a date or date-time outside its range answers 400 `out_of_range`. The
/// contract states each range in the field's description; the bounds that move with the clock are computed here.
enum DateRange: String, CaseIterable, Sendable {
    /// When an activity happened: from `MEANDER_ACTIVITY_EARLIEST_DATE` (2000-01-01) to
    /// `MEANDER_ACTIVITY_FUTURE_MARGIN_HOURS` (24) from now.
    case activity
    /// Something that has happened (a consent given): from 2000-01-01 to 24 hours from now.
    case recorded
    /// Something still to come (a pause's end): from now to ten years ahead.
    case upcoming
    /// A list filter's bound: from 1970-01-01 to 2100-01-01.
    case filter
    /// A day of a Bufdir reporting period: from 2000-01-01 to the end of next year.
    case reportingPeriod = "reporting-period"
    /// The first day counting rules apply: from 2000-01-01 to the end of the fifth year ahead.
    case rules

    /// The allowed instants, both ends included.
    func bounds(context: ValidationContext) -> ClosedRange<Date> {
        let year2000 = Date(timeIntervalSince1970: 946_684_800)
        let day: TimeInterval = 86_400
        switch self {
        case .activity:
            return context.activityEarliest...max(context.activityEarliest, context.now + context.activityFutureMargin)
        case .recorded:
            return year2000...(context.now + day)
        case .upcoming:
            return context.now...(context.now + 3_653 * day)
        case .filter:
            return Date(timeIntervalSince1970: 0)...Date(timeIntervalSince1970: 4_102_444_800)
        case .reportingPeriod:
            return year2000...Self.endOfYear(context.currentYear + 1)
        case .rules:
            return year2000...Self.endOfYear(context.currentYear + 5)
        }
    }

    /// The error for a value outside the range, or nil. `date` strings are taken at midnight UTC.
    func violation(_ string: String, at pointer: String, context: ValidationContext) -> AppError.FieldError? {
        let isDay = RFC3339.isFullDate(Array(string.utf8))
        guard let instant = RFC3339.date(from: isDay ? string + "T00:00:00Z" : string) else { return nil }
        let range = bounds(context: context)
        guard !range.contains(instant) else { return nil }
        let format: (Date) -> String = { date in
            isDay ? String(date.formatted(.iso8601).prefix(10)) : date.formatted(.iso8601)
        }
        return AppError.FieldError(
            field: pointer, code: "out_of_range",
            message: "Must be from \(format(range.lowerBound)) to \(format(range.upperBound)) (\(meaning)).")
    }

    var meaning: String {
        switch self {
        case .activity: "an activity is logged from the earliest configured date to a small margin past now"
        case .recorded: "a recorded event lies in the past"
        case .upcoming: "this lies in the future"
        case .filter: "a filter's bound"
        case .reportingPeriod: "a reporting period ends by next year"
        case .rules: "counting rules are set at most five years ahead"
        }
    }

    private static func endOfYear(_ year: Int) -> Date {
        let start = NorwegianCalendar.calendar.date(from: DateComponents(year: year + 1, month: 1, day: 1)) ?? .distantFuture
        return start - 1
    }
}

/// The named ranges of `x-year-range` on integer years: outside its range a year answers 400 `out_of_range`.
enum YearRange: String, CaseIterable, Sendable {
    /// A person's birth year: 1900 to this year.
    case birth
    /// A Bufdir reporting year: 2000 to next year.
    case reporting
    /// A year of counting rules: 2000 to five years ahead.
    case rules

    func years(context: ValidationContext) -> ClosedRange<Int> {
        switch self {
        case .birth: 1900...context.currentYear
        case .reporting: 2000...(context.currentYear + 1)
        case .rules: 2000...(context.currentYear + 5)
        }
    }

    var meaning: String {
        switch self {
        case .birth: "a birth year is not in the future"
        case .reporting: "a reporting year is at most next year"
        case .rules: "counting rules are set at most five years ahead"
        }
    }
}

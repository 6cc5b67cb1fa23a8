import Foundation

/// A recurring schedule in cron's five fields (minute, hour, day of month, month, day of week), read on the wall
/// clock of a time zone: `"30 3 * * *"` is 03:30 every night in Oslo, in summer and in winter.
///
/// Each field is `*`, a number, a range `a-b`, a step `*/n` or `a-b/n`, or a comma-separated list of those. Day of
/// week is 0–7 (0 and 7 are Sunday). As in cron, when both day of month and day of week are restricted, a day that
/// matches either one fires. A tick whose wall-clock time a change of summer time skips does not fire that day; one
/// the change repeats fires once, at its first occurrence.
struct CronSchedule: Sendable, Equatable, CustomStringConvertible {
    struct ParseError: Error, Equatable, CustomStringConvertible {
        var description: String
    }

    let minutes: Set<Int>
    let hours: Set<Int>
    let daysOfMonth: Set<Int>
    let months: Set<Int>
    /// 0 = Sunday … 6 = Saturday.
    let daysOfWeek: Set<Int>
    let timeZone: TimeZone
    let description: String
    private let dayOfMonthRestricted: Bool
    private let dayOfWeekRestricted: Bool

    init(_ expression: String, timeZone: TimeZone) throws(ParseError) {
        let fields = expression.split(whereSeparator: \.isWhitespace).map(String.init)
        guard fields.count == 5 else {
            throw ParseError(description: "A schedule has five fields (minute hour day month weekday): '\(expression)'.")
        }
        minutes = try Self.field(fields[0], name: "minute", range: 0...59)
        hours = try Self.field(fields[1], name: "hour", range: 0...23)
        daysOfMonth = try Self.field(fields[2], name: "day of month", range: 1...31)
        months = try Self.field(fields[3], name: "month", range: 1...12)
        daysOfWeek = Set(try Self.field(fields[4], name: "day of week", range: 0...7).map { $0 % 7 })
        dayOfMonthRestricted = fields[2] != "*"
        dayOfWeekRestricted = fields[4] != "*"
        self.timeZone = timeZone
        description = fields.joined(separator: " ")
    }

    /// The first tick strictly after `instant`; `nil` when none falls in the next eight years (`30 4 31 2 *`).
    func next(after instant: Date) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        var day = calendar.startOfDay(for: instant)
        let sortedHours = hours.sorted()
        let sortedMinutes = minutes.sorted()
        for _ in 0..<(366 * 8) {
            let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            if let year = parts.year, let month = parts.month, let dayOfMonth = parts.day, let weekday = parts.weekday,
                matches(month: month, day: dayOfMonth, weekday: weekday - 1)
            {
                for hour in sortedHours {
                    for minute in sortedMinutes {
                        guard
                            let tick = Self.instant(
                                year: year, month: month, day: dayOfMonth, hour: hour, minute: minute,
                                calendar: calendar),
                            tick > instant
                        else { continue }
                        return tick
                    }
                }
            }
            guard let following = calendar.date(byAdding: .day, value: 1, to: day) else { return nil }
            day = following
        }
        return nil
    }

    private func matches(month: Int, day: Int, weekday: Int) -> Bool {
        guard months.contains(month) else { return false }
        switch (dayOfMonthRestricted, dayOfWeekRestricted) {
        case (true, true): return daysOfMonth.contains(day) || daysOfWeek.contains(weekday)
        case (true, false): return daysOfMonth.contains(day)
        case (false, true): return daysOfWeek.contains(weekday)
        case (false, false): return true
        }
    }

    /// The instant a wall-clock time reads on a day, or `nil` when a change of summer time skips it. A repeated time
    /// is its first occurrence.
    private static func instant(
        year: Int, month: Int, day: Int, hour: Int, minute: Int, calendar: Calendar
    ) -> Date? {
        let wanted = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute)
        guard let date = calendar.date(from: wanted) else { return nil }
        let read = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        guard read.year == year, read.month == month, read.day == day, read.hour == hour, read.minute == minute else {
            return nil
        }
        // `date(from:)` may pick the second of two readings of a repeated time; step back to the first.
        let earlier = date.addingTimeInterval(-3600)
        let back = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: earlier)
        if back.year == year, back.month == month, back.day == day, back.hour == hour, back.minute == minute {
            return earlier
        }
        return date
    }

    private static func field(_ text: String, name: String, range: ClosedRange<Int>) throws(ParseError) -> Set<Int> {
        var values: Set<Int> = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { throw ParseError(description: "Bad \(name) '\(text)'.") }
            var step = 1
            if parts.count == 2 {
                guard let value = Int(parts[1]), value > 0 else {
                    throw ParseError(description: "Bad step in the \(name) '\(text)'.")
                }
                step = value
            }
            let span: ClosedRange<Int>
            if parts[0] == "*" {
                span = range
            } else {
                let bounds = parts[0].split(separator: "-", omittingEmptySubsequences: false)
                guard (1...2).contains(bounds.count), let low = Int(bounds[0]), let high = Int(bounds.last ?? ""),
                    range.contains(low), range.contains(high), low <= high
                else {
                    throw ParseError(
                        description: "The \(name) '\(text)' is outside \(range.lowerBound)–\(range.upperBound).")
                }
                // `a/n` is `a-max/n`, as in common crons.
                span = low...(bounds.count == 1 && parts.count == 2 ? range.upperBound : high)
            }
            values.formUnion(stride(from: span.lowerBound, through: span.upperBound, by: step))
        }
        return values
    }
}

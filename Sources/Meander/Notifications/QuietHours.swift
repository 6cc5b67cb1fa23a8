import Foundation

/// A time of day on the wall clock, as a user sets it (`"22:00"`).
struct WallClockTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    let hour: Int
    let minute: Int

    init?(hour: Int, minute: Int) {
        guard (0...23).contains(hour), (0...59).contains(minute) else { return nil }
        self.hour = hour
        self.minute = minute
    }

    /// `"HH:mm"`, 24-hour, as stored in `notification_preferences`.
    init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard text.count == 5, parts.count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]) else {
            return nil
        }
        self.init(hour: hour, minute: minute)
    }

    var description: String { String(format: "%02d:%02d", hour, minute) }

    static func < (lhs: Self, rhs: Self) -> Bool { (lhs.hour, lhs.minute) < (rhs.hour, rhs.minute) }
}

/// A user's quiet hours: from `start` to `end` on the wall clock of their own time zone, every day or only on some
/// weekdays. A period whose end is not after its start runs overnight into the next day.
///
/// Each period is worked out afresh from the wall-clock times on the day it starts, never from a stored UTC offset, so
/// that across a change to or from summer time it still starts and ends at the times the user chose (a period
/// 22:00–07:00 over the spring change lasts 8 hours, over the autumn change 10). A wall-clock time the change skips
/// (02:30 on the spring night in Europe/Oslo) is read as the first moment after the gap; one it repeats (02:30 on the
/// autumn night) as its first occurrence for a start and its last for an end, so that quiet hours never shrink.
struct QuietHours: Sendable, Equatable {
    var start: WallClockTime
    var end: WallClockTime
    /// The weekdays on which a period starts (1 = Monday … 7 = Sunday, ISO 8601); every day when `nil`.
    var weekdays: Set<Int>?
    var timeZone: TimeZone

    init(start: WallClockTime, end: WallClockTime, weekdays: Set<Int>? = nil, timeZone: TimeZone) {
        self.start = start
        self.end = end
        self.weekdays = weekdays
        self.timeZone = timeZone
    }

    /// When a message that is due at `instant` may go out: at once outside quiet hours, else when they end. A period
    /// that starts just as another ends (for example on consecutive weekdays) is followed to its end.
    func deliveryTime(for instant: Date) -> Date {
        var time = instant
        // Each step moves to a later period's end; seven days of periods is more than any chain can hold.
        for _ in 0..<8 {
            guard let end = endOfPeriod(containing: time) else { return time }
            time = end
        }
        return time
    }

    /// The end of the quiet period that contains `instant`, or `nil` when it falls outside quiet hours. A period
    /// includes its start and excludes its end.
    func endOfPeriod(containing instant: Date) -> Date? {
        guard start != end else { return nil }
        let calendar = self.calendar
        let today = calendar.startOfDay(for: instant)
        // A period that contains `instant` started today or, running overnight, yesterday.
        for offset in [-1, 0] {
            guard let day = calendar.date(byAdding: .day, value: offset, to: today),
                let period = period(startingOn: day, calendar: calendar)
            else { continue }
            if period.start <= instant, instant < period.end { return period.end }
        }
        return nil
    }

    /// The quiet period that starts on the local day `day` (any instant of it), if one starts that day.
    func period(startingOn day: Date, calendar: Calendar) -> (start: Date, end: Date)? {
        if let weekdays {
            // Foundation's weekday: 1 = Sunday … 7 = Saturday; ISO's: 1 = Monday … 7 = Sunday.
            let weekday = calendar.component(.weekday, from: day)
            guard weekdays.contains((weekday + 5) % 7 + 1) else { return nil }
        }
        let endDay = end > start ? day : calendar.date(byAdding: .day, value: 1, to: day)
        guard let endDay,
            let startInstant = Self.instant(of: start, on: day, calendar: calendar, repeated: .first),
            let endInstant = Self.instant(of: end, on: endDay, calendar: calendar, repeated: .last)
        else { return nil }
        return (startInstant, endInstant)
    }

    private var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    /// The instant a wall-clock time reads on a local day: a skipped time moves to the end of the gap, a repeated
    /// one is its first or last occurrence.
    private static func instant(
        of time: WallClockTime, on day: Date, calendar: Calendar, repeated: Calendar.RepeatedTimePolicy
    ) -> Date? {
        calendar.date(
            bySettingHour: time.hour, minute: time.minute, second: 0, of: calendar.startOfDay(for: day),
            matchingPolicy: .nextTime, repeatedTimePolicy: repeated, direction: .forward)
    }
}

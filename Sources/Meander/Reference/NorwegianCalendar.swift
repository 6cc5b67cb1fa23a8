import Foundation

/// Days and years as they fall in Norway (`Europe/Oslo`): Bufdir periods, reporting years and closed periods are
/// all counted in Norwegian calendar days, whatever the server's own time zone.
enum NorwegianCalendar {
    static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Oslo") ?? .gmt
        return calendar
    }()

    /// The calendar day of an instant, `yyyy-MM-dd`.
    static func day(of date: Date) -> String {
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }

    static func year(of date: Date) -> Int {
        calendar.component(.year, from: date)
    }
}

import Foundation
import Testing

@testable import Meander

/// Quiet hours as a table: when a message due at an instant goes out, for ordinary nights, both changes of summer time
/// in Europe/Oslo, wall-clock times the changes skip or repeat, weekdays, and a user in another time zone.
@Suite("Quiet hours")
struct QuietHoursTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var zone: String = "Europe/Oslo"
        var start: String = "22:00"
        var end: String = "07:00"
        var weekdays: Set<Int>?
        /// When the message is due, in UTC.
        var due: String
        /// When it may go out, in UTC.
        var delivered: String

        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "before a winter night's quiet hours: at once", due: "2026-01-14T20:59:00Z", delivered: "2026-01-14T20:59:00Z"),
        Case(name: "at the start (22:00 CET): the morning", due: "2026-01-14T21:00:00Z", delivered: "2026-01-15T06:00:00Z"),
        Case(name: "in a winter night: 07:00 CET", due: "2026-01-14T22:30:00Z", delivered: "2026-01-15T06:00:00Z"),
        Case(name: "after midnight: the same morning", due: "2026-01-15T03:00:00Z", delivered: "2026-01-15T06:00:00Z"),
        Case(name: "at the end (07:00 CET): at once", due: "2026-01-15T06:00:00Z", delivered: "2026-01-15T06:00:00Z"),
        // Summer time starts on 29 March 2026 at 02:00 CET: the night lasts 8 hours, and ends at 07:00 CEST (05:00Z).
        Case(name: "the spring night, evening (22:30 CET)", due: "2026-03-28T21:30:00Z", delivered: "2026-03-29T05:00:00Z"),
        Case(name: "the spring night, after the change (06:30 CEST)", due: "2026-03-29T04:30:00Z", delivered: "2026-03-29T05:00:00Z"),
        Case(name: "the spring morning at 07:00 CEST: at once", due: "2026-03-29T05:00:00Z", delivered: "2026-03-29T05:00:00Z"),
        // Summer time ends on 25 October 2026 at 03:00 CEST: the night lasts 10 hours, and ends at 07:00 CET (06:00Z).
        Case(name: "the autumn night, evening (22:30 CEST)", due: "2026-10-24T20:30:00Z", delivered: "2026-10-25T06:00:00Z"),
        Case(name: "the autumn night, after the change (06:30 CET)", due: "2026-10-25T05:30:00Z", delivered: "2026-10-25T06:00:00Z"),
        Case(name: "the autumn morning at 07:00 CET: at once", due: "2026-10-25T06:00:00Z", delivered: "2026-10-25T06:00:00Z"),
        // Wall-clock times that the changes skip or repeat.
        Case(
            name: "a start the spring change skips (02:30) begins at 03:00 CEST", start: "02:30", end: "03:30",
            due: "2026-03-29T01:10:00Z", delivered: "2026-03-29T01:30:00Z"),
        Case(
            name: "before that skipped start: at once", start: "02:30", end: "03:30", due: "2026-03-29T00:45:00Z",
            delivered: "2026-03-29T00:45:00Z"),
        Case(
            name: "a period the autumn change repeats runs from the first 02:15 to the last 02:45", start: "02:15",
            end: "02:45", due: "2026-10-25T01:20:00Z", delivered: "2026-10-25T01:45:00Z"),
        Case(
            name: "inside the first 02:15–02:45 of the autumn night", start: "02:15", end: "02:45",
            due: "2026-10-25T00:20:00Z", delivered: "2026-10-25T01:45:00Z"),
        // Daytime quiet hours (start before end).
        Case(name: "a lunch hour", start: "12:00", end: "13:00", due: "2026-06-10T10:30:00Z", delivered: "2026-06-10T11:00:00Z"),
        // Weekdays: the nights that start Monday to Friday.
        Case(
            name: "a Friday night runs into Saturday morning", weekdays: [1, 2, 3, 4, 5], due: "2026-01-16T23:30:00Z",
            delivered: "2026-01-17T06:00:00Z"),
        Case(
            name: "a Saturday night is not quiet", weekdays: [1, 2, 3, 4, 5], due: "2026-01-17T22:00:00Z",
            delivered: "2026-01-17T22:00:00Z"),
        Case(
            name: "a Sunday night is not quiet", weekdays: [1, 2, 3, 4, 5], due: "2026-01-18T22:30:00Z",
            delivered: "2026-01-18T22:30:00Z"),
        Case(
            name: "a Monday night is", weekdays: [1, 2, 3, 4, 5], due: "2026-01-19T22:30:00Z",
            delivered: "2026-01-20T06:00:00Z"),
        // A user in New York: their own wall clock, and their own change of summer time (8 March 2026).
        Case(
            name: "New York, a winter night (23:00 EST)", zone: "America/New_York", due: "2026-01-15T04:00:00Z",
            delivered: "2026-01-15T12:00:00Z"),
        Case(
            name: "New York on Oslo's spring night is in summer time already (07:00 EDT)", zone: "America/New_York",
            due: "2026-03-29T03:00:00Z", delivered: "2026-03-29T11:00:00Z"),
        Case(
            name: "New York's own spring night (8 March): 07:00 EDT", zone: "America/New_York",
            due: "2026-03-08T04:00:00Z", delivered: "2026-03-08T11:00:00Z"),
    ]

    @Test("when a message goes out", arguments: cases)
    func delivery(_ example: Case) throws {
        let quiet = QuietHours(
            start: try #require(WallClockTime(example.start)), end: try #require(WallClockTime(example.end)),
            weekdays: example.weekdays, timeZone: try #require(TimeZone(identifier: example.zone)))
        let due = try Date(example.due, strategy: .iso8601)
        #expect(quiet.deliveryTime(for: due) == (try Date(example.delivered, strategy: .iso8601)))
    }

    @Test("through a whole year in Oslo: never delivered in quiet hours, and a held message goes out at 07:00 sharp")
    func wholeYear() throws {
        let oslo = try #require(TimeZone(identifier: "Europe/Oslo"))
        let quiet = QuietHours(
            start: try #require(WallClockTime("22:00")), end: try #require(WallClockTime("07:00")), timeZone: oslo)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = oslo
        var due = try Date("2026-01-01T00:00:00Z", strategy: .iso8601)
        let end = try Date("2027-01-01T00:00:00Z", strategy: .iso8601)
        var held = 0
        while due < end {
            let delivered = quiet.deliveryTime(for: due)
            let local = calendar.dateComponents([.hour, .minute], from: delivered)
            let hour = try #require(local.hour)
            #expect(delivered >= due)
            #expect(quiet.endOfPeriod(containing: delivered) == nil)
            #expect((7..<22).contains(hour), "\(due) went out at \(delivered)")
            if delivered != due {
                held += 1
                #expect(local.hour == 7 && local.minute == 0, "\(due) went out at \(delivered)")
                #expect(delivered.timeIntervalSince(due) <= 10 * 3600)
            }
            due.addTimeInterval(37 * 60)
        }
        // 9 of 24 hours are quiet: about 3/8 of the year's instants are held.
        #expect(held > 5_000 && held < 5_400)
    }

    @Test("equal start and end mean no quiet hours")
    func empty() throws {
        let time = try #require(WallClockTime("22:00"))
        let quiet = QuietHours(start: time, end: time, timeZone: try #require(TimeZone(identifier: "Europe/Oslo")))
        let due = try Date("2026-01-14T21:00:00Z", strategy: .iso8601)
        #expect(quiet.deliveryTime(for: due) == due)
    }

    @Test(
        "wall-clock times are HH:mm, 24-hour",
        arguments: [
            ("07:00", true), ("23:59", true), ("00:00", true), ("7:00", false), ("24:00", false), ("07:60", false),
            ("07-00", false), ("", false), ("07:0a", false),
        ])
    func parsing(_ text: String, _ valid: Bool) {
        #expect((WallClockTime(text) != nil) == valid)
        if valid { #expect(WallClockTime(text)?.description == text) }
    }
}

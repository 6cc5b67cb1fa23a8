import Foundation
import Testing

@testable import Meander

/// Cron schedules on a wall clock: the next tick for each kind of field, both changes of summer time in Oslo, and a
/// year of hourly ticks that fire once each.
@Suite("Cron schedules")
struct CronScheduleTests {
    static let oslo = TimeZone(identifier: "Europe/Oslo")!
    static let utc = TimeZone(identifier: "UTC")!

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var expression: String
        var zone: TimeZone = CronScheduleTests.oslo
        var after: String
        /// The next tick in UTC; `nil` when there is none.
        var next: String?

        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "03:30 nightly, winter (CET)", expression: "30 3 * * *", after: "2026-01-14T12:00:00Z", next: "2026-01-15T02:30:00Z"),
        Case(name: "03:30 nightly, summer (CEST)", expression: "30 3 * * *", after: "2026-07-01T12:00:00Z", next: "2026-07-02T01:30:00Z"),
        Case(name: "not the tick itself", expression: "30 3 * * *", after: "2026-01-15T02:30:00Z", next: "2026-01-16T02:30:00Z"),
        Case(
            name: "02:30 does not exist on the spring night: the next night", expression: "30 2 * * *",
            after: "2026-03-28T01:30:00Z", next: "2026-03-30T00:30:00Z"),
        Case(
            name: "02:30 happens twice on the autumn night: the first", expression: "30 2 * * *",
            after: "2026-10-24T23:00:00Z", next: "2026-10-25T00:30:00Z"),
        Case(
            name: "… and only the first", expression: "30 2 * * *", after: "2026-10-25T00:30:00Z",
            next: "2026-10-26T01:30:00Z"),
        Case(
            name: "every quarter of an hour", expression: "*/15 * * * *", zone: utc, after: "2026-01-14T12:07:00Z",
            next: "2026-01-14T12:15:00Z"),
        Case(
            name: "a list and a range", expression: "5,10-12 8 * * *", zone: utc, after: "2026-01-14T08:05:00Z",
            next: "2026-01-14T08:10:00Z"),
        Case(
            name: "a step from a start", expression: "40/10 * * * *", zone: utc, after: "2026-01-14T08:41:00Z", next: "2026-01-14T08:50:00Z"
        ),
        Case(
            name: "weekdays at 09:00, from a Friday to the Monday", expression: "0 9 * * 1-5", after: "2026-01-16T08:00:00Z",
            next: "2026-01-19T08:00:00Z"),
        Case(name: "Sunday as 7", expression: "0 0 * * 7", after: "2026-01-05T12:00:00Z", next: "2026-01-10T23:00:00Z"),
        Case(
            name: "day of month or day of week, as cron has it", expression: "0 0 1 * 0", after: "2026-01-02T12:00:00Z",
            next: "2026-01-03T23:00:00Z"),
        Case(name: "the first of a month", expression: "0 6 1 * *", after: "2026-01-02T12:00:00Z", next: "2026-02-01T05:00:00Z"),
        Case(
            name: "29 February: the next leap year", expression: "0 12 29 2 *", zone: utc, after: "2026-01-01T00:00:00Z",
            next: "2028-02-29T12:00:00Z"),
        Case(name: "31 February never comes", expression: "0 12 31 2 *", after: "2026-01-01T00:00:00Z", next: nil),
    ]

    @Test("the next tick", arguments: cases)
    func next(_ example: Case) throws {
        let schedule = try CronSchedule(example.expression, timeZone: example.zone)
        let after = try Date(example.after, strategy: .iso8601)
        #expect(schedule.next(after: after) == (try example.next.map { try Date($0, strategy: .iso8601) }))
    }

    @Test("an hourly schedule fires once per wall-clock hour through 2026 in Oslo: 8,759 ticks")
    func hourlyYear() throws {
        let schedule = try CronSchedule("0 * * * *", timeZone: Self.oslo)
        // Midnight of 1 January 2026 in Oslo, just before, and the end of the year there.
        var tick = try Date("2025-12-31T22:59:00Z", strategy: .iso8601)
        let end = try Date("2026-12-31T23:00:00Z", strategy: .iso8601)
        var count = 0
        while let next = schedule.next(after: tick), next < end {
            #expect(next > tick)
            #expect(Int(next.timeIntervalSince1970) % 3600 == 0)
            tick = next
            count += 1
        }
        // 365 × 24 wall-clock hours, less the one the spring change skips; the repeated autumn hour fires once.
        #expect(count == 365 * 24 - 1)
    }

    @Test(
        "bad schedules are refused with the field named",
        arguments: [
            ("60 * * * *", "minute"), ("* * *", "five fields"), ("*/0 * * * *", "step"), ("5-1 * * * *", "minute"),
            ("a * * * *", "minute"), ("* 24 * * *", "hour"), ("* * 0 * *", "day of month"), ("* * * 13 *", "month"),
            ("* * * * 8", "day of week"),
        ])
    func refused(_ expression: String, _ named: String) {
        #expect {
            try CronSchedule(expression, timeZone: Self.utc)
        } throws: { error in
            (error as? CronSchedule.ParseError)?.description.contains(named) == true
        }
    }
}

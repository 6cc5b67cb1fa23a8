import Fluent
import Foundation
import Testing
import Vapor

@testable import Meander

@Suite("Bufdir eligibility")
struct BufdirEligibilityTests {
    typealias Facts = BufdirEligibility.Facts

    static func facts(
        _ category: ActivityType.BufdirCategory, reportable: Bool = true, channel: Activity.Channel? = .inPerson,
        participants: Int = 1, minutes: Int = 60, country: String = "NO", status: Activity.Status = .registered
    ) -> Facts {
        Facts(
            category: category, reportable: reportable, channel: channel, participants: participants, minutes: minutes,
            countryCode: country, status: status)
    }

    /// (facts, expected reason or nil when it counts), against the rules the migration stores for 2025.
    static let cases: [(Facts, String?)] = [
        (facts(.oneToOne), nil),
        (facts(.oneToOne, channel: .phone), nil),
        (facts(.oneToOne, channel: .video), nil),
        (facts(.oneToOne, channel: .digital), "not_a_meeting"),
        (facts(.oneToOne, country: "SE"), "outside_norway"),
        (facts(.group, participants: 3, minutes: 45), nil),
        (facts(.group, participants: 2, minutes: 120), "too_few_participants"),
        (facts(.group, participants: 12, minutes: 44), "too_short"),
        (facts(.course, minutes: 90), nil),
        (facts(.course, minutes: 89), "too_short"),
        (facts(.information, minutes: 10), nil),
        (facts(.event, participants: 1), nil),
        (facts(.group, reportable: false, participants: 9, minutes: 90), "type_not_reportable"),
        (facts(.oneToOne, status: .rejected), "rejected"),
        (facts(.group, participants: 1, minutes: 10, country: "DK"), "outside_norway"),
    ]

    @Test("the stored rules of a year decide, case by case", arguments: 0..<cases.count)
    func table(index: Int) async throws {
        try await withTestApp { app in
            // given
            let (facts, expected) = Self.cases[index]
            let rules = try #require(try await BufdirRules.load(year: 2025, on: app.db))

            // when
            let verdict = BufdirEligibility.evaluate(facts, rules: rules, year: 2025)

            // then
            #expect(verdict.reason == expected, "\(facts)")
            #expect(verdict.counts == (expected == nil))
        }
    }

    @Test("a year without stored rules counts nothing, and says so")
    func noRules() async throws {
        try await withTestApp { app in
            let none = try await BufdirRules.load(year: 2019, on: app.db)
            #expect(none == nil)
            let verdict = BufdirEligibility.evaluate(Self.facts(.oneToOne), rules: nil, year: 2019)
            #expect(verdict == .no("no_rules_for_year", year: 2019))
        }
    }

    @Test("the rules are data: changing a stored parameter changes the verdict without a code change")
    func rulesAreData() async throws {
        try await withTestApp { app in
            // given: a stricter group rule for 2026
            let rule = try #require(
                try await BufdirCountingRule.query(on: app.db).filter(\.$reportingYear == 2026)
                    .filter(\.$ruleKey == "group_activity").first())
            rule.parameters = #"{"min_participants":5,"min_minutes":60}"#
            try await rule.save(on: app.db)

            // when
            let rules = try await BufdirRules.load(year: 2026, on: app.db)
            let four = BufdirEligibility.evaluate(Self.facts(.group, participants: 4, minutes: 90), rules: rules, year: 2026)

            // then
            #expect(four.reason == "too_few_participants")
        }
    }

    @Test("the reporting year is the calendar year in Norway")
    func reportingYear() throws {
        // 2024-12-31 23:30 UTC is already 2025 in Oslo
        let date = try Date("2024-12-31T23:30:00Z", strategy: .iso8601)
        #expect(BufdirEligibility.reportingYear(of: date) == 2025)
    }
}

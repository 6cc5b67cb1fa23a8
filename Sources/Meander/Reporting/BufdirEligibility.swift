import Foundation

/// Whether an activity counts for Bufdir, and if not, why: decided when it is logged, from the rules of its year.
enum BufdirEligibility {
    /// The facts of an activity the rules look at.
    struct Facts: Sendable, Equatable {
        var category: ActivityType.BufdirCategory
        var reportable: Bool
        var channel: Activity.Channel?
        var participants: Int
        var minutes: Int
        var countryCode: String
        var status: Activity.Status
    }

    struct Verdict: Sendable, Equatable {
        var counts: Bool
        /// Machine-readable, when it does not count.
        var reason: String?
        var year: Int

        static func no(_ reason: String, year: Int) -> Verdict { Verdict(counts: false, reason: reason, year: year) }
    }

    /// The reporting year of a moment: the calendar year in Norway.
    static func reportingYear(of date: Date) -> Int { NorwegianCalendar.year(of: date) }

    /// Applies the rules. The order decides which reason is given when several apply: the one a mentor can least
    /// fix comes first.
    static func evaluate(_ facts: Facts, rules: BufdirRules?, year: Int) -> Verdict {
        guard let rules else { return .no("no_rules_for_year", year: year) }
        if facts.status == .rejected { return .no("rejected", year: year) }
        if !facts.reportable { return .no("type_not_reportable", year: year) }
        if let allowed = rules.strings("countries", "allowed"), !allowed.contains(facts.countryCode.uppercased()) {
            return .no("outside_norway", year: year)
        }
        switch facts.category {
        case .oneToOne:
            if let channels = rules.strings("one_to_one", "channels"), let channel = facts.channel,
                !channels.contains(channel.rawValue)
            {
                return .no("not_a_meeting", year: year)
            }
        case .group:
            if let least = rules.integer("group_activity", "min_participants"), facts.participants < least {
                return .no("too_few_participants", year: year)
            }
            if let least = rules.integer("group_activity", "min_minutes"), facts.minutes < least {
                return .no("too_short", year: year)
            }
        case .course:
            if let least = rules.integer("mentor_training", "min_minutes"), facts.minutes < least {
                return .no("too_short", year: year)
            }
        case .information, .event, .other:
            break
        }
        return Verdict(counts: true, reason: nil, year: year)
    }
}

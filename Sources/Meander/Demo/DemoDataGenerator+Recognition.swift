import FluentKit
import Foundation

/// Badges and their awards, recruitment referrals, and everyone's notification preferences.
extension DemoDataGenerator {
    func writeRecognition() async throws {
        var rng = stream(.recognition)
        let reference = DemoCalendar.referenceDate

        // The platform's badges, written with the first tenant; the others award the same ones.
        let badges = tenant.writesPlatform ? Self.makeBadges(&rng) : []
        for badge in badges { shared.badges[badge.key] = badge.id! }
        func badge(_ key: String) -> UUID {
            guard let id = shared.badges[key] else { preconditionFailure("the first tenant writes the badges") }
            return id
        }

        // Awards follow from what was written: the n-th activity's day is estimated by spreading the mentor's
        // activities evenly between their first and last.
        var awards: [UserBadge] = []
        func award(
            _ key: String, to mentor: DemoMentor, at date: Date, reason: String, by awarder: UUID? = nil,
            rng: inout SeededRandom
        ) {
            let awardedAt = min(date, reference.addingTimeInterval(-3_600))
            let userBadge = UserBadge(
                id: rng.uuid(), userID: mentor.id, badgeID: badge(key), awardMethod: awarder == nil ? .rule : .manual,
                awardedAt: awardedAt, reason: reason, organizationID: chapters[mentor.chapter].id, awardedByID: awarder)
            userBadge.notifiedAt = awardedAt.addingTimeInterval(60)
            if rng.chance(0.7) {
                userBadge.seenAt = min(awardedAt.addingTimeInterval(TimeInterval(rng.int(1...72) * 3_600)), reference)
            }
            awards.append(userBadge)
        }
        for (index, mentor) in mentors.enumerated() {
            let stats = activityStats.indices.contains(index) ? activityStats[index] : DemoActivityStats()
            func dayOf(_ nth: Int) -> Int {
                stats.firstDay + (stats.lastDay - stats.firstDay) * (nth - 1) / max(1, stats.count - 1)
            }
            if stats.count >= 1 {
                award(
                    "first_activity", to: mentor, at: DemoCalendar.date(day: stats.firstDay, minute: 1_200),
                    reason: "Første aktivitet registrert", rng: &rng)
            }
            if stats.count >= 50 {
                award(
                    "activities_50", to: mentor, at: DemoCalendar.date(day: dayOf(50), minute: 1_200),
                    reason: "50 aktiviteter registrert", rng: &rng)
            }
            if stats.count >= 250 {
                award(
                    "activities_250", to: mentor, at: DemoCalendar.date(day: dayOf(250), minute: 1_200),
                    reason: "250 aktiviteter registrert", rng: &rng)
            }
            if let completed = firstCompletedCourse[mentor.id] {
                award("course_completed", to: mentor, at: completed.addingTimeInterval(3_600), reason: "Kurs fullført", rng: &rng)
            }
            let fiveYearsDay = DemoCalendar.addingMonths(60, to: mentor.joinDay)
            if mentor.canWork, fiveYearsDay < DemoCalendar.referenceDay, fiveYearsDay >= -365 {
                award(
                    "years_of_service_5", to: mentor, at: DemoCalendar.date(day: fiveYearsDay, minute: 360),
                    reason: "Fem år som likeperson", rng: &rng)
            }
            if mentor.canWork, rng.chance(0.02) {
                award(
                    "enthusiast", to: mentor,
                    at: DemoCalendar.date(day: rng.int(mentor.firstDay...(mentor.lastDay - 1)), minute: 720),
                    reason: "For en fantastisk innsats i lokallaget", by: coordinatorIDs[mentor.chapter][0], rng: &rng)
            }
        }

        // Referrals: recruitment links and QR codes made by coordinators and a few mentors.
        var referrals: [Referral] = []
        for (chapterIndex, chapter) in chapters.enumerated() {
            let workers = mentorsByChapter[chapterIndex].filter { mentors[$0].canWork }
            for _ in 0..<rng.int(1...3) {
                let creator =
                    !workers.isEmpty && rng.chance(0.3)
                    ? mentors[rng.pick(workers)].id : coordinatorIDs[chapterIndex][0]
                var code = rng.code(length: 8)
                while !shared.referralCodes.insert(code).inserted { code = rng.code(length: 8) }
                let createdDay = rng.int(0...(DemoCalendar.referenceDay - 1))
                let referral = Referral(
                    id: rng.uuid(), organizationID: chapter.id, createdByID: creator, code: code,
                    channel: rng.pick(Referral.Channel.allCases),
                    expiresAt: rng.chance(0.5) ? DemoCalendar.date(day: createdDay + 90) : nil,
                    maxUses: rng.pick([nil, 10, 25, 50]))
                referral.useCount = rng.int(0...min(referral.maxUses ?? 40, 40))
                referral.signupCount = rng.int(0...referral.useCount)
                referral.firstActivityCount = rng.int(0...referral.signupCount)
                if rng.chance(0.1) {
                    referral.revokedAt = DemoCalendar.date(day: rng.int(createdDay...(DemoCalendar.referenceDay - 1)))
                }
                referrals.append(referral)
            }
        }

        let (finalAwards, finalReferrals) = (awards, referrals)
        let writer = self.writer
        try await writer.transaction { tx in
            try await writer.insert(badges, on: tx)
            try await writer.insert(finalAwards, on: tx)
            try await writer.insert(finalReferrals, on: tx)
        }
        writer.report(UserBadge.schema, done: awards.count, total: awards.count)
        record(Badge.schema, badges.count)
        record(UserBadge.schema, awards.count)
        record(Referral.schema, referrals.count)
    }

    /// The platform's badges, drawn in a fixed order.
    static func makeBadges(_ rng: inout SeededRandom) -> [Badge] {
        let firstActivity = Badge(
            id: rng.uuid(), key: "first_activity", nameNb: "Første aktivitet", nameEn: "First activity",
            ruleKind: .activityCount, ruleThreshold: 1, descriptionNb: "Du har registrert din første aktivitet.",
            descriptionEn: "You logged your first activity.", iconKey: "star", sortOrder: 10)
        let fifty = Badge(
            id: rng.uuid(), key: "activities_50", nameNb: "50 aktiviteter", nameEn: "50 activities",
            ruleKind: .activityCount, ruleThreshold: 50, descriptionNb: "Du har registrert 50 aktiviteter.",
            descriptionEn: "You logged 50 activities.", iconKey: "medal", sortOrder: 20)
        let twoFifty = Badge(
            id: rng.uuid(), key: "activities_250", nameNb: "250 aktiviteter", nameEn: "250 activities",
            ruleKind: .activityCount, ruleThreshold: 250, descriptionNb: "Du har registrert 250 aktiviteter.",
            descriptionEn: "You logged 250 activities.", iconKey: "trophy", sortOrder: 30)
        let course = Badge(
            id: rng.uuid(), key: "course_completed", nameNb: "Kurs fullført", nameEn: "Course completed",
            ruleKind: .coursesCompleted, ruleThreshold: 1, descriptionNb: "Du har fullført et kurs.",
            descriptionEn: "You completed a course.", iconKey: "graduation-cap", sortOrder: 40)
        let fiveYears = Badge(
            id: rng.uuid(), key: "years_of_service_5", nameNb: "Fem års innsats", nameEn: "Five years of service",
            ruleKind: .yearsOfService, ruleThreshold: 5, descriptionNb: "Fem år som likeperson.",
            descriptionEn: "Five years as a peer mentor.", iconKey: "heart", sortOrder: 50)
        let enthusiast = Badge(
            id: rng.uuid(), key: "enthusiast", nameNb: "Ildsjel", nameEn: "Enthusiast", ruleKind: .manual,
            descriptionNb: "Tildelt for en helt spesiell innsats.", descriptionEn: "Awarded for an outstanding effort.",
            iconKey: "flame", sortOrder: 60)
        return [firstActivity, fifty, twoFifty, course, fiveYears, enthusiast]
    }

    func writeNotificationPreferences() async throws {
        var rng = stream(.notifications)
        var preferences: [NotificationPreference] = []
        for userID in allUserIDs {
            let quietHours: (String, String)? = rng.chance(0.3) ? rng.pick([("22:00", "07:00"), ("23:00", "06:30")]) : nil
            let overrides: [Notification.Scenario: [Notification.Channel]] =
                rng.chance(0.1) ? [.eventReminder: [.email], .expensePaid: [.push, .inApp]] : [:]
            preferences.append(
                NotificationPreference(
                    id: rng.uuid(), userID: userID, pushEnabled: rng.chance(0.9), emailEnabled: rng.chance(0.85),
                    smsEnabled: rng.chance(0.1), inAppEnabled: true, quietHoursStart: quietHours?.0,
                    quietHoursEnd: quietHours?.1, scenarioOverrides: overrides))
        }
        try await writer.insert(preferences)
        writer.report(NotificationPreference.schema, done: preferences.count, total: preferences.count)
        record(NotificationPreference.schema, preferences.count)
    }
}

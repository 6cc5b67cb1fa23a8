import FluentKit
import Foundation

/// Chapter and regional events over both years (and the rest of the current one), with their registrations.
extension DemoDataGenerator {
    static let eventTitles = [
        "Medlemsmøte", "Kafétreff", "Temakveld: universell utforming", "Temakveld: rettigheter og NAV",
        "Likepersonsamling", "Tur i nærmiljøet", "Bowlingkveld", "Aktivitetsdag", "Vårfest", "Quiz og vafler",
        "Temakveld: hjelpemidler", "Svømmekveld",
    ]

    func writeEvents() async throws {
        var rng = stream(.events)
        var events: [Event] = []
        var registrations: [EventRegistration] = []
        pastEventsByChapter = Array(repeating: [], count: chapters.count)
        let eventTypeID = activityTypes["event_participation"]?.id

        /// Members who may sign up: the chapter's (or region's) mentors who are still around, and coordinators.
        func pool(chapterIndexes: [Int]) -> [UUID] {
            chapterIndexes.flatMap { index in
                mentorsByChapter[index].filter { mentors[$0].canWork }.map { mentors[$0].id } + coordinatorIDs[index]
            }
        }

        func makeEvent(
            org: DemoOrg, createdBy: UUID, registeredBy: UUID, members: [UUID], year: Int, visibility: Event.Visibility,
            rng: inout SeededRandom
        ) -> (id: UUID, day: Int, minute: Int, held: Bool) {
            let yearStart = DemoCalendar.day(year: year, month: 1, day: 1)
            let yearEnd = DemoCalendar.day(year: year + 1, month: 1, day: 1)
            var day = rng.int(yearStart...(yearEnd - 1))
            if DemoCalendar.weekday(day: day) == 6 { day -= 1 }  // not on Sundays
            let (_, month, _) = DemoCalendar.civil(day: day)
            let saturday = DemoCalendar.weekday(day: day) == 5
            let minute = saturday ? rng.int(20...24) * 30 : rng.int(32...36) * 30  // 10:00–12:00 or 16:00–18:00 UTC
            let hours = saturday ? rng.int(3...6) : rng.int(2...3)
            let startsAt = DemoCalendar.date(day: day, minute: minute)
            let endsAt = DemoCalendar.date(day: day, minute: minute + hours * 60)
            let title =
                month == 12
                ? rng.pick(["Julebord", "Juleavslutning"])
                : month == 6 ? "Sommeravslutning" : rng.pick(Self.eventTitles)
            let isOnline = rng.chance(0.1)
            let town = org.town?.name ?? rng.pick(chapters.filter { $0.regionIndex == org.regionIndex }).town?.name ?? "Oslo"
            let capacity: Int? = rng.chance(0.7) ? rng.int(2...6) * 10 : nil
            let held = day < DemoCalendar.referenceDay
            let status: Event.Status =
                held ? (rng.chance(0.9) ? .completed : .cancelled) : (rng.chance(0.85) ? .published : .draft)
            let counts = eventTypeID != nil && rng.chance(0.6)
            let id = rng.uuid()
            events.append(
                Event(
                    id: id, organizationID: org.id, createdByID: createdBy,
                    title: title + (visibility == .subtree ? " i regionen" : ""), startsAt: startsAt, endsAt: endsAt,
                    details: "Velkommen til \(title.lowercased()) i \(org.name)! Si gjerne fra om du trenger tilrettelegging.",
                    place: isOnline
                        ? nil
                        : rng.pick(["Frivilligsentralen", "Samfunnshuset", "Biblioteket", "Kulturhuset"])
                            + " i " + town,
                    isOnline: isOnline, capacity: capacity,
                    registrationDeadline: DemoCalendar.date(day: day - 2, minute: 1_320), visibility: visibility,
                    status: status, countsForBufdir: counts, activityTypeID: counts ? eventTypeID : nil))

            guard status != .draft, !members.isEmpty else { return (id, day, minute, false) }
            let wanted = rng.sample(members, count: rng.int(4...((capacity ?? 30) + 6)))
            var seats = capacity ?? Int.max
            var waitlist = 0
            for user in wanted {
                let onBehalf = rng.chance(0.15) && user != registeredBy
                let registration = EventRegistration(
                    id: rng.uuid(), organizationID: org.id, eventID: id, userID: user,
                    registeredByID: onBehalf ? registeredBy : user)
                if status == .cancelled || (held && rng.chance(0.1)) {
                    registration.status = .cancelled
                    registration.cancelledAt = DemoCalendar.date(day: day - rng.int(1...5), minute: rng.int(480...1_200))
                } else if seats > 0 {
                    seats -= 1
                    if held {
                        let attended = rng.chance(0.88)
                        registration.status = attended ? .attended : .noShow
                        registration.checkedInAt = attended ? DemoCalendar.date(day: day, minute: minute - rng.int(0...20)) : nil
                    }
                } else {
                    waitlist += 1
                    registration.status = .waitlisted
                    registration.waitlistPosition = waitlist
                }
                registrations.append(registration)
            }
            return (id, day, minute, held && status == .completed)
        }

        for year in [DemoCalendar.previousYear, DemoCalendar.currentYear] {
            for (chapterIndex, chapter) in chapters.enumerated() {
                let members = pool(chapterIndexes: [chapterIndex])
                let coordinator = coordinatorIDs[chapterIndex][0]
                let workers = mentorsByChapter[chapterIndex].filter { mentors[$0].canWork }
                for _ in 0..<plan.eventsPerChapterPerYear {
                    let creator = !workers.isEmpty && rng.chance(0.25) ? mentors[rng.pick(workers)].id : coordinator
                    let event = makeEvent(
                        org: chapter, createdBy: creator, registeredBy: coordinator, members: members, year: year,
                        visibility: .organization, rng: &rng)
                    if event.held {
                        pastEventsByChapter[chapterIndex].append(DemoEventRef(id: event.id, day: event.day, minute: event.minute))
                    }
                }
            }
            for (regionIndex, region) in regions.enumerated() {
                let members = pool(chapterIndexes: chapters.indices.filter { chapters[$0].regionIndex == regionIndex })
                _ = makeEvent(
                    org: region, createdBy: regionAdminIDs[regionIndex], registeredBy: regionAdminIDs[regionIndex],
                    members: members, year: year, visibility: .subtree, rng: &rng)
            }
        }

        let (finalEvents, finalRegistrations) = (events, registrations)
        let writer = self.writer
        try await writer.transaction { tx in
            try await writer.insert(finalEvents, on: tx)
            try await writer.insert(finalRegistrations, on: tx)
        }
        writer.report(Event.schema, done: events.count, total: events.count)
        record(Event.schema, events.count)
        record(EventRegistration.schema, registrations.count)
    }
}

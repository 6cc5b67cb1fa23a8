import FluentKit
import Foundation

/// Two years of activities, generated and written chunk by chunk.
extension DemoDataGenerator {
    /// Relative share of each global activity type among logged activities.
    static let activityTypeWeights: [(key: String, weight: Double)] = [
        ("home_visit", 24), ("phone_call", 24), ("video_call", 7), ("group_meeting", 13),
        ("escort_to_appointment", 8), ("information_stand", 4), ("course_day", 3), ("mentor_training", 3),
        ("event_participation", 6), ("digital_message", 8),
    ]

    static let abroad: [(country: String, place: String)] = [
        ("SE", "Strömstad"), ("DK", "København"), ("ES", "Gran Canaria"), ("DE", "Berlin"), ("FI", "Helsingfors"),
    ]

    static let rejectionReasons = [
        "Dobbeltregistrert", "Mangler dokumentasjon", "Feil aktivitetstype", "Ikke likepersonarbeid",
    ]

    /// Days of the period weighted by when volunteers work: weekdays most, Sundays least, July and the Christmas
    /// week at half speed. Drawing uniformly from this list draws days with those weights.
    static let activityDayTable: [Int] = {
        var table: [Int] = []
        for day in 0..<DemoCalendar.referenceDay {
            let weekday = DemoCalendar.weekday(day: day)
            let (_, month, dayOfMonth) = DemoCalendar.civil(day: day)
            var weight = weekday < 5 ? 4 : weekday == 5 ? 2 : 1
            if month == 7 || (month == 12 && dayOfMonth >= 22) || (month == 1 && dayOfMonth == 1) {
                weight = max(1, weight / 2)
            }
            table.append(contentsOf: repeatElement(day, count: weight))
        }
        return table
    }()

    func writeActivities() async throws {
        let context = try ActivityContext(generator: self)
        activityStats = Array(repeating: DemoActivityStats(), count: mentors.count)
        let base = stream(.activities)
        let total = plan.activities
        let chunkCount = (total + plan.activityChunk - 1) / plan.activityChunk
        let writer = self.writer

        // Generating chunk k + 1 (on this task) overlaps writing chunk k (on the connection's event loop, where
        // Fluent does its per-row work; a second transaction in flight would queue on that same loop).
        var pending: Task<Void, any Error>?
        var written = 0
        do {
            for chunk in 0..<chunkCount {
                let count = min(plan.activityChunk, total - chunk * plan.activityChunk)
                var rng = base.fork(UInt64(chunk) + 1)
                var models: [Activity] = []
                models.reserveCapacity(count)
                for _ in 0..<count {
                    models.append(makeActivity(&rng, context: context))
                }
                if let pending {
                    try await pending.value
                    written += plan.activityChunk
                    writer.report(Activity.schema, done: written, total: total)
                }
                let batch = models
                pending = Task { try await writer.insert(batch) }
            }
            try await pending?.value
        } catch {
            pending?.cancel()
            throw error
        }
        writer.report(Activity.schema, done: total, total: total)
        record(Activity.schema, total)
    }

    /// One activity: a chapter, a mentor weighted by how busy they are, a type, a contact for one-to-one work, and
    /// the when, how long, how many and how it went.
    private func makeActivity(_ rng: inout SeededRandom, context: ActivityContext) -> Activity {
        let chapterIndex = context.workingChapters[rng.int(0...(context.workingChapters.count - 1))]
        let chapter = chapters[chapterIndex]
        let pool = context.pools[chapterIndex]
        let mentorIndex = pool.mentors[rng.weightedIndex(pool.cumulative)]
        let mentor = mentors[mentorIndex]
        var type = context.types[rng.weightedIndex(context.typeCumulative)]
        let mentorContacts = contactsByMentor[mentorIndex]
        if type.isOneToOne && mentorContacts.isEmpty { type = context.groupType }
        let contact = type.isOneToOne ? contacts[Int(rng.pick(mentorContacts))] : nil

        var day = -1
        var minute = 0
        var eventID: UUID?
        if type.key == "event_participation" {
            let held = pastEventsByChapter[chapterIndex]
            for _ in 0..<3 where !held.isEmpty {
                let event = rng.pick(held)
                if event.day >= mentor.firstDay && event.day < mentor.lastDay {
                    (day, minute, eventID) = (event.day, event.minute, event.id)
                    break
                }
            }
        }
        if eventID == nil {
            day = Self.pickDay(&rng, from: mentor.firstDay, to: mentor.lastDay)
            minute = rng.int(28...76) * 15  // 07:00–19:00 UTC
        }
        let occurredAt = DemoCalendar.date(day: day, minute: minute)

        let duration: Int
        let participants: Int
        switch type.key {
        case "phone_call": (duration, participants) = (rng.int(2...12) * 5, 1)
        case "video_call": (duration, participants) = (rng.int(4...12) * 5, 1)
        case "digital_message": (duration, participants) = (rng.int(1...6) * 5, 1)
        case "home_visit": (duration, participants) = (rng.int(3...10) * 15, rng.chance(0.1) ? 2 : 1)
        case "escort_to_appointment": (duration, participants) = (rng.int(4...16) * 15, 1)
        case "group_meeting":
            (duration, participants) = (rng.chance(0.08) ? 30 : rng.int(4...12) * 15, rng.chance(0.1) ? 2 : rng.int(3...14))
        case "information_stand": (duration, participants) = (rng.int(4...16) * 15, rng.int(5...60))
        case "course_day": (duration, participants) = (rng.int(8...28) * 15, rng.int(4...20))
        case "mentor_training": (duration, participants) = (rng.chance(0.1) ? 60 : rng.int(6...24) * 15, rng.int(3...16))
        case "event_participation": (duration, participants) = (rng.int(4...16) * 15, rng.int(5...80))
        default: (duration, participants) = (rng.int(2...8) * 15, 1)
        }

        // Where: abroad now and then (not for calls), otherwise the contact's municipality or the chapter's area.
        var countryCode = "NO"
        var municipalityCode: String?
        var place: String?
        if type.channel == .inPerson && eventID == nil && rng.chance(0.003) {
            let destination = rng.pick(Self.abroad)
            (countryCode, place) = (destination.country, destination.place)
        } else {
            municipalityCode =
                contact?.municipalityCode
                ?? (rng.chance(0.7) ? chapter.town?.code : pickMunicipality(&rng, chapter: chapter).code)
            place = type.place(&rng)
        }

        // How it went: recent work still waits for review.
        let age = DemoCalendar.referenceDay - day
        let roll = rng.int(0..<100)
        let status: Activity.Status =
            age < 14
            ? (roll < 35 ? .draft : roll < 85 ? .registered : .approved)
            : (roll < 3 ? .draft : roll < 12 ? .registered : roll < 16 ? .rejected : .approved)
        let coordinator = coordinatorIDs[chapterIndex][0]
        let onBehalf = rng.chance(0.08)

        let id = rng.uuid()
        let clientID = rng.uuid()
        let verdict = Self.bufdirVerdict(
            type: type, participants: participants, minutes: duration, countryCode: countryCode, status: status)
        let activity = Activity(
            id: id, organizationID: chapter.id, mentorID: mentor.id, activityTypeID: type.id, occurredAt: occurredAt,
            durationMinutes: duration, registeredByID: onBehalf ? coordinator : mentor.id, contactID: contact?.id,
            eventID: eventID, clientID: clientID, participantCount: participants, place: place, channel: type.channel,
            countryCode: countryCode, municipalityCode: municipalityCode, status: status,
            countsForBufdir: verdict == nil, bufdirReason: verdict)
        switch status {
        case .approved:
            activity.$approvedBy.id = coordinator
            let approvedAt = occurredAt.addingTimeInterval(TimeInterval(rng.int(1...10) * 86_400 + rng.int(0...480) * 60))
            activity.approvedAt = min(approvedAt, DemoCalendar.referenceDate.addingTimeInterval(-60))
        case .rejected:
            activity.rejectionReason = rng.pick(Self.rejectionReasons)
        case .draft, .registered:
            break
        }

        activityStats[mentorIndex].count += 1
        activityStats[mentorIndex].firstDay = min(activityStats[mentorIndex].firstDay, day)
        activityStats[mentorIndex].lastDay = max(activityStats[mentorIndex].lastDay, day)
        return activity
    }

    /// A working day of the mentor, weighted like `activityDayTable` when the mentor worked throughout.
    static func pickDay(_ rng: inout SeededRandom, from first: Int, to last: Int) -> Int {
        for _ in 0..<4 {
            let day = activityDayTable[rng.int(0...(activityDayTable.count - 1))]
            if day >= first && day < last { return day }
        }
        return rng.int(first...(last - 1))
    }

    /// Whether the activity counts for Bufdir as logged, approximating the counting rules of DOMAIN.md: nil when it
    /// counts, otherwise the machine-readable reason it does not.
    static func bufdirVerdict(
        type: DemoActivityKind, participants: Int, minutes: Int, countryCode: String, status: Activity.Status
    ) -> String? {
        if !type.reportable { return "type_not_reportable" }
        if countryCode != "NO" { return "outside_norway" }
        if status == .rejected { return "rejected" }
        switch type.key {
        case "group_meeting":
            if participants < 3 { return "too_few_participants" }
            if minutes < 45 { return "too_short" }
        case "mentor_training":
            if minutes < 90 { return "too_short" }
        default:
            break
        }
        return nil
    }
}

/// A global activity type as the generator uses it.
struct DemoActivityKind: Sendable {
    let id: UUID
    let key: String
    let reportable: Bool
    let isOneToOne: Bool
    let channel: Activity.Channel

    func place(_ rng: inout SeededRandom) -> String? {
        switch key {
        case "home_visit": "Hjemme hos kontakten"
        case "escort_to_appointment": rng.pick(["Legekontoret", "Sykehuset", "NAV-kontoret", "Hjelpemiddelsentralen"])
        case "group_meeting": rng.pick(["Frivilligsentralen", "Lokallagets lokaler", "Biblioteket", "Kafé"])
        case "information_stand": rng.pick(["Kjøpesenteret", "Torget", "Sykehusets vestibyle", "Rådhuset"])
        case "course_day", "mentor_training": rng.pick(["Kurssenteret", "Hotellets møtesal", "Frivilligsentralen"])
        case "event_participation": "Arrangement i lokallaget"
        default: nil
        }
    }
}

/// Lookup tables for generating activities, built once per load.
struct ActivityContext {
    struct Pool {
        let mentors: [Int]
        let cumulative: [Double]
    }

    let types: [DemoActivityKind]
    let typeCumulative: [Double]
    let groupType: DemoActivityKind
    /// Per chapter, the mentors who can log work and their weights.
    let pools: [Pool]
    /// Chapters with at least one working mentor.
    let workingChapters: [Int]

    init(generator: DemoDataGenerator) throws {
        var types: [DemoActivityKind] = []
        var weights: [Double] = []
        for (key, weight) in DemoDataGenerator.activityTypeWeights {
            guard let type = generator.activityTypes[key] else { continue }
            let channel: Activity.Channel =
                switch key {
                case "phone_call": .phone
                case "video_call": .video
                case "digital_message": .digital
                default: .inPerson
                }
            types.append(
                DemoActivityKind(
                    id: type.id, key: key, reportable: type.reportable, isOneToOne: type.category == .oneToOne,
                    channel: channel))
            weights.append(weight)
        }
        guard let group = types.first(where: { $0.key == "group_meeting" }) else {
            throw AppError(.internalError, "The global activity type group_meeting is missing.")
        }
        self.types = types
        self.typeCumulative = cumulativeWeights(weights)
        self.groupType = group
        let pools = generator.mentorsByChapter.map { indexes in
            let working = indexes.filter { generator.mentors[$0].canWork }
            return Pool(mentors: working, cumulative: cumulativeWeights(working.map { generator.mentors[$0].weight }))
        }
        self.pools = pools
        self.workingChapters = pools.indices.filter { !pools[$0].mentors.isEmpty }
        guard !workingChapters.isEmpty else {
            throw AppError(.internalError, "The demo plan has no mentor who can log activities.")
        }
    }
}

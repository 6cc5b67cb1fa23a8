import FluentKit
import Foundation
import Logging
import SQLKit

/// Generates the demo data set of one plan and seed and writes it through the Fluent models.
///
/// Each step draws from its own sub-stream of the seed (`SeededRandom.fork`), so that a change to one part of the
/// data set does not shift the others, and keeps only light descriptions of what it wrote (ids, days, indexes) for
/// the later steps. Activities are generated and written chunk by chunk, so memory stays bounded in the large set.
/// Nothing reads the wall clock or `UUID()`: dates come from `DemoCalendar`, ids from the seed.
final class DemoDataGenerator {
    static let defaultSeed: UInt64 = 2026

    /// Placeholder for ids that a step fills in before anything reads them.
    static let unsetID = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    let plan: DemoPlan
    let tenant: DemoTenant
    let root: SeededRandom
    let passwordHash: String
    let writer: DemoWriter
    let logger: Logger
    /// What the tenants of one load share: the platform's operator and badges, and the unique codes drawn so far.
    let shared: DemoShared

    /// (table, rows written), in writing order.
    var counts: [(String, Int)] = []

    // What the steps wrote, for the steps after them.
    var activityTypes: [String: DemoActivityType] = [:]
    var national: DemoOrg?
    var regions: [DemoOrg] = []
    var chapters: [DemoOrg] = []
    var nationalAdminID = DemoDataGenerator.unsetID
    var platformAdminID = DemoDataGenerator.unsetID
    var regionAdminIDs: [UUID] = []
    /// Per chapter; the first is the one who approves and decides there.
    var coordinatorIDs: [[UUID]] = []
    var mentors: [DemoMentor] = []
    var mentorsByChapter: [[Int]] = []
    var allUserIDs: [UUID] = []
    var contacts: [DemoContact] = []
    var contactsByMentor: [[Int32]] = []
    var pastEventsByChapter: [[DemoEventRef]] = []
    var activityStats: [DemoActivityStats] = []
    /// First certificate per user, for the `course_completed` badge.
    var firstCompletedCourse: [UUID: Date] = [:]

    /// A generator of `tenant` under `plan`. The first tenant draws from `SeededRandom(seed: seed)` itself, every other
    /// one from its own fork of it, so that adding a tenant does not shift the first one's data.
    init(
        plan: DemoPlan, tenant: DemoTenant = .first, seed: UInt64, passwordHash: String, writer: DemoWriter, logger: Logger,
        shared: DemoShared = DemoShared()
    ) {
        self.plan = plan
        self.tenant = tenant
        let seeded = SeededRandom(seed: seed)
        self.root = tenant.streamLabel.map { seeded.fork($0) } ?? seeded
        self.passwordHash = passwordHash
        self.writer = writer
        self.logger = logger
        self.shared = shared
    }

    /// Writes every part in dependency order and returns what was written.
    func run() async throws -> DemoSummary {
        try await loadActivityTypes()
        try await writeOrganizations()
        try await writeUsers()
        try await writeContacts()
        try await writeEvents()
        try await writeActivities()
        try await writeExpenses()
        try await writeCourses()
        try await writeRecognition()
        try await writeNotificationPreferences()
        return DemoSummary(counts: counts)
    }

    /// Sub-streams, one per step; the labels are part of the data set's identity, never reuse or renumber them.
    enum Stream: UInt64 {
        case organizations = 1
        case users, contacts, events, activities, expenses, courses, recognition, notifications
    }

    func stream(_ stream: Stream) -> SeededRandom {
        root.fork(stream.rawValue)
    }

    func record(_ table: String, _ rows: Int) {
        counts.append((table, rows))
        logger.debug("Demo data written", metadata: ["table": "\(table)", "rows": "\(rows)"])
    }

    /// The global activity types seeded by `SeedGlobalActivityTypes`, by key.
    private func loadActivityTypes() async throws {
        let types = try await ActivityType.query(on: writer.db).filter(\.$organization.$id == nil).all()
        for type in types {
            guard let id = type.id else { continue }
            activityTypes[type.key] = DemoActivityType(
                id: id, key: type.key, category: type.bufdirCategory, reportable: type.reportable)
        }
        guard activityTypes["home_visit"] != nil, activityTypes["group_meeting"] != nil else {
            throw AppError(.internalError, "The global activity types are missing; run the migrations first.")
        }
    }
}

// MARK: - Tenants

/// One tenant of the data set: a national organisation with its own tree, people, names and e-mail domain.
struct DemoTenant: Sendable {
    let nationalName: String
    /// Chapters are called this followed by their town.
    let chapterPrefix: String
    /// Every user's e-mail domain; the fixed logins are `<role>@<domain>`.
    let emailDomain: String
    let courseVenue: String
    /// Certificates are numbered `<prefix>-<year>-00001` (numbers are unique across tenants).
    let certificatePrefix: String
    /// The first tenant also writes what the platform has once: its operator and its badges.
    let writesPlatform: Bool
    /// The label of the tenant's fork of the seed; nil for the first tenant, which uses the seed itself.
    let streamLabel: UInt64?

    /// Norges Handikapforbund: the demo's main tenant, sized by `--size`.
    static let first = DemoTenant(
        nationalName: "Norges Handikapforbund", chapterPrefix: "NHF ", emailDomain: "demo.meander.no",
        courseVenue: "Handikapforbundets kurssenter, Oslo", certificatePrefix: "NHF", writesPlatform: true, streamLabel: nil)

    /// A small, fictional patient organisation (heart and lung disease), the same at every size, so that isolation
    /// between tenants can be tried on data.
    static let second = DemoTenant(
        nationalName: "Landsforeningen Hjerte og Pust", chapterPrefix: "Hjerte og Pust ", emailDomain: "demo2.meander.no",
        courseVenue: "Hjerte og Pusts kurssenter, Trondheim", certificatePrefix: "HOP", writesPlatform: false,
        streamLabel: 1_001)

    /// Roles with a fixed sign-in account in every tenant, in the order `meander demo` prints them.
    static let loginRoles: [UserRole.Role] = [.peerMentor, .coordinator, .orgAdmin, .nationalAdmin]

    /// The fixed sign-in account of `role` in this tenant.
    func loginEmail(_ role: UserRole.Role) -> String {
        role.rawValue + "@" + emailDomain
    }
}

/// What the tenants of one load share. The first tenant fills in the platform's operator and badges; the sets keep
/// codes that must be unique across tenants unique.
final class DemoShared {
    var platformAdminID: UUID?
    var badges: [String: UUID] = [:]
    var orgNumbers = Set<String>()
    var certificateCodes = Set<String>()
    var referralCodes = Set<String>()
}

// MARK: - Plan

/// How much of everything a size holds.
struct DemoPlan: Sendable {
    /// A region and the counties its chapters serve.
    struct Region: Sendable {
        let name: String
        let countyCodes: [String]
    }

    let size: DemoSize
    private(set) var regions: [Region]
    private(set) var chaptersPerRegion: Int
    private(set) var coordinatorsPerChapter: Int
    private(set) var mentorsPerChapter: Int
    private(set) var contactsPerChapter: Int
    private(set) var activities: Int
    private(set) var eventsPerChapterPerYear: Int
    private(set) var nationalCoursesPerYear: Int
    private(set) var regionalCoursesPerYear: Int
    /// Chance that a mentor claims expenses in a given month.
    private(set) var claimChancePerMonth: Double
    /// Activities generated and committed per transaction. A constant of the plan, never of the engine, because the
    /// chunk index seeds the chunk's random stream.
    let activityChunk = 10_000

    init(size: DemoSize) {
        self.size = size
        switch size {
        case .small:
            regions = [
                Region(name: "NHF Region Øst", countyCodes: ["03", "31", "32", "33", "34"]),
                Region(name: "NHF Region Sør og Vest", countyCodes: ["46", "11", "42", "39", "40"]),
                Region(name: "NHF Region Midt og Nord", countyCodes: ["50", "18", "15", "55", "56"]),
            ]
            chaptersPerRegion = 2
            coordinatorsPerChapter = 1
            mentorsPerChapter = 10
            contactsPerChapter = 50
            activities = 5_000
            eventsPerChapterPerYear = 4
            nationalCoursesPerYear = 2
            regionalCoursesPerYear = 1
            claimChancePerMonth = 0.2
        case .large:
            regions = [
                Region(name: "NHF Region Oslo og Akershus", countyCodes: ["03", "32"]),
                Region(name: "NHF Region Øst", countyCodes: ["31", "33"]),
                Region(name: "NHF Region Innlandet", countyCodes: ["34"]),
                Region(name: "NHF Region Sør", countyCodes: ["42", "39", "40"]),
                Region(name: "NHF Region Rogaland", countyCodes: ["11"]),
                Region(name: "NHF Region Vest", countyCodes: ["46"]),
                Region(name: "NHF Region Midt", countyCodes: ["50", "15"]),
                Region(name: "NHF Region Nord", countyCodes: ["18", "55", "56"]),
            ]
            chaptersPerRegion = 5
            coordinatorsPerChapter = 2
            mentorsPerChapter = 50
            contactsPerChapter = 1_250
            activities = 1_000_000
            eventsPerChapterPerYear = 6
            nationalCoursesPerYear = 3
            regionalCoursesPerYear = 2
            claimChancePerMonth = 0.15
        }
    }

    /// The second tenant's plan, the same at every size: one region of two chapters in Trøndelag, 12 mentors,
    /// 40 contacts and 600 activities.
    static let secondTenant: DemoPlan = {
        var plan = DemoPlan(size: .small)
        plan.regions = [Region(name: "Hjerte og Pust Midt-Norge", countyCodes: ["50"])]
        plan.chaptersPerRegion = 2
        plan.coordinatorsPerChapter = 1
        plan.mentorsPerChapter = 6
        plan.contactsPerChapter = 20
        plan.activities = 600
        plan.eventsPerChapterPerYear = 2
        plan.nationalCoursesPerYear = 1
        plan.regionalCoursesPerYear = 0
        return plan
    }()
}

// MARK: - What the steps remember

/// An organisation written by the generator.
struct DemoOrg {
    let id: UUID
    let name: String
    let regionIndex: Int
    /// The chapter's home municipality (nil for the national organisation and the regions).
    let town: Municipality?
    /// Counties whose municipalities the chapter's contacts live in.
    let catchment: [String]
    let mileageRateKind: Organization.MileageRateKind
    let autoApprovalLimitOre: Int?
}

/// A peer mentor: the chapter, the days in which they may log work, and how busy they are.
struct DemoMentor {
    let id: UUID
    let chapter: Int
    let joinDay: Int
    /// The first and one past the last `DemoCalendar` day on which the mentor works (empty: never).
    let firstDay: Int
    let lastDay: Int
    /// Relative share of the chapter's activities.
    let weight: Double
    let isDriver: Bool

    var canWork: Bool { firstDay < lastDay && weight > 0 }
}

struct DemoContact {
    let id: UUID
    let chapter: Int
    let municipalityCode: String
}

struct DemoActivityType: Sendable {
    let id: UUID
    let key: String
    let category: ActivityType.BufdirCategory
    let reportable: Bool
}

/// A held chapter event that an `event_participation` activity can point to.
struct DemoEventRef {
    let id: UUID
    let day: Int
    let minute: Int
}

/// Per mentor: how many activities were written and the days of the first and last.
struct DemoActivityStats {
    var count = 0
    var firstDay = Int.max
    var lastDay = Int.min
}

// MARK: - Writer

/// Writes models in multi-row INSERTs inside transactions, within the engine's bind-parameter limit.
struct DemoWriter: Sendable {
    let db: any Database
    let progress: ProgressReporter?
    /// PostgreSQL allows 65,535 bind parameters per statement, SQLite (3.32 and later) 32,766.
    let maxBindParameters: Int

    init(db: any Database, progress: ProgressReporter?) {
        self.db = db
        self.progress = progress
        let isSQLite = (db as? any SQLDatabase)?.dialect.name == "sqlite"
        self.maxBindParameters = isSQLite ? 32_766 : 65_535
    }

    /// Rows per INSERT for `M`: Fluent's batch create binds every column of every row.
    func rowsPerStatement<M: Model>(_: M.Type) -> Int {
        max(1, maxBindParameters / max(1, M.keys.count))
    }

    /// Inserts `models` on `db` (a transaction's database, usually) in as few statements as the limit allows.
    func insert<M: Model>(_ models: [M], on db: any Database) async throws {
        let rows = rowsPerStatement(M.self)
        var start = models.startIndex
        while start < models.endIndex {
            let end = min(start + rows, models.endIndex)
            try await Array(models[start..<end]).create(on: db)
            start = end
        }
    }

    /// Inserts `models` in one transaction.
    func insert<M: Model>(_ models: [M]) async throws {
        guard !models.isEmpty else { return }
        try await db.transaction { tx in
            try await self.insert(models, on: tx)
        }
    }

    func transaction(_ body: @escaping @Sendable (any Database) async throws -> Void) async throws {
        try await db.transaction(body)
    }

    func report(_ label: String, done: Int, total: Int) {
        progress?.update(label, done: done, total: total)
    }
}

// MARK: - Calendar

/// The fixed time frame of the data set: as of `referenceDate` (2026-11-01T00:00:00Z), covering the previous and the
/// current calendar year (2025 and 2026). A "day" is a whole UTC day counted from 2025-01-01 (day 0); negative days
/// lie before it. Plain arithmetic on the proleptic Gregorian calendar, so no time zone database or locale can make
/// two machines disagree.
enum DemoCalendar {
    static let previousYear = 2025
    static let currentYear = 2026
    /// Day 0: 2025-01-01 as days since 1970-01-01.
    static let originEpochDay = epochDay(year: previousYear, month: 1, day: 1)
    /// The data set is as of this day (2026-11-01): activities happen before it, events and courses may come after.
    static let referenceDay = epochDay(year: currentYear, month: 11, day: 1) - originEpochDay
    static let referenceDate = date(day: referenceDay)
    /// One past the last day of the current year (2027-01-01).
    static let endDay = epochDay(year: currentYear + 1, month: 1, day: 1) - originEpochDay

    static let monthNames = [
        "januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september", "oktober", "november",
        "desember",
    ]

    static func date(day: Int, minute: Int = 0) -> Date {
        Date(timeIntervalSince1970: TimeInterval((originEpochDay + day) * 86_400 + minute * 60))
    }

    /// The day a date falls on (UTC).
    static func day(of date: Date) -> Int {
        Int((date.timeIntervalSince1970 / 86_400).rounded(.down)) - originEpochDay
    }

    static func day(year: Int, month: Int, day: Int) -> Int {
        epochDay(year: year, month: month, day: day) - originEpochDay
    }

    static func civil(day: Int) -> (year: Int, month: Int, day: Int) {
        civil(epochDay: originEpochDay + day)
    }

    /// `yyyy-MM-dd`.
    static func isoDate(day: Int) -> String {
        let (year, month, dayOfMonth) = civil(day: day)
        return String(year) + "-" + pad2(month) + "-" + pad2(dayOfMonth)
    }

    /// 0 = Monday … 6 = Sunday.
    static func weekday(day: Int) -> Int {
        ((originEpochDay + day + 3) % 7 + 7) % 7
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        let next = month == 12 ? (year + 1, 1) : (year, month + 1)
        return epochDay(year: next.0, month: next.1, day: 1) - epochDay(year: year, month: month, day: 1)
    }

    /// The same day of the month `months` later (clamped to the month's length).
    static func addingMonths(_ months: Int, to day: Int) -> Int {
        let (year, month, dayOfMonth) = civil(day: day)
        let total = year * 12 + (month - 1) + months
        let newYear = total / 12
        let newMonth = total % 12 + 1
        return Self.day(year: newYear, month: newMonth, day: min(dayOfMonth, daysInMonth(year: newYear, month: newMonth)))
    }

    static func pad2(_ value: Int) -> String {
        value < 10 ? "0" + String(value) : String(value)
    }

    /// Days since 1970-01-01 of a civil date (Howard Hinnant's `days_from_civil`).
    static func epochDay(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The civil date of days since 1970-01-01 (Howard Hinnant's `civil_from_days`).
    static func civil(epochDay: Int) -> (year: Int, month: Int, day: Int) {
        let z = epochDay + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

// MARK: - Small helpers

extension SeededRandom {
    mutating func int(_ range: Range<Int>) -> Int {
        Int.random(in: range, using: &self)
    }

    /// An index into `cumulative` (running totals of weights), drawn in proportion to the weights.
    mutating func weightedIndex(_ cumulative: [Double]) -> Int {
        let target = Double.random(in: 0..<cumulative[cumulative.count - 1], using: &self)
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] > target { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// `count` distinct elements of `items`, in random order (a partial Fisher–Yates shuffle).
    mutating func sample<T>(_ items: [T], count: Int) -> [T] {
        var pool = items
        let count = min(count, pool.count)
        for index in 0..<count {
            pool.swapAt(index, int(index...(pool.count - 1)))
        }
        return Array(pool[0..<count])
    }

    /// A string of `length` characters from an alphabet without look-alikes (no 0/O, 1/I/L).
    mutating func code(length: Int) -> String {
        let alphabet = Array("ABCDEFGHJKMNPQRSTUVWXYZ23456789")
        return String((0..<length).map { _ in alphabet[int(0...(alphabet.count - 1))] })
    }

    /// A Norwegian mobile number, `+47` and eight digits starting with 4 or 9.
    mutating func mobileNumber() -> String {
        "+47" + String(pick([4, 9])) + String(int(1_000_000...9_999_999))
    }
}

/// Running totals of `weights`, for `SeededRandom.weightedIndex`.
func cumulativeWeights(_ weights: [Double]) -> [Double] {
    var total = 0.0
    return weights.map { weight in
        total += weight
        return total
    }
}

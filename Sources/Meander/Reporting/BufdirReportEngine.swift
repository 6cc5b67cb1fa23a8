import Fluent
import FluentSQL
import Foundation

// A read model. The Bufdir report's figures are aggregates over other capabilities' tables, read here and written
// nowhere: `activities`, `activity_types` and `activity_attachments` (Activities), `organizations`, `user_roles` and
// `organization_memberships` (Organizations), `course_enrollments` and `courses` (Courses), `events` (Events).
// Changes to those rows go through their owners; this file only counts them.

/// A report's period: calendar days in Norway, both inclusive, and the instants that bound them.
struct BufdirPeriod: Sendable, Equatable {
    let start: String
    let end: String
    /// The first instant of `start` in Norway.
    let from: Date
    /// The first instant after `end` in Norway.
    let until: Date

    static var calendar: Calendar { NorwegianCalendar.calendar }

    /// The period of `start` to `end` (`yyyy-MM-dd`), which must lie within `year`; nil when it does not.
    init?(start: String, end: String, year: Int) {
        guard let first = Self.date(start), let last = Self.date(end), first <= last,
            Self.calendar.component(.year, from: first) == year, Self.calendar.component(.year, from: last) == year,
            let after = Self.calendar.date(byAdding: .day, value: 1, to: last)
        else { return nil }
        self.start = start
        self.end = end
        self.from = first
        self.until = after
    }

    /// The calendar year.
    static func year(_ year: Int) -> BufdirPeriod? {
        BufdirPeriod(start: String(format: "%04d-01-01", year), end: String(format: "%04d-12-31", year), year: year)
    }

    /// Midnight in Norway at the start of a `yyyy-MM-dd` day.
    static func date(_ day: String) -> Date? {
        let parts = day.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3, day.count == 10 else { return nil }
        let components = DateComponents(year: parts[0], month: parts[1], day: parts[2])
        guard let date = calendar.date(from: components),
            calendar.dateComponents([.year, .month, .day], from: date) == DateComponents(year: parts[0], month: parts[1], day: parts[2])
        else { return nil }
        return date
    }

    /// How many calendar days in Norway from `start` to `end`, both counted.
    static func daysSpanned(_ start: Date, _ end: Date) -> Int {
        let first = calendar.startOfDay(for: start)
        let last = calendar.startOfDay(for: max(start, end))
        return (calendar.dateComponents([.day], from: first, to: last).day ?? 0) + 1
    }
}

/// The organisation tree and period a report covers, and the SQL that picks its counted activities.
///
/// An activity counts when the same rule code that judged it at logging time (`BufdirEligibility`, stored as
/// `counts_for_bufdir`) said it does, it is registered or approved, not deleted, of the report's organisation or one
/// below it, and happened within the period in Norway.
struct BufdirScope: Sendable {
    let rootID: UUID
    let organizationIDs: [UUID]
    let period: BufdirPeriod

    static func of(organizationID: UUID, period: BufdirPeriod, on db: any Database) async throws -> BufdirScope {
        let ids = try await OrganizationTree.subtreeIDs(of: [organizationID], on: db)
        return BufdirScope(rootID: organizationID, organizationIDs: ids.sorted { $0.uuidString < $1.uuidString }, period: period)
    }

    /// The WHERE clause over `activities a`.
    var counted: SQLQueryString {
        """
        a.organization_id IN (\(binds: organizationIDs)) AND a.deleted_at IS NULL AND a.counts_for_bufdir = \(bind: true)
        AND a.status IN ('registered', 'approved') AND a.occurred_at >= \(bind: period.from) AND a.occurred_at < \(bind: period.until)
        """
    }

    /// `activities a`'s day in Norway: `yyyy-MM-dd` text, or (`grouping`, on PostgreSQL) a cheaper `date`.
    func day(dialect: String, grouping: Bool = false) -> SQLQueryString {
        if dialect == "postgresql" {
            return grouping
                ? "CAST(a.occurred_at AT TIME ZONE 'Europe/Oslo' AS DATE)"
                : "to_char(a.occurred_at AT TIME ZONE 'Europe/Oslo', 'YYYY-MM-DD')"
        }
        // SQLite keeps instants as Unix seconds and knows no time zones: add one hour, or two in summer time, whose
        // bounds (in Unix seconds) come from the time zone database for the period's year and its neighbours.
        let summers = Self.summerTimeWindows(around: period.from)
        guard !summers.isEmpty else { return "date(a.occurred_at + 3600, 'unixepoch')" }
        let conditions = summers.map { "(a.occurred_at >= \(Int($0.lowerBound)) AND a.occurred_at < \(Int($0.upperBound)))" }
        return "date(a.occurred_at + CASE WHEN \(unsafeRaw: conditions.joined(separator: " OR ")) THEN 7200 ELSE 3600 END, 'unixepoch')"
    }

    /// Summer-time windows of Norway, as Unix seconds, from the year before `date` to the year after.
    static func summerTimeWindows(around date: Date) -> [Range<Double>] {
        let zone = BufdirPeriod.calendar.timeZone
        var windows: [Range<Double>] = []
        let year = BufdirPeriod.calendar.component(.year, from: date)
        guard var cursor = BufdirPeriod.calendar.date(from: DateComponents(year: year - 1, month: 1, day: 1)),
            let stop = BufdirPeriod.calendar.date(from: DateComponents(year: year + 2, month: 1, day: 1))
        else { return [] }
        while let begins = zone.nextDaylightSavingTimeTransition(after: cursor), begins < stop {
            guard let ends = zone.nextDaylightSavingTimeTransition(after: begins) else { break }
            if zone.isDaylightSavingTime(for: begins) {
                windows.append(begins.timeIntervalSince1970..<ends.timeIntervalSince1970)
            }
            cursor = ends
        }
        return windows
    }
}

/// Computes a report's figures: three aggregate queries over the counted activities, a few small ones for mentors,
/// members, events and courses, then `BufdirRollUp` in Swift.
enum BufdirReportEngine {
    static func compute(organizationID: UUID, period: BufdirPeriod, year: Int, on db: any Database) async throws -> BufdirFigures {
        let scope = try await BufdirScope.of(organizationID: organizationID, period: period, on: db)
        let rules = try await BufdirRules.load(year: year, on: db)
        let minPeople = rules?.integer("small_cell_suppression", "min_people") ?? 5
        async let activities = aggregating(on: db) { try await activityRows(scope, $0) }
        async let organizationPeople = aggregating(on: db) {
            try await peopleRows(scope, groupBy: "a.organization_id", as: UUID.self, $0)
        }
        async let countyPeople = aggregating(on: db) { try await peopleRows(scope, groupBy: county, as: String.self, $0) }
        let facts = try await factRows(scope, try db.sqlDatabase())
        let nodes = try await Organization.query(on: db).filter(\.$id ~~ scope.organizationIDs).all().map { organization in
            BufdirFigureRows.Node(
                id: organization.id ?? UUID(), parentID: organization.$parent.id, name: organization.name, kind: organization.kind)
        }
        return BufdirRollUp.figures(
            tree: nodes, rootID: organizationID, activities: try await activities,
            organizationPeople: try await organizationPeople, countyPeople: try await countyPeople, facts: facts, rulesYear: year,
            minPeople: minPeople)
    }

    static let county: SQLQueryString = "COALESCE(substr(a.municipality_code, 1, 2), 'unknown')"

    /// Runs one of the big aggregates on its own connection. On PostgreSQL with JIT off: their cost estimates make
    /// it compile them, which on the large data set took longer (about 2 s) than running them (ADR 0008).
    static func aggregating<T: Sendable>(
        on db: any Database, _ work: @escaping @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        let sql = try db.sqlDatabase()
        guard sql.dialect.name == "postgresql" else { return try await work(sql) }
        return try await db.transaction { transaction in
            let sql = try transaction.sqlDatabase()
            try await sql.raw("SET LOCAL jit = off").run()
            return try await work(sql)
        }
    }

    /// One row per (organisation, county, category): activity days come from an inner grouping per mentor and day.
    static func activityRows(_ scope: BufdirScope, _ sql: any SQLDatabase) async throws -> [BufdirFigureRows.Activity] {
        let day = scope.day(dialect: sql.dialect.name, grouping: true)
        let query: SQLQueryString = """
            SELECT s.organization_id AS organization_id, s.county AS county, s.category AS category,
                CAST(SUM(s.n) AS BIGINT) AS activities, CAST(SUM(s.minutes) AS BIGINT) AS minutes,
                CAST(SUM(s.participants) AS BIGINT) AS participants, COUNT(*) AS days,
                CAST(SUM(s.needs) AS BIGINT) AS evidence_required, CAST(SUM(s.missing) AS BIGINT) AS evidence_missing
            FROM (
                SELECT a.organization_id AS organization_id, \(county) AS county, t.bufdir_category AS category,
                    a.mentor_id AS mentor_id, \(day) AS day, COUNT(*) AS n, SUM(a.duration_minutes) AS minutes,
                    SUM(a.participant_count) AS participants,
                    SUM(CASE WHEN t.requires_evidence THEN 1 ELSE 0 END) AS needs,
                    SUM(CASE WHEN t.requires_evidence AND NOT EXISTS (
                        SELECT 1 FROM activity_attachments x WHERE x.activity_id = a.id AND x.deleted_at IS NULL
                    ) THEN 1 ELSE 0 END) AS missing
                FROM activities a JOIN activity_types t ON t.id = a.activity_type_id
                WHERE \(scope.counted)
                GROUP BY a.organization_id, \(county), t.bufdir_category, a.mentor_id, \(day)
            ) s
            GROUP BY s.organization_id, s.county, s.category
            """
        return try await sql.raw(query).all(decoding: BufdirFigureRows.Activity.self)
    }

    /// Distinct contacts and mentors per organisation (`Key` UUID) or county (`Key` String).
    static func peopleRows<Key: Decodable & Hashable & Sendable>(
        _ scope: BufdirScope, groupBy key: SQLQueryString, as: Key.Type, _ sql: any SQLDatabase
    ) async throws -> [Key: BufdirFigureRows.People] {
        let rows = try await sql.raw(
            """
            SELECT \(key) AS key, COUNT(DISTINCT a.contact_id) AS contacts, COUNT(DISTINCT a.mentor_id) AS mentors
            FROM activities a
            WHERE \(scope.counted)
            GROUP BY \(key)
            """
        ).all(decoding: PeopleRow<Key>.self)
        return Dictionary(rows.map { ($0.key, BufdirFigureRows.People(contacts: $0.contacts, mentors: $0.mentors)) }) { first, _ in
            first
        }
    }

    /// Registered and trained mentors, members, events and course days of each organisation of the scope.
    static func factRows(_ scope: BufdirScope, _ sql: any SQLDatabase) async throws -> [UUID: BufdirFigureRows.Facts] {
        struct Count: Decodable {
            var organizationId: UUID
            var n: Int
        }
        let ids = scope.organizationIDs
        let from = scope.period.from
        let until = scope.period.until
        let mentorRole: SQLQueryString = """
            r.organization_id IN (\(binds: ids)) AND r.role = 'peer_mentor' AND r.granted_at < \(bind: until)
            AND (r.revoked_at IS NULL OR r.revoked_at >= \(bind: from))
            """
        let queries: [(WritableKeyPath<BufdirFigureRows.Facts, Int>, SQLQueryString)] = [
            (
                \.registeredMentors,
                """
                SELECT r.organization_id AS organization_id, COUNT(DISTINCT r.user_id) AS n FROM user_roles r
                WHERE \(mentorRole) GROUP BY r.organization_id
                """
            ),
            (
                \.mentorsTrained,
                """
                SELECT r.organization_id AS organization_id, COUNT(DISTINCT r.user_id) AS n
                FROM user_roles r JOIN course_enrollments e ON e.user_id = r.user_id
                WHERE \(mentorRole) AND e.status = 'completed' AND e.completed_at >= \(bind: from)
                    AND e.completed_at < \(bind: until)
                GROUP BY r.organization_id
                """
            ),
            (
                \.members,
                """
                SELECT m.organization_id AS organization_id, COUNT(*) AS n FROM organization_memberships m
                WHERE m.organization_id IN (\(binds: ids)) AND m.status <> 'invited' AND m.joined_at IS NOT NULL
                    AND m.joined_at < \(bind: until) AND (m.ended_at IS NULL OR m.ended_at >= \(bind: from))
                GROUP BY m.organization_id
                """
            ),
            (
                \.events,
                """
                SELECT e.organization_id AS organization_id, COUNT(*) AS n FROM events e
                WHERE e.organization_id IN (\(binds: ids)) AND e.deleted_at IS NULL
                    AND e.status IN ('published', 'completed') AND e.counts_for_bufdir = \(bind: true)
                    AND e.starts_at >= \(bind: from) AND e.starts_at < \(bind: until)
                GROUP BY e.organization_id
                """
            ),
        ]
        var facts: [UUID: BufdirFigureRows.Facts] = [:]
        for (keyPath, query) in queries {
            for row in try await sql.raw(query).all(decoding: Count.self, keyDecodingStrategy: .convertFromSnakeCase) {
                facts[row.organizationId, default: .init()][keyPath: keyPath] = row.n
            }
        }
        struct CourseRow: Decodable {
            var organizationId: UUID
            var startsAt: Date
            var endsAt: Date
        }
        let courses = try await sql.raw(
            """
            SELECT c.organization_id AS organization_id, c.starts_at AS starts_at, c.ends_at AS ends_at FROM courses c
            WHERE c.organization_id IN (\(binds: ids)) AND c.deleted_at IS NULL AND c.status IN ('published', 'completed')
                AND c.starts_at >= \(bind: from) AND c.starts_at < \(bind: until)
            """
        ).all(decoding: CourseRow.self, keyDecodingStrategy: .convertFromSnakeCase)
        for course in courses {
            facts[course.organizationId, default: .init()].courseDays += BufdirPeriod.daysSpanned(course.startsAt, course.endsAt)
        }
        return facts
    }
}

private struct PeopleRow<Key: Decodable>: Decodable {
    var key: Key
    var contacts: Int
    var mentors: Int
}

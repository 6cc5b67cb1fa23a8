import Fluent
import FluentSQL
import Foundation

/// The Bufdir reports service, for the API, the portal and the CLI: finding and authorising reports, the steps of
/// their life (`BufdirReportLifecycle`) for a caller with an `Access`, and the activities behind their figures. It
/// returns domain values and never sees a request or a wire type.
///
/// It owns `bufdir_reports`. The drill-down below a figure reads `activities`, `activity_types` and
/// `activity_attachments` as a read model (see `BufdirReportEngine.swift`); it writes none of them.
enum BufdirReports {}

/// A report with what its views show beside it.
struct BufdirReportRecord: Sendable {
    let report: BufdirReport
    let organizationName: String
}

/// What a report list is filtered by.
struct BufdirReportFilter: Sendable {
    /// The organisation's subtree's reports too, not only its own.
    var includeSubtree = false
    var status: BufdirReport.Status?
    var reportingYear: Int?
}

/// What the activities behind a report are filtered by.
struct BufdirActivityFilter: Sendable {
    /// One organisation of the report's subtree (and its own subtree).
    var organizationID: UUID?
    var county: String?
    var category: String?
    var evidenceMissing: Bool?
}

/// One activity behind a report's figures.
struct BufdirActivityRow: Decodable, Sendable {
    var id: UUID
    var organizationId: UUID
    var mentorId: UUID
    var occurredAt: Date
    var occurredOn: String
    var category: String
    var activityTypeKey: String
    var municipalityCode: String?
    var durationMinutes: Int
    var participantCount: Int
    var status: String
    var requiresEvidence: Bool
    var evidenceCount: Int
}

extension BufdirReports {
    /// The report, if `access`'s permission reaches its organisation; 404 otherwise (also for a malformed id).
    static func authorized(_ id: UUID?, access: Access, on db: any Database) async throws -> BufdirReport {
        guard let id, let report = try await BufdirReport.find(id, on: db) else {
            // Marks the access as checked: a missing report is an answer, not a skipped check.
            _ = try? await access.reachableOrganizationIDs()
            throw AppError(.notFound, "No such report.")
        }
        do {
            try await access.authorize(in: report.$organization.id)
        } catch let error as AppError where error.code == .notFound {
            throw AppError(.notFound, "No such report.")
        }
        return report
    }

    /// An organisation's report of exactly this period, if there is one (no access check: for operators).
    static func find(organizationID: UUID, period: BufdirPeriod, on db: any Database) async throws -> BufdirReport? {
        try await BufdirReport.query(on: db)
            .filter(\.$organization.$id == organizationID).filter(\.$periodStart == period.start)
            .filter(\.$periodEnd == period.end)
            .first()
    }

    /// One page of an organisation's reports (and its subtree's, when asked), latest period first.
    static func list(
        in organizationID: UUID, _ filter: BufdirReportFilter, page: () throws -> KeysetPage, access: Access, on db: any Database
    ) async throws -> (items: [BufdirReportRecord], next: String?) {
        try await access.authorize(in: organizationID)
        let page = try page()
        let owners: Set<UUID> =
            filter.includeSubtree ? try await OrganizationTree.subtreeIDs(of: [organizationID], on: db) : [organizationID]
        let builder = BufdirReport.query(on: db).filter(\.$organization.$id ~~ owners)
        if let status = filter.status { builder.filter(\.$status == status) }
        if let year = filter.reportingYear { builder.filter(\.$reportingYear == year) }
        let rows = try await builder.page(page).all()
        let (reports, next) = try await page.finish(rows, id: { try $0.requireID() }, on: db)
        return (try await records(reports, on: db), next)
    }

    /// The report as the caller may read it.
    static func read(_ id: UUID?, access: Access, on db: any Database) async throws -> BufdirReportRecord {
        try await record(try await authorized(id, access: access, on: db), on: db)
    }

    /// Starts a draft for an organisation and period and computes it.
    static func create(
        in organizationID: UUID, year: Int, start: String?, end: String?, access: Access, deps: AppDependencies,
        on db: any Database
    ) async throws -> BufdirReportRecord {
        try await access.authorize(in: organizationID)
        let report = try await BufdirReportLifecycle.create(
            organizationID: organizationID, year: year, start: start, end: end, actor: access.caller, deps: deps, on: db)
        return try await record(report, on: db)
    }

    /// One step of a report's life (recompute, finalise, submit), answered with the report as it is afterwards.
    static func step(
        _ id: UUID?, access: Access, deps: AppDependencies, on db: any Database,
        _ step: (BufdirReport, Caller, AppDependencies, any Database) async throws -> Void
    ) async throws -> BufdirReportRecord {
        let report = try await authorized(id, access: access, on: db)
        try await step(report, access.caller, deps, db)
        return try await record(report, on: db)
    }

    /// Records a correction of one figure of a final report (see `BufdirReportLifecycle.adjust`).
    static func adjust(
        _ id: UUID?, figure: String, delta: Double, reason: String, activityID: UUID?, access: Access,
        on db: any Database
    ) async throws -> BufdirAdjustmentRecord {
        let report = try await authorized(id, access: access, on: db)
        return try await BufdirReportLifecycle.adjust(
            report, figure: figure, delta: delta, reason: reason, activityID: activityID, actor: access.caller, on: db)
    }

    /// One page of the activities behind a report's figures, oldest first; an organisation outside the report's
    /// subtree is a 400 on `organization_id`.
    static func activities(
        of id: UUID?, _ filter: BufdirActivityFilter, page: () throws -> KeysetPage, access: Access, on db: any Database
    ) async throws -> (items: [BufdirActivityRow], next: String?) {
        let report = try await authorized(id, access: access, on: db)
        let page = try page()
        var scope = try await BufdirScope.of(
            organizationID: report.$organization.id, period: try BufdirReportLifecycle.period(of: report), on: db)
        if let node = filter.organizationID {
            guard scope.organizationIDs.contains(node) else {
                throw AppError.invalidParameter("organization_id", "Not an organisation of this report.")
            }
            let below = try await OrganizationTree.subtreeIDs(of: [node], on: db)
            scope = BufdirScope(
                rootID: node, organizationIDs: scope.organizationIDs.filter(below.contains), period: scope.period)
        }
        let sql = try db.sqlDatabase()
        var filters: [SQLQueryString] = []
        if let county = filter.county { filters.append("\(BufdirReportEngine.county) = \(bind: county)") }
        if let category = filter.category { filters.append("t.bufdir_category = \(bind: category)") }
        if let missing = filter.evidenceMissing {
            let lacking: SQLQueryString = """
                (t.requires_evidence AND NOT EXISTS (SELECT 1 FROM activity_attachments x
                    WHERE x.activity_id = a.id AND x.deleted_at IS NULL))
                """
            filters.append(missing ? lacking : "NOT \(lacking)")
        }
        if let after = page.after { filters.append(page.keyset.after(after)) }
        let extra = filters.reduce(into: SQLQueryString("")) { result, filter in result = "\(result) AND \(filter)" }
        let rows = try await sql.raw(
            """
            SELECT a.id AS id, a.organization_id AS organization_id, a.mentor_id AS mentor_id, a.occurred_at AS occurred_at,
                \(scope.day(dialect: sql.dialect.name)) AS occurred_on, t.bufdir_category AS category,
                t.key AS activity_type_key, a.municipality_code AS municipality_code,
                a.duration_minutes AS duration_minutes, a.participant_count AS participant_count, a.status AS status,
                t.requires_evidence AS requires_evidence,
                (SELECT COUNT(*) FROM activity_attachments x WHERE x.activity_id = a.id AND x.deleted_at IS NULL)
                    AS evidence_count
            FROM activities a JOIN activity_types t ON t.id = a.activity_type_id
            WHERE \(scope.counted) \(extra)
            \(page.orderAndLimit)
            """
        ).all(decoding: BufdirActivityRow.self, keyDecodingStrategy: .convertFromSnakeCase)
        return try await page.finish(rows, id: \.id, on: db)
    }

    // MARK: - Records

    static func record(_ report: BufdirReport, on db: any Database) async throws -> BufdirReportRecord {
        try await records([report], on: db)[0]
    }

    /// The reports with their organisations' names, in one query.
    static func records(_ reports: [BufdirReport], on db: any Database) async throws -> [BufdirReportRecord] {
        let ids = Set(reports.map(\.$organization.id))
        guard !ids.isEmpty else { return [] }
        let rows = try await Organization.query(on: db).filter(\.$id ~~ ids).all()
        let names = Dictionary(
            rows.compactMap { row in row.id.map { ($0, row.name) } }, uniquingKeysWith: { first, _ in first })
        return reports.map { BufdirReportRecord(report: $0, organizationName: names[$0.$organization.id] ?? "") }
    }
}

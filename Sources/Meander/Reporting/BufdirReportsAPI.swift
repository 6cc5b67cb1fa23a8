import Fluent
import FluentSQL
import Foundation
import Vapor

// The drill-down below a figure and the export's evidence bundle read `activities`, `activity_types` and
// `activity_attachments` as a read model (see `BufdirReportEngine.swift`); they write none of them.

extension APIHandler {
    func listBufdirReports(_ input: Operations.ListBufdirReports.Input) async throws -> Operations.ListBufdirReports.Output {
        let request = try RequestContext.request
        let organizationID = try APIID.parse(input.path.organizationId, parameter: "organization")
        try await request.access.authorize(in: organizationID)
        let query = input.query
        let page = try Keyset.bufdirReports.page(limit: query.limit.map(Int.init), cursor: query.cursor, request: request)
        let owners: Set<UUID> =
            query.includeSubtree == true
            ? try await OrganizationTree.subtreeIDs(of: [organizationID], on: request.db) : [organizationID]
        let builder = BufdirReport.query(on: request.db).filter(\.$organization.$id ~~ owners)
        if let status = query.status.flatMap({ BufdirReport.Status(rawValue: $0.rawValue) }) {
            builder.filter(\.$status == status)
        }
        if let year = query.reportingYear { builder.filter(\.$reportingYear == Int(year)) }
        let rows = try await builder.page(page).all()
        let (reports, next) = try await page.finish(rows, id: { try $0.requireID() }, on: request.db)
        let names = try await BufdirReportView.organizationNames(reports.map(\.$organization.id), on: request.db)
        let items = try reports.map { report in
            Components.Schemas.BufdirReportSummary(
                id: try report.requireID().uuidString.lowercased(),
                organizationId: report.$organization.id.uuidString.lowercased(),
                organizationName: names[report.$organization.id] ?? "", reportingYear: Int32(report.reportingYear),
                periodStart: report.periodStart, periodEnd: report.periodEnd,
                status: .init(rawValue: report.status.rawValue) ?? .draft, contentSha256: report.contentSHA256,
                createdAt: report.createdAt ?? .distantPast, finalizedAt: report.finalizedAt)
        }
        return .ok(.init(body: .json(.init(items: items, nextCursor: next))))
    }

    func createBufdirReport(_ input: Operations.CreateBufdirReport.Input) async throws -> Operations.CreateBufdirReport.Output {
        let request = try RequestContext.request
        let organizationID = try APIID.parse(input.path.organizationId, parameter: "organization")
        try await request.access.authorize(in: organizationID)
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let report = try await BufdirReportLifecycle.create(
            organizationID: organizationID, year: Int(body.reportingYear), start: body.periodStart, end: body.periodEnd,
            actor: try Caller(request), deps: request.dependencies, on: request.db)
        return .created(.init(body: .json(try await BufdirReportView.make(report, on: request.db))))
    }

    func getBufdirReport(_ input: Operations.GetBufdirReport.Input) async throws -> Operations.GetBufdirReport.Output {
        let request = try RequestContext.request
        let report = try await BufdirReportView.authorized(input.path.reportId, request: request)
        return .ok(.init(body: .json(try await BufdirReportView.make(report, on: request.db))))
    }

    func recomputeBufdirReport(
        _ input: Operations.RecomputeBufdirReport.Input
    ) async throws -> Operations.RecomputeBufdirReport.Output {
        .ok(
            .init(
                body: .json(
                    try await BufdirReportView.step(input.path.reportId) {
                        try await BufdirReportLifecycle.recompute($0, actor: $1, deps: $2, on: $3)
                    })))
    }

    func finalizeBufdirReport(
        _ input: Operations.FinalizeBufdirReport.Input
    ) async throws -> Operations.FinalizeBufdirReport.Output {
        .ok(.init(body: .json(try await BufdirReportView.step(input.path.reportId, BufdirReportLifecycle.finalize))))
    }

    func submitBufdirReport(_ input: Operations.SubmitBufdirReport.Input) async throws -> Operations.SubmitBufdirReport.Output {
        .ok(.init(body: .json(try await BufdirReportView.step(input.path.reportId, BufdirReportLifecycle.submit))))
    }

    func createBufdirAdjustment(
        _ input: Operations.CreateBufdirAdjustment.Input
    ) async throws -> Operations.CreateBufdirAdjustment.Output {
        let request = try RequestContext.request
        let report = try await BufdirReportView.authorized(input.path.reportId, request: request)
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let activityID = try body.activityId.map { try APIID.field($0, pointer: "/activity_id") }
        let record = try await BufdirReportLifecycle.adjust(
            report, figure: body.figure, delta: body.delta, reason: body.reason, activityID: activityID,
            actor: try Caller(request), on: request.db)
        return .created(.init(body: .json(BufdirReportView.adjustment(record))))
    }

    func listBufdirReportActivities(
        _ input: Operations.ListBufdirReportActivities.Input
    ) async throws -> Operations.ListBufdirReportActivities.Output {
        let request = try RequestContext.request
        let report = try await BufdirReportView.authorized(input.path.reportId, request: request)
        let query = input.query
        let page = try Keyset.bufdirReportActivities.page(
            limit: query.limit.map(Int.init), cursor: query.cursor, request: request)
        var scope = try await BufdirScope.of(
            organizationID: report.$organization.id, period: try BufdirReportLifecycle.period(of: report), on: request.db)
        if let raw = query.organizationId {
            guard let node = APIID.uuid(raw), scope.organizationIDs.contains(node) else {
                throw AppError.invalidParameter("organization_id", "Not an organisation of this report.")
            }
            let below = try await OrganizationTree.subtreeIDs(of: [node], on: request.db)
            scope = BufdirScope(
                rootID: node, organizationIDs: scope.organizationIDs.filter(below.contains), period: scope.period)
        }
        let sql = try request.db.sqlDatabase()
        var filters: [SQLQueryString] = []
        if let county = query.county { filters.append("\(BufdirReportEngine.county) = \(bind: county)") }
        if let category = query.category { filters.append("t.bufdir_category = \(bind: category.rawValue)") }
        if let missing = query.evidenceMissing {
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
        ).all(decoding: BufdirReportView.ActivityRow.self, keyDecodingStrategy: .convertFromSnakeCase)
        let (activities, next) = try await page.finish(rows, id: \.id, on: request.db)
        let items = activities.map { row in
            Components.Schemas.BufdirActivity(
                id: row.id.uuidString.lowercased(), organizationId: row.organizationId.uuidString.lowercased(),
                mentorId: row.mentorId.uuidString.lowercased(), occurredAt: row.occurredAt, occurredOn: row.occurredOn,
                category: .init(rawValue: row.category) ?? .other, activityTypeKey: row.activityTypeKey,
                countyCode: row.municipalityCode.map { String($0.prefix(2)) }, municipalityCode: row.municipalityCode,
                durationMinutes: Int32(clamping: row.durationMinutes), participantCount: Int32(clamping: row.participantCount),
                status: .init(rawValue: row.status) ?? .registered, requiresEvidence: row.requiresEvidence,
                evidenceCount: Int32(clamping: row.evidenceCount))
        }
        return .ok(.init(body: .json(.init(items: items, nextCursor: next))))
    }
}

extension Keyset {
    /// An organisation's reports, latest period first.
    static let bufdirReports = Keyset(
        "listBufdirReports", table: BufdirReport.schema, [.column("period_start", .descending)], id: .descending)

    /// The activities behind a report's figures (raw SQL, activities aliased `a`), oldest first.
    static let bufdirReportActivities = Keyset(
        "listBufdirReportActivities", table: Activity.schema, qualifier: "a", [.column("occurred_at")], id: .ascending)
}

/// Reports as the API shows them.
enum BufdirReportView {
    /// The report, if the caller's declared permission reaches its organisation; 404 otherwise.
    static func authorized(_ raw: String, request: Request) async throws -> BufdirReport {
        guard let id = APIID.uuid(raw), let report = try await BufdirReport.find(id, on: request.db) else {
            _ = try? await request.access.reachableOrganizationIDs()
            throw AppError(.notFound, "No such report.")
        }
        do {
            try await request.access.authorize(in: report.$organization.id)
        } catch let error as AppError where error.code == .notFound {
            throw AppError(.notFound, "No such report.")
        }
        return report
    }

    /// One step of the report's life (recompute, finalise, submit) on the report the path names, answered with the
    /// report as it is afterwards.
    static func step(
        _ raw: String, _ step: (BufdirReport, Caller, AppDependencies, any Database) async throws -> Void
    ) async throws -> Components.Schemas.BufdirReport {
        let request = try RequestContext.request
        let report = try await authorized(raw, request: request)
        try await step(report, try Caller(request), request.dependencies, request.db)
        return try await make(report, on: request.db)
    }

    static func make(_ report: BufdirReport, on db: any Database) async throws -> Components.Schemas.BufdirReport {
        let names = try await organizationNames([report.$organization.id], on: db)
        let figures = try BufdirFigures.encoder.encode(try BufdirReportLifecycle.figures(of: report))
        return Components.Schemas.BufdirReport(
            id: try report.requireID().uuidString.lowercased(),
            organizationId: report.$organization.id.uuidString.lowercased(),
            organizationName: names[report.$organization.id] ?? "", reportingYear: Int32(report.reportingYear),
            periodStart: report.periodStart, periodEnd: report.periodEnd,
            status: .init(rawValue: report.status.rawValue) ?? .draft, contentSha256: report.contentSHA256,
            auditSequence: report.auditSequence,
            figures: try JSONDecoder().decode(Components.Schemas.BufdirFigures.self, from: figures),
            adjustments: BufdirReportLifecycle.adjustments(of: report).map(adjustment),
            createdAt: report.createdAt ?? .distantPast, updatedAt: report.updatedAt ?? report.createdAt ?? .distantPast,
            computedAt: report.computedAt, finalizedAt: report.finalizedAt, submittedAt: report.submittedAt)
    }

    static func adjustment(_ record: BufdirAdjustmentRecord) -> Components.Schemas.BufdirAdjustment {
        .init(
            figure: record.figure, delta: record.delta, reason: record.reason, activityId: record.activityId?.uuidString.lowercased(),
            actorUserId: record.actorUserId?.uuidString.lowercased(), createdAt: record.createdAt, auditSequence: record.auditSequence)
    }

    static func organizationNames(_ ids: [UUID], on db: any Database) async throws -> [UUID: String] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await Organization.query(on: db).filter(\.$id ~~ Set(ids)).all()
        return Dictionary(rows.compactMap { row in row.id.map { ($0, row.name) } }, uniquingKeysWith: { first, _ in first })
    }

    struct ActivityRow: Decodable {
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
}

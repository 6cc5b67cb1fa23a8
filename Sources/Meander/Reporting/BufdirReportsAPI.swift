import Fluent
import Foundation
import Vapor

extension APIHandler {
    func listBufdirReports(_ input: Operations.ListBufdirReports.Input) async throws -> Operations.ListBufdirReports.Output {
        let request = try RequestContext.request
        let organizationID = try APIID.parse(input.path.organizationId, parameter: "organization")
        let query = input.query
        let page = { try Keyset.bufdirReports.page(limit: query.limit.map(Int.init), cursor: query.cursor, request: request) }
        let filter = BufdirReportFilter(
            includeSubtree: query.includeSubtree == true,
            status: query.status.flatMap { BufdirReport.Status(rawValue: $0.rawValue) },
            reportingYear: query.reportingYear.map(Int.init))
        let (records, next) = try await BufdirReports.list(
            in: organizationID, filter, page: page, access: request.access, on: request.db)
        return .ok(.init(body: .json(.init(items: try records.map(BufdirReportView.summary), nextCursor: next))))
    }

    func createBufdirReport(_ input: Operations.CreateBufdirReport.Input) async throws -> Operations.CreateBufdirReport.Output {
        let request = try RequestContext.request
        let organizationID = try APIID.parse(input.path.organizationId, parameter: "organization")
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let record = try await BufdirReports.create(
            in: organizationID, year: Int(body.reportingYear), start: body.periodStart, end: body.periodEnd,
            access: request.access, deps: request.dependencies, on: request.db)
        return .created(.init(body: .json(try BufdirReportView.make(record))))
    }

    func getBufdirReport(_ input: Operations.GetBufdirReport.Input) async throws -> Operations.GetBufdirReport.Output {
        let request = try RequestContext.request
        let record = try await BufdirReports.read(APIID.uuid(input.path.reportId), access: request.access, on: request.db)
        return .ok(.init(body: .json(try BufdirReportView.make(record))))
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
        let reportID = APIID.uuid(input.path.reportId)
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let activityID = try body.activityId.map { try APIID.field($0, pointer: "/activity_id") }
        let record = try await BufdirReports.adjust(
            reportID, figure: body.figure, delta: body.delta, reason: body.reason, activityID: activityID,
            access: request.access, on: request.db)
        return .created(.init(body: .json(BufdirReportView.adjustment(record))))
    }

    func listBufdirReportActivities(
        _ input: Operations.ListBufdirReportActivities.Input
    ) async throws -> Operations.ListBufdirReportActivities.Output {
        let request = try RequestContext.request
        let query = input.query
        let page = {
            try Keyset.bufdirReportActivities.page(
                limit: query.limit.map(Int.init), cursor: query.cursor, request: request)
        }
        var filter = BufdirActivityFilter(
            county: query.county, category: query.category?.rawValue, evidenceMissing: query.evidenceMissing)
        if let raw = query.organizationId {
            guard let node = APIID.uuid(raw) else {
                throw AppError.invalidParameter("organization_id", "Not an organisation of this report.")
            }
            filter.organizationID = node
        }
        let (rows, next) = try await BufdirReports.activities(
            of: APIID.uuid(input.path.reportId), filter, page: page, access: request.access, on: request.db)
        let items = rows.map { row in
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

/// Reports as the API shows them: pure functions of what `BufdirReports` returned.
enum BufdirReportView {
    /// One step of the report's life (recompute, finalise, submit) on the report the path names, answered with the
    /// report as it is afterwards.
    static func step(
        _ raw: String, _ step: (BufdirReport, Caller, AppDependencies, any Database) async throws -> Void
    ) async throws -> Components.Schemas.BufdirReport {
        let request = try RequestContext.request
        let record = try await BufdirReports.step(
            APIID.uuid(raw), access: request.access, deps: request.dependencies, on: request.db, step)
        return try make(record)
    }

    static func summary(_ record: BufdirReportRecord) throws -> Components.Schemas.BufdirReportSummary {
        let report = record.report
        return Components.Schemas.BufdirReportSummary(
            id: try report.requireID().uuidString.lowercased(),
            organizationId: report.$organization.id.uuidString.lowercased(),
            organizationName: record.organizationName, reportingYear: Int32(report.reportingYear),
            periodStart: report.periodStart, periodEnd: report.periodEnd,
            status: .init(rawValue: report.status.rawValue) ?? .draft, contentSha256: report.contentSHA256,
            createdAt: report.createdAt ?? .distantPast, finalizedAt: report.finalizedAt)
    }

    static func make(_ record: BufdirReportRecord) throws -> Components.Schemas.BufdirReport {
        let report = record.report
        let figures = try BufdirFigures.encoder.encode(try BufdirReportLifecycle.figures(of: report))
        return Components.Schemas.BufdirReport(
            id: try report.requireID().uuidString.lowercased(),
            organizationId: report.$organization.id.uuidString.lowercased(),
            organizationName: record.organizationName, reportingYear: Int32(report.reportingYear),
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

}

import Fluent
import FluentSQL
import Foundation
import OpenAPIRuntime
import Vapor

extension APIHandler {
    func createBufdirExport(_ input: Operations.CreateBufdirExport.Input) async throws -> Operations.CreateBufdirExport.Output {
        let request = try RequestContext.request
        let report = try await BufdirReportView.authorized(input.path.reportId, request: request)
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        guard let format = BufdirExportAudit.Format(rawValue: body.format.rawValue) else {
            throw AppError.validation([.init(field: "/format", code: "invalid_value", message: "Unknown format.")])
        }
        let actor = try Caller(request)
        let client: BufdirExportAudit.Client =
            body.client.flatMap { BufdirExportAudit.Client(rawValue: $0.rawValue) }
            ?? BufdirExportAudit.Client(rawValue: actor.client.rawValue) ?? .api
        let reportID = try report.requireID()
        let payload = JSONText.encode(
            ["report_id": reportID.uuidString.lowercased(), "format": format.rawValue, "client": client.rawValue])
        // A second tap while the same export is still running gets that job, not another one.
        if let running = try await Job.query(on: request.db)
            .filter(\.$kind == "bufdir_export").filter(\.$payload == payload).filter(\.$status == .running)
            .filter(\.$requestedBy.$id == actor.userID).filter(\.$createdAt > request.now.addingTimeInterval(-15 * 60))
            .first()
        {
            let location = "/api/v1/jobs/\(try running.requireID().uuidString.lowercased())"
            return .accepted(.init(headers: .init(location: location), body: .json(JobView.make(running))))
        }
        let job = Job(
            id: request.dependencies.uuid(), kind: "bufdir_export", payload: payload, maxAttempts: 1,
            organizationID: report.$organization.id,
            requestedByID: actor.userID)
        job.status = .running
        job.attempts = 1
        try await job.create(on: request.db)

        let app = request.application
        let db = app.db
        let files = app.meander.files
        let logger = request.logger
        let jobID = try job.requireID()
        try app.meander.background.start(job, on: db, clock: app.meander.dependencies.clock, logger: logger) { progress in
            let audit = try await BufdirExportRun.run(
                .init(reportID: reportID, format: format, client: client, actor: actor, jobID: jobID),
                deps: app.meander.dependencies, db: db, files: files,
                temporaryDirectory: FileManager.default.temporaryDirectory, logger: logger,
                progress: { done, total in await progress.report(done: done, total: total) })
            return ["export_id": try audit.requireID().uuidString.lowercased()]
        }
        return .accepted(.init(headers: .init(location: "/api/v1/jobs/\(jobID.uuidString.lowercased())"), body: .json(JobView.make(job))))
    }

    func listBufdirExports(_ input: Operations.ListBufdirExports.Input) async throws -> Operations.ListBufdirExports.Output {
        let request = try RequestContext.request
        let report = try await BufdirReportView.authorized(input.path.reportId, request: request)
        let query = input.query
        let page = try Keyset.bufdirExports.page(limit: query.limit.map(Int.init), cursor: query.cursor, request: request)
        let reportID = try report.requireID()
        let builder = BufdirExportAudit.query(on: request.db).filter(\.$reportID == reportID)
        if let result = query.result.flatMap({ BufdirExportAudit.Outcome(rawValue: $0.rawValue) }) {
            builder.filter(\.$result == result)
        }
        if let format = query.format.flatMap({ BufdirExportAudit.Format(rawValue: $0.rawValue) }) {
            builder.filter(\.$format == format)
        }
        let rows = try await builder.page(page).all()
        let (exports, next) = try await page.finish(rows, id: { try $0.requireID() }, on: request.db)
        let previous = try await BufdirExportView.previousExports(of: exports, reportID: reportID, on: request.db)
        let items = try exports.map { try BufdirExportView.make($0, previous: $0.id.flatMap { previous[$0] }) }
        return .ok(.init(body: .json(.init(items: items, nextCursor: next))))
    }

    func getBufdirExport(_ input: Operations.GetBufdirExport.Input) async throws -> Operations.GetBufdirExport.Output {
        let request = try RequestContext.request
        let audit = try await BufdirExportView.authorized(input.path.exportId, request: request)
        var previous: BufdirExportAudit?
        if let reportID = audit.reportID, let id = audit.id {
            previous = try await BufdirExportView.previousExports(of: [audit], reportID: reportID, on: request.db)[id]
        }
        return .ok(.init(body: .json(try BufdirExportView.make(audit, previous: previous))))
    }

    func downloadBufdirExport(
        _ input: Operations.DownloadBufdirExport.Input
    ) async throws -> Operations.DownloadBufdirExport.Output {
        let request = try RequestContext.request
        let audit = try await BufdirExportView.authorized(input.path.exportId, request: request)
        guard audit.result == .succeeded, let key = audit.storageKey, let format = audit.format,
            let reportID = audit.reportID, let report = try await BufdirReport.find(reportID, on: request.db)
        else { throw AppError.goneFromVisibleRecord("This export produced no file.") }
        let name = BufdirExporter.fileName(report, format)
        let files = request.application.meander.files
        try await AuditLog.append(
            AuditEvent(
                "bufdir_export.downloaded", request: request, organizationID: audit.organizationID,
                targetType: "bufdir_export", targetID: try audit.requireID()),
            on: request.db)
        let contentType = BufdirExporter.contentType(format)
        if let url = try await files.presignedDownloadURL(key, fileName: name, contentType: contentType) {
            return .temporaryRedirect(.init(headers: .init(location: url.absoluteString)))
        }
        let stream: BlobStream
        do {
            stream = try await files.stream(key)
        } catch let error as BlobStoreError {
            throw error.appError
        }
        let length: HTTPBody.Length = (stream.length ?? audit.sizeBytes).map { .known(Int64($0)) } ?? .unknown
        let body = HTTPBody(stream.chunks.map { ArraySlice($0.readableBytesView) }, length: length, iterationBehavior: .single)
        let headers = Operations.DownloadBufdirExport.Output.Ok.Headers(
            contentDisposition: ContentDisposition.attachment(fileName: name))
        switch format {
        case .csv: return .ok(.init(headers: headers, body: .csv(body)))
        case .xlsx: return .ok(.init(headers: headers, body: .applicationVnd_openxmlformatsOfficedocument_spreadsheetml_sheet(body)))
        case .json: return .ok(.init(headers: headers, body: .binary(body)))
        case .zip: return .ok(.init(headers: headers, body: .applicationZip(body)))
        }
    }

    func getJob(_ input: Operations.GetJob.Input) async throws -> Operations.GetJob.Output {
        let request = try RequestContext.request
        let principal = try request.access.authorizeSelf()
        guard let id = APIID.uuid(input.path.jobId), let job = try await Job.find(id, on: request.db),
            job.$requestedBy.id == principal.userID
        else { throw AppError(.notFound, "No such job of yours.") }
        return .ok(.init(body: .json(JobView.make(job))))
    }
}

enum JobView {
    static func make(_ job: Job) -> Components.Schemas.Job {
        let result = job.result.flatMap { JSONText.decode([String: String].self, from: $0) } ?? [:]
        return Components.Schemas.Job(
            id: (job.id ?? UUID()).uuidString.lowercased(), kind: job.kind,
            status: .init(rawValue: job.status.rawValue) ?? .queued, progressDone: Int64(job.progressDone),
            progressTotal: job.progressTotal.map(Int64.init), error: job.lastError, exportId: result["export_id"],
            createdAt: job.createdAt ?? .distantPast, finishedAt: job.finishedAt)
    }
}

/// Export audit records as the API shows them.
enum BufdirExportView {
    static func authorized(_ raw: String, request: Request) async throws -> BufdirExportAudit {
        guard let id = APIID.uuid(raw), let audit = try await BufdirExportAudit.find(id, on: request.db),
            let organizationID = audit.organizationID
        else {
            _ = try? await request.access.reachableOrganizationIDs()
            throw AppError(.notFound, "No such export.")
        }
        do {
            try await request.access.authorize(in: organizationID)
        } catch let error as AppError where error.code == .notFound {
            throw AppError(.notFound, "No such export.")
        }
        return audit
    }

    /// The successful export before each successful one of `audits` (all of one report), in chain order (timestamps
    /// can tie or lose precision): two queries for a whole page.
    static func previousExports(
        of audits: [BufdirExportAudit], reportID: UUID, on db: any Database
    ) async throws -> [UUID: BufdirExportAudit] {
        let sequences = audits.filter { $0.result == .succeeded }.compactMap(\.auditSequence)
        guard let lowest = sequences.min(), let highest = sequences.max() else { return [:] }
        func succeeded() -> QueryBuilder<BufdirExportAudit> {
            BufdirExportAudit.query(on: db).filter(\.$reportID == reportID).filter(\.$result == .succeeded)
        }
        let floor =
            try await succeeded().filter(\.$auditSequence < lowest).sort(\.$auditSequence, .descending).first()?
            .auditSequence ?? lowest
        let candidates = try await succeeded()
            .filter(\.$auditSequence >= floor).filter(\.$auditSequence < highest)
            .sort(\.$auditSequence, .descending).all()
        var previous: [UUID: BufdirExportAudit] = [:]
        for audit in audits where audit.result == .succeeded {
            guard let id = audit.id, let sequence = audit.auditSequence else { continue }
            previous[id] = candidates.first { ($0.auditSequence ?? 0) < sequence }
        }
        return previous
    }

    /// An export record, with what moved since `previous`.
    static func make(_ audit: BufdirExportAudit, previous: BufdirExportAudit?) throws -> Components.Schemas.BufdirExport {
        var changes: [Components.Schemas.BufdirFigureChange] = []
        var previousID: String?
        if let previous, let current = audit.figures.flatMap({ JSONText.decode([String: Double].self, from: $0) }),
            let before = previous.figures.flatMap({ JSONText.decode([String: Double].self, from: $0) })
        {
            previousID = try previous.requireID().uuidString.lowercased()
            changes = BufdirFigures.changes(from: before, to: current).map { figure, old, new in
                .init(figure: figure, previous: old, current: new, delta: new - old)
            }
        }
        return Components.Schemas.BufdirExport(
            id: try audit.requireID().uuidString.lowercased(),
            reportId: (audit.reportID ?? UUID()).uuidString.lowercased(),
            organizationId: (audit.organizationID ?? UUID()).uuidString.lowercased(),
            actorUserId: audit.actorUserID?.uuidString.lowercased(),
            client: .init(rawValue: audit.client.rawValue) ?? .api,
            format: .init(rawValue: (audit.format ?? .json).rawValue) ?? .json,
            result: .init(rawValue: audit.result.rawValue) ?? .failed,
            parameters: .init(additionalProperties: JSONText.decode([String: String].self, from: audit.parameters) ?? [:]),
            sizeBytes: audit.sizeBytes.map(Int64.init), sha256: audit.sha256,
            rowCounts: audit.rowCounts.flatMap { JSONText.decode([String: Int64].self, from: $0) }.map {
                .init(additionalProperties: $0)
            },
            durationMs: Int64(audit.durationMs), error: audit.error, auditSequence: audit.auditSequence,
            createdAt: audit.createdAt ?? .distantPast, previousExportId: previousID, changes: changes)
    }
}

extension Keyset {
    /// A report's export history, newest first.
    static let bufdirExports = Keyset(
        "listBufdirExports", table: BufdirExportAudit.schema, [.column("created_at", .descending, nullable: true)],
        id: .descending)
}

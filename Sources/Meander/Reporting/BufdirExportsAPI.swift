import Foundation
import OpenAPIRuntime
import Vapor

extension APIHandler {
    func createBufdirExport(_ input: Operations.CreateBufdirExport.Input) async throws -> Operations.CreateBufdirExport.Output {
        let request = try RequestContext.request
        let reportID = APIID.uuid(input.path.reportId)
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        guard let format = BufdirExportAudit.Format(rawValue: body.format.rawValue) else {
            throw AppError.validation([.init(field: "/format", code: "invalid_value", message: "Unknown format.")])
        }
        let (job, _) = try await BufdirExports.start(
            report: reportID, format: format, client: body.client.flatMap { BufdirExportAudit.Client(rawValue: $0.rawValue) },
            access: request.access, deps: request.dependencies, on: request.db)
        let location = "/api/v1/jobs/\(try job.requireID().uuidString.lowercased())"
        return .accepted(.init(headers: .init(location: location), body: .json(try JobView.make(job))))
    }

    func listBufdirExports(_ input: Operations.ListBufdirExports.Input) async throws -> Operations.ListBufdirExports.Output {
        let request = try RequestContext.request
        let query = input.query
        let page = { try Keyset.bufdirExports.page(limit: query.limit.map(Int.init), cursor: query.cursor, request: request) }
        let filter = BufdirExportFilter(
            result: query.result.flatMap { BufdirExportAudit.Outcome(rawValue: $0.rawValue) },
            format: query.format.flatMap { BufdirExportAudit.Format(rawValue: $0.rawValue) })
        let (records, next) = try await BufdirExports.list(
            of: APIID.uuid(input.path.reportId), filter, page: page, access: request.access, on: request.db)
        return .ok(.init(body: .json(.init(items: try records.map(BufdirExportView.make), nextCursor: next))))
    }

    func getBufdirExport(_ input: Operations.GetBufdirExport.Input) async throws -> Operations.GetBufdirExport.Output {
        let request = try RequestContext.request
        let record = try await BufdirExports.read(APIID.uuid(input.path.exportId), access: request.access, on: request.db)
        return .ok(.init(body: .json(try BufdirExportView.make(record))))
    }

    func downloadBufdirExport(
        _ input: Operations.DownloadBufdirExport.Input
    ) async throws -> Operations.DownloadBufdirExport.Output {
        let request = try RequestContext.request
        let file = try await BufdirExports.download(
            APIID.uuid(input.path.exportId), access: request.access, deps: request.dependencies,
            files: request.application.meander.files, on: request.db)
        let stream: BlobStream
        switch file.content {
        case .redirect(let url): return .temporaryRedirect(.init(headers: .init(location: url.absoluteString)))
        case .stream(let content): stream = content
        }
        let length: HTTPBody.Length = file.sizeBytes.map { .known(Int64($0)) } ?? .unknown
        let body = HTTPBody(stream.chunks.map { ArraySlice($0.readableBytesView) }, length: length, iterationBehavior: .single)
        let headers = Operations.DownloadBufdirExport.Output.Ok.Headers(
            contentDisposition: ContentDisposition.attachment(fileName: file.name))
        switch file.format {
        case .csv: return .ok(.init(headers: headers, body: .csv(body)))
        case .xlsx: return .ok(.init(headers: headers, body: .applicationVnd_openxmlformatsOfficedocument_spreadsheetml_sheet(body)))
        case .json: return .ok(.init(headers: headers, body: .binary(body)))
        case .zip: return .ok(.init(headers: headers, body: .applicationZip(body)))
        }
    }
}

/// Export audit records as the API shows them: pure functions of what `BufdirExports` returned.
enum BufdirExportView {
    /// An export record, with what moved since `previous`.
    static func make(_ record: BufdirExportRecord) throws -> Components.Schemas.BufdirExport {
        let (audit, previous) = (record.audit, record.previous)
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

import Fluent
import Foundation

/// The Bufdir exports service: starting an export of a report as a background job, its history, and handing out its
/// file, for the API, the portal and the CLI. It takes domain values and an `Access`, and never sees a request or a
/// wire type. It owns `bufdir_export_audits` and the export files in the blob store; the job runs `BufdirExportRun`.
enum BufdirExports {}

/// An export with the successful one before it, from which its view says what moved.
struct BufdirExportRecord: Sendable {
    let audit: BufdirExportAudit
    let previous: BufdirExportAudit?
}

/// What an export history is filtered by.
struct BufdirExportFilter: Sendable {
    var result: BufdirExportAudit.Outcome?
    var format: BufdirExportAudit.Format?
}

/// An export's file, ready to hand out: a link to the store when it makes one, the bytes otherwise.
struct BufdirExportFile: Sendable {
    enum Content: Sendable {
        /// A short-lived link straight to the store (S3).
        case redirect(URL)
        case stream(BlobStream)
    }

    let name: String
    let format: BufdirExportAudit.Format
    let contentType: String
    let sizeBytes: Int?
    let content: Content
}

extension BufdirExports {
    /// Starts an export of a report: a job on the `exports` queue, which any node's workers run. A second request for
    /// the same export while it is still waiting or running (within 15 minutes) gets that job instead of another one:
    /// `started` is false then.
    static func start(
        report reportID: UUID?, format: BufdirExportAudit.Format, client requested: BufdirExportAudit.Client?,
        access: Access, deps: AppDependencies, on db: any Database
    ) async throws -> (job: Job, started: Bool) {
        let report = try await BufdirReports.authorized(reportID, access: access, on: db)
        let actor = access.caller
        let client = requested ?? BufdirExportAudit.Client(rawValue: actor.client.rawValue) ?? .api
        let reportID = try report.requireID()
        let key = ExportJob(reportID: reportID, format: format, client: client, actor: JobCaller(actor))
        if let running = try await Job.query(on: db)
            .filter(\.$kind == Self.jobKind).filter(\.$status ~~ [.queued, .running])
            .filter(\.$requestedBy.$id == actor.userID).filter(\.$createdAt > deps.now.addingTimeInterval(-15 * 60))
            .all().first(where: { JSONText.decode(ExportJob.self, from: $0.payload)?.sameExport(as: key) == true })
        {
            return (running, false)
        }
        var request = JobRequest(
            kind: Self.jobKind, queue: JobQueues.exports, payload: JSONText.encode(key), maxAttempts: 3)
        request.organizationID = report.$organization.id
        request.requestedByID = actor.userID
        let (job, _) = try await JobQueue.enqueue(request, deps: deps, on: db)
        return (job, true)
    }

    /// The job kind that runs exports.
    static let jobKind = "bufdir_export"

    /// An export job's payload.
    struct ExportJob: Codable, Sendable {
        var reportID: UUID
        var format: BufdirExportAudit.Format
        var client: BufdirExportAudit.Client
        var actor: JobCaller

        func sameExport(as other: ExportJob) -> Bool {
            reportID == other.reportID && format == other.format && client == other.client
        }
    }

    /// Runs export jobs: writes the file and its audit record, reporting progress, then tells whoever asked
    /// (`bufdir_export_ready`) in the same transaction as the job's completion. A run that a dead node left is taken
    /// again after its lease and starts over; a failed export is recorded and ends the job as `failed`.
    static func kind(files: any BlobStore, publicURL: String) -> JobKind {
        JobKind(Self.jobKind, queue: JobQueues.exports, retry: RetryPolicy(maxAttempts: 3, base: 30, cap: 600)) {
            context in
            let input = try context.payload(ExportJob.self)
            let audit = try await BufdirExportRun.run(
                .init(
                    reportID: input.reportID, format: input.format, client: input.client, actor: input.actor.caller,
                    jobID: context.job.id),
                deps: context.deps, db: context.db, files: files,
                temporaryDirectory: FileManager.default.temporaryDirectory, logger: context.logger,
                progress: { done, total in await context.progress.report(done: done, total: total) })
            let exportID = try audit.requireID().uuidString.lowercased()
            let result = ["export_id": exportID]
            guard let requester = context.job.requestedByID, let report = try await BufdirReport.find(input.reportID, on: context.db),
                let organization = try await Organization.find(report.$organization.id, on: context.db)
            else { return result }
            let message = Notifier.Message(
                .bufdirExportReady,
                values: [
                    "organization": organization.name, "year": String(report.reportingYear),
                    "link": "\(publicURL)/bufdir-exports/\(exportID)",
                ],
                dedupeKey: "bufdir_export:\(exportID)", organizationID: organization.id,
                data: ["export_id": exportID, "report_id": input.reportID.uuidString.lowercased()])
            let deps = context.deps
            try await context.commit(result: result) { transaction in
                try await Notifier.notify(requester, message, deps: deps, on: transaction)
            }
            return result
        }
    }

    /// One page of a report's export history, newest first.
    static func list(
        of reportID: UUID?, _ filter: BufdirExportFilter, page: () throws -> KeysetPage, access: Access, on db: any Database
    ) async throws -> (items: [BufdirExportRecord], next: String?) {
        let report = try await BufdirReports.authorized(reportID, access: access, on: db)
        let page = try page()
        let reportID = try report.requireID()
        let builder = BufdirExportAudit.query(on: db).filter(\.$reportID == reportID)
        if let result = filter.result { builder.filter(\.$result == result) }
        if let format = filter.format { builder.filter(\.$format == format) }
        let rows = try await builder.page(page).all()
        let (exports, next) = try await page.finish(rows, id: { try $0.requireID() }, on: db)
        let previous = try await previousExports(of: exports, reportID: reportID, on: db)
        return (exports.map { BufdirExportRecord(audit: $0, previous: $0.id.flatMap { previous[$0] }) }, next)
    }

    /// One export as the caller may read it.
    static func read(_ id: UUID?, access: Access, on db: any Database) async throws -> BufdirExportRecord {
        let audit = try await authorized(id, access: access, on: db)
        var previous: BufdirExportAudit?
        if let reportID = audit.reportID, let id = audit.id {
            previous = try await previousExports(of: [audit], reportID: reportID, on: db)[id]
        }
        return BufdirExportRecord(audit: audit, previous: previous)
    }

    /// The export's file, its download audited. An export that produced no file is 410.
    static func download(
        _ id: UUID?, access: Access, deps: AppDependencies, files: any BlobStore, on db: any Database
    ) async throws -> BufdirExportFile {
        let audit = try await authorized(id, access: access, on: db)
        guard audit.result == .succeeded, let key = audit.storageKey, let format = audit.format,
            let reportID = audit.reportID, let report = try await BufdirReport.find(reportID, on: db)
        else { throw AppError.goneFromVisibleRecord("This export produced no file.") }
        let name = BufdirExporter.fileName(report, format)
        try await AuditLog.append(
            access.caller.event(
                "bufdir_export.downloaded", organizationID: audit.organizationID, targetType: "bufdir_export",
                targetID: try audit.requireID()
            ).dated(by: deps.clock),
            on: db)
        let contentType = BufdirExporter.contentType(format)
        if let url = try await files.presignedDownloadURL(key, fileName: name, contentType: contentType) {
            return BufdirExportFile(
                name: name, format: format, contentType: contentType, sizeBytes: audit.sizeBytes, content: .redirect(url))
        }
        do {
            let stream = try await files.stream(key)
            return BufdirExportFile(
                name: name, format: format, contentType: contentType, sizeBytes: stream.length ?? audit.sizeBytes,
                content: .stream(stream))
        } catch let error as BlobStoreError {
            throw error.appError
        }
    }

    /// The export, if `access`'s permission reaches its organisation; 404 otherwise.
    static func authorized(_ id: UUID?, access: Access, on db: any Database) async throws -> BufdirExportAudit {
        guard let id, let audit = try await BufdirExportAudit.find(id, on: db), let organizationID = audit.organizationID
        else {
            _ = try? await access.reachableOrganizationIDs()
            throw AppError(.notFound, "No such export.")
        }
        do {
            try await access.authorize(in: organizationID)
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
}

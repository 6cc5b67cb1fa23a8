import Fluent
import FluentSQL
import Foundation
import Logging

/// Runs one export from start to end, for the API's job and the CLI alike: recompute a draft, write the file,
/// store it, and record the attempt, successful or not, in `bufdir_export_audits` and in the audit chain.
enum BufdirExportRun {
    struct Input: Sendable {
        var reportID: UUID
        var format: BufdirExportAudit.Format
        var client: BufdirExportAudit.Client
        var actor: Caller
        var jobID: UUID?
    }

    /// The export's audit record. A failed export is recorded too and then thrown as `JobFailure`, which names it.
    static func run(
        _ input: Input, deps: AppDependencies = .live, db: any Database, files: any BlobStore, temporaryDirectory: URL,
        logger: Logger, progress: @escaping @Sendable (Int, Int) async -> Void
    ) async throws -> BufdirExportAudit {
        let started = ContinuousClock.now
        let exportID = deps.uuid()
        guard let report = try await BufdirReport.find(input.reportID, on: db) else {
            throw AppError(.notFound, "No such report.")
        }
        var parameters = [
            "format": input.format.rawValue, "period_start": report.periodStart, "period_end": report.periodEnd,
            "reporting_year": String(report.reportingYear),
        ]
        // A private directory (0700): the bundle holds evidence files, which no other local user may read.
        let directory = temporaryDirectory.appendingPathComponent(".bufdir-export-\(exportID.uuidString.lowercased())")
        let file = directory.appendingPathComponent("export")
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            if report.status == .draft {
                try await BufdirReportLifecycle.recompute(report, actor: input.actor, deps: deps, on: db)
            }
            parameters["report_status"] = report.status.rawValue
            let output = try await BufdirExporter.write(
                report, format: input.format, to: file, files: files, db: db, progress: progress)
            let key = BlobKey.export(organizationID: report.$organization.id, exportID: exportID)
            try await files.putFile(key, from: file, sha256: output.sha256, contentType: BufdirExporter.contentType(input.format))
            let figures = try BufdirReportLifecycle.figures(of: report).flattened()
            let audit = BufdirExportAudit(
                id: exportID, client: input.client, result: .succeeded, durationMs: milliseconds(since: started),
                actorUserID: input.actor.userID, organizationID: report.$organization.id, reportID: input.reportID,
                format: input.format, parameters: JSONText.encode(parameters), sizeBytes: output.size,
                sha256: output.sha256, rowCounts: JSONText.encode(output.rowCounts))
            audit.jobID = input.jobID
            audit.figures = JSONText.encode(figures)
            audit.storageKey = key
            try await record(
                audit, action: "bufdir_report.exported", outcome: .success, actor: input.actor,
                metadata: ["export_id": exportID.uuidString.lowercased(), "format": input.format.rawValue, "sha256": output.sha256],
                on: db)
            return audit
        } catch {
            let message = (error as? AppError)?.detail ?? (error as? BlobStoreError)?.appError.detail ?? "The export failed."
            logger.warning(
                "bufdir export failed",
                metadata: ["report_id": .string(input.reportID.uuidString), "error": .string(String(describing: error))])
            let audit = BufdirExportAudit(
                id: exportID, client: input.client, result: .failed, durationMs: milliseconds(since: started),
                actorUserID: input.actor.userID, organizationID: report.$organization.id, reportID: input.reportID,
                format: input.format, parameters: JSONText.encode(parameters), error: message)
            audit.jobID = input.jobID
            try? await record(
                audit, action: "bufdir_report.export_failed", outcome: .failure, actor: input.actor,
                metadata: ["export_id": exportID.uuidString.lowercased(), "format": input.format.rawValue], on: db)
            throw JobFailure(message: message, result: ["export_id": exportID.uuidString.lowercased()])
        }
    }

    /// Appends the chain entry and inserts the audit row in one transaction: the row names its chain entry.
    private static func record(
        _ audit: BufdirExportAudit, action: String, outcome: AuditLogEntry.Outcome, actor: Caller,
        metadata: [String: String], on db: any Database
    ) async throws {
        try await db.writeTransaction { transaction in
            let entry = try await AuditLog.append(
                actor.event(
                    action, organizationID: audit.organizationID, targetType: "bufdir_report",
                    targetID: audit.reportID ?? UUID(), outcome: outcome, metadata: metadata),
                on: transaction)
            audit.auditSequence = entry.sequence
            try await audit.create(on: transaction)
        }
    }

    private static func milliseconds(since start: ContinuousClock.Instant) -> Int {
        let elapsed = ContinuousClock.now - start
        return Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
    }
}

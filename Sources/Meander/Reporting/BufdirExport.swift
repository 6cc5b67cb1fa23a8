import Crypto
import Fluent
import FluentSQL
import Foundation
import NIOCore

// The drill-down below a figure and the export's evidence bundle read `activities`, `activity_types` and
// `activity_attachments` as a read model (see `BufdirReportEngine.swift`); they write none of them.

/// Writes one export of a report to a file, streaming: evidence files go one at a time from the store into the
/// bundle, so the bundle is never in memory whole.
enum BufdirExporter {
    struct Output: Sendable {
        var sha256: String
        var size: Int
        var rowCounts: [String: Int]
    }

    static func contentType(_ format: BufdirExportAudit.Format) -> String {
        switch format {
        case .csv: "text/csv; charset=utf-8"
        case .xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        case .json: "application/octet-stream"
        case .zip: "application/zip"
        }
    }

    /// `bufdir-<organisation>-<start>_<end>.<ext>`; the bundle ends in `-bevis.zip`.
    static func fileName(_ report: BufdirReport, _ format: BufdirExportAudit.Format) -> String {
        let base = "bufdir-\(report.$organization.id.uuidString.lowercased().prefix(8))-\(report.periodStart)_\(report.periodEnd)"
        return format == .zip ? "\(base)-bevis.zip" : "\(base).\(format.rawValue)"
    }

    /// Writes `report` as `format` to `url`, calling `progress` (done, total) as it goes.
    static func write(
        _ report: BufdirReport, format: BufdirExportAudit.Format, to url: URL, files: any BlobStore, db: any Database,
        progress: @escaping @Sendable (Int, Int) async -> Void
    ) async throws -> Output {
        switch format {
        case .json:
            let data = try BufdirReportFiles.json(report)
            try data.write(to: url)
            await progress(1, 1)
            return Output(sha256: Digest.sha256Hex(data), size: data.count, rowCounts: try rowCounts(report))
        case .csv:
            let (data, rowCounts) = try BufdirReportFiles.csv(report)
            try data.write(to: url)
            await progress(1, 1)
            return Output(sha256: Digest.sha256Hex(data), size: data.count, rowCounts: rowCounts)
        case .xlsx:
            let sheets = try BufdirReportFiles.sheets(report)
            try XLSXWorkbook(sheets: sheets).write(to: url)
            await progress(1, 1)
            let (sha256, size) = try hashFile(url)
            return Output(sha256: sha256, size: size, rowCounts: BufdirReportFiles.rowCounts(sheets))
        case .zip:
            return try await bundle(report, to: url, files: files, db: db, progress: progress)
        }
    }

    private static func rowCounts(_ report: BufdirReport) throws -> [String: Int] {
        BufdirReportFiles.rowCounts(try BufdirReportFiles.sheets(report))
    }

    /// The manifest of an evidence bundle.
    struct Manifest: Encodable {
        struct File: Encodable {
            var path: String
            var sha256: String
            var size: Int
        }
        struct Report: Encodable {
            var id: UUID
            var organizationId: UUID
            var reportingYear: Int
            var periodStart: String
            var periodEnd: String
            var final: Bool
            var contentSha256: String?
        }
        struct ChainHead: Encodable {
            var sequence: Int64
            var hash: String
        }
        var format = "meander.bufdir-bundle/1"
        var report: Report
        /// The audit chain's head when the report's figures were computed: for a final report, as frozen.
        var auditChainHead: ChainHead?
        var evidenceFiles: Int
        var files: [File]
    }

    /// An evidence file of a counted activity.
    struct EvidenceRow: Decodable {
        var id: UUID
        var activityId: UUID
        var storageKey: String
        var mediaType: String
        var sha256: String
    }

    private static func bundle(
        _ report: BufdirReport, to url: URL, files: any BlobStore, db: any Database,
        progress: @escaping @Sendable (Int, Int) async -> Void
    ) async throws -> Output {
        let scope = try await BufdirScope.of(
            organizationID: report.$organization.id, period: try BufdirReportLifecycle.period(of: report), on: db)
        let sql = try db.sqlDatabase()
        struct Count: Decodable { var n: Int }
        let total =
            try await sql.raw(
                """
                SELECT COUNT(*) AS n FROM activity_attachments x JOIN activities a ON a.id = x.activity_id
                WHERE x.deleted_at IS NULL AND \(scope.counted)
                """
            ).first(decoding: Count.self)?.n ?? 0
        let steps = total + 4
        await progress(0, steps)

        let workbook = url.deletingLastPathComponent().appendingPathComponent(".\(UUID().uuidString).xlsx")
        defer { try? FileManager.default.removeItem(at: workbook) }
        let writer = try ZipBundleWriter(creating: url)
        var listed: [Manifest.File] = []
        func note(_ path: String, _ entry: (sha256: String, size: Int)) {
            listed.append(Manifest.File(path: path, sha256: entry.sha256, size: entry.size))
        }
        note("report.json", try writer.add(path: "report.json", data: try BufdirReportFiles.json(report)))
        let (csv, rowCounts) = try BufdirReportFiles.csv(report)
        note("report.csv", try writer.add(path: "report.csv", data: csv))
        try XLSXWorkbook(sheets: try BufdirReportFiles.sheets(report)).write(to: workbook)
        note("report.xlsx", try writer.add(path: "report.xlsx", contentsOf: workbook, compress: false))
        await progress(3, steps)

        // Keyset pages in id order, so the bundle's order does not depend on the database's plan.
        var after: UUID?
        var done = 0
        while true {
            let page = try await sql.raw(
                """
                SELECT x.id AS id, x.activity_id AS activity_id, x.storage_key AS storage_key, x.media_type AS media_type,
                    x.sha256 AS sha256
                FROM activity_attachments x JOIN activities a ON a.id = x.activity_id
                WHERE x.deleted_at IS NULL AND \(scope.counted) \(after.map { id -> SQLQueryString in "AND x.id > \(bind: id)" } ?? "")
                ORDER BY x.id LIMIT 500
                """
            ).all(decoding: EvidenceRow.self, keyDecodingStrategy: .convertFromSnakeCase)
            guard let last = page.last else { break }
            for row in page {
                let path =
                    "evidence/\(row.activityId.uuidString.lowercased())/\(row.id.uuidString.lowercased())"
                    + fileExtension(row.mediaType)
                // One evidence file at a time in memory (each is at most MEANDER_MAX_UPLOAD_SIZE), written straight
                // into the archive: no temporary copy to write and read back.
                let entry = try writer.add(path: path, data: try await files.get(row.storageKey), compress: false)
                guard entry.sha256 == row.sha256 else {
                    throw AppError(
                        .internalError,
                        "The stored evidence file \(row.id.uuidString.lowercased()) no longer matches its recorded SHA-256.")
                }
                note(path, entry)
                done += 1
                await progress(3 + done, steps)
            }
            after = last.id
        }

        // Corrections made after finalisation travel with the evidence; an unadjusted report's bundle is unchanged.
        let adjustments = BufdirReportLifecycle.adjustments(of: report)
        if !adjustments.isEmpty {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.dateEncodingStrategy = .iso8601
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            note("adjustments.json", try writer.add(path: "adjustments.json", data: try encoder.encode(adjustments)))
        }

        let manifest = Manifest(
            report: Manifest.Report(
                id: try report.requireID(), organizationId: report.$organization.id, reportingYear: report.reportingYear,
                periodStart: report.periodStart, periodEnd: report.periodEnd, final: report.status != .draft,
                contentSha256: report.contentSHA256),
            auditChainHead: zip(report.auditSequence, report.auditHash).map { Manifest.ChainHead(sequence: $0, hash: $1) },
            evidenceFiles: done, files: listed)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try writer.add(path: "manifest.json", data: try encoder.encode(manifest))
        try writer.close()
        await progress(steps, steps)
        let (sha256, size) = try hashFile(url)
        return Output(sha256: sha256, size: size, rowCounts: rowCounts.merging(["evidence_files": done], uniquingKeysWith: +))
    }

    private static func zip<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
        guard let a, let b else { return nil }
        return (a, b)
    }

    static func fileExtension(_ mediaType: String) -> String {
        switch mediaType {
        case "application/pdf": ".pdf"
        case "image/jpeg": ".jpg"
        case "image/png": ".png"
        case "image/heic": ".heic"
        default: ".bin"
        }
    }

    /// SHA-256 and size of a file, read in chunks.
    static func hashFile(_ url: URL) throws -> (String, Int) {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var hasher = SHA256()
        var size = 0
        while let chunk = try handle.read(upToCount: 1 << 16), !chunk.isEmpty {
            hasher.update(data: chunk)
            size += chunk.count
        }
        return (Digest.hex(hasher.finalize()), size)
    }
}

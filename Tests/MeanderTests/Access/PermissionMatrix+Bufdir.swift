import Fluent
import Foundation
import NIOConcurrencyHelpers
import Testing
import Vapor

@testable import Meander

/// Matrix factories for the Bufdir report operations: each cell gets its own report (of its own period, since an
/// organisation has one report per period) in the target organisation.
extension MatrixCase {
    /// Hands out distinct periods: 4 years × 365 last days.
    private static let periods = NIOLockedValueBox(0)

    static func freshPeriod() -> (year: Int, start: String, end: String) {
        let next = periods.withLockedValue { value -> Int in
            value += 1
            return value
        }
        let year = 2024 + (next / 365) % 4
        let end = BufdirPeriod.calendar.date(
            byAdding: .day, value: next % 365, to: BufdirPeriod.date(String(format: "%04d-01-01", year))!)!
        return (year, String(format: "%04d-01-01", year), ClosedPeriods.day(of: end))
    }

    static let bufdirFactories: Set<String> = [
        "listBufdirReports", "createBufdirReport", "getBufdirReport", "recomputeBufdirReport", "finalizeBufdirReport",
        "submitBufdirReport", "listBufdirReportActivities", "listBufdirExports", "createBufdirExport", "getBufdirExport",
        "downloadBufdirExport", "createBufdirAdjustment",
    ]

    static func bufdirRequest(
        for operationID: String, app: Application, target: Organization
    ) async throws -> MatrixRequest? {
        let organizationID = try target.requireID()
        func report(_ status: BufdirReport.Status = .draft) async throws -> BufdirReport {
            let period = freshPeriod()
            let report = try await BufdirReportLifecycle.create(
                organizationID: organizationID, year: period.year, start: period.start, end: period.end, actor: .cli,
                deps: app.meander.dependencies,
                on: app.db)
            if status != .draft {
                try await BufdirReportLifecycle.finalize(report, actor: .cli, deps: app.meander.dependencies, on: app.db)
            }
            return report
        }
        func export() async throws -> BufdirExportAudit {
            try await BufdirExportRun.run(
                .init(reportID: try await report().requireID(), format: .json, client: .cli, actor: .cli, jobID: nil),
                db: app.db, files: app.meander.files, temporaryDirectory: FileManager.default.temporaryDirectory,
                logger: app.logger, progress: { _, _ in })
        }
        switch operationID {
        case "listBufdirReports":
            return MatrixRequest(pathParameters: ["organizationId": organizationID.api])
        case "createBufdirReport":
            let period = freshPeriod()
            return MatrixRequest(
                pathParameters: ["organizationId": organizationID.api],
                body: #"{"reporting_year": \#(period.year), "period_start": "\#(period.start)", "period_end": "\#(period.end)"}"#)
        case "getBufdirReport", "recomputeBufdirReport", "finalizeBufdirReport", "listBufdirReportActivities",
            "listBufdirExports":
            return MatrixRequest(pathParameters: ["reportId": try await report().requireID().api])
        case "submitBufdirReport":
            return MatrixRequest(pathParameters: ["reportId": try await report(.finalized).requireID().api])
        case "createBufdirAdjustment":
            return MatrixRequest(
                pathParameters: ["reportId": try await report(.finalized).requireID().api],
                body: #"{"figure": "totals.activities", "delta": 1, "reason": "Et møte ble ført i feil år."}"#)
        case "createBufdirExport":
            return MatrixRequest(pathParameters: ["reportId": try await report().requireID().api], body: #"{"format": "json"}"#)
        case "getBufdirExport", "downloadBufdirExport":
            return MatrixRequest(pathParameters: ["exportId": try await export().requireID().api])
        default:
            return nil
        }
    }
}

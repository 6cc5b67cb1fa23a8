import Fluent
import FluentSQL
import Foundation

/// A report's life: draft (recomputed at will), finalised (frozen, hashed, its period closed), submitted.
enum BufdirReportLifecycle {
    /// Starts a draft for an organisation and period and computes it.
    static func create(
        organizationID: UUID, year: Int, start: String?, end: String?, actor: Caller, deps: AppDependencies,
        on db: any Database
    ) async throws -> BufdirReport {
        let period = try period(year: year, start: start, end: end)
        let clash = try await BufdirReport.query(on: db)
            .filter(\.$organization.$id == organizationID)
            .filter(\.$periodStart == period.start)
            .filter(\.$periodEnd == period.end)
            .first()
        if let clash {
            throw AppError(
                .conflict, "This organisation already has a report for \(period.start)–\(period.end) (\(try clash.requireID())).")
        }
        let figures = try await BufdirReportEngine.compute(organizationID: organizationID, period: period, year: year, on: db)
        let report = BufdirReport(
            id: deps.uuid(), organizationID: organizationID, reportingYear: year, periodStart: period.start, periodEnd: period.end,
            aggregates: try encode(figures), createdByID: actor.userID)
        do {
            try await db.writeTransaction { transaction in
                let head = try await chainHead(on: transaction)
                report.computedAt = deps.now
                report.auditSequence = head?.sequence
                report.auditHash = head?.hash
                try await report.create(on: transaction)
                try await AuditLog.append(
                    actor.event(
                        "bufdir_report.created", organizationID: organizationID, targetType: "bufdir_report",
                        targetID: try report.requireID(),
                        metadata: ["period_start": period.start, "period_end": period.end]),
                    on: transaction)
            }
        } catch let error as any DatabaseError where error.isConstraintFailure {
            throw AppError(.conflict, "This organisation already has a report for \(period.start)–\(period.end).")
        }
        return report
    }

    /// The period of a year, or the given days within it; a 400 naming the field when they do not fit.
    static func period(year: Int, start: String?, end: String?) throws -> BufdirPeriod {
        let start = start ?? String(format: "%04d-01-01", year)
        let end = end ?? String(format: "%04d-12-31", year)
        guard let period = BufdirPeriod(start: start, end: end, year: year) else {
            throw AppError.validation([
                .init(
                    field: "/period_start", code: "invalid_period",
                    message: "The period must be real days within \(year), with period_end on or after period_start.")
            ])
        }
        return period
    }

    static func period(of report: BufdirReport) throws -> BufdirPeriod {
        guard let period = BufdirPeriod(start: report.periodStart, end: report.periodEnd, year: report.reportingYear) else {
            throw AppError(.internalError, "The report's stored period is invalid.")
        }
        return period
    }

    /// Recomputes a draft; stores new figures (with the chain head of the moment) only when they changed, so an
    /// unchanged draft keeps giving the same export bytes. Returns whether they changed.
    @discardableResult
    static func recompute(
        _ report: BufdirReport, actor: Caller, deps: AppDependencies, on db: any Database
    ) async throws -> Bool {
        guard report.status == .draft else {
            throw AppError(.conflict, "Only a draft can be recomputed; this report is \(report.status.rawValue).")
        }
        let figures = try await BufdirReportEngine.compute(
            organizationID: report.$organization.id, period: try period(of: report), year: report.reportingYear, on: db)
        let aggregates = try encode(figures)
        guard aggregates != report.aggregates else { return false }
        try await db.writeTransaction { transaction in
            let head = try await chainHead(on: transaction)
            let now = deps.now
            try await transition(
                report, from: .draft,
                set: """
                    aggregates = \(bind: aggregates), computed_at = \(bind: now), audit_sequence = \(bind: head?.sequence),
                    audit_hash = \(bind: head?.hash)
                    """,
                action: "bufdir_report.recomputed", actor: actor, at: now, on: transaction, lost: "The report was finalised meanwhile.")
            report.aggregates = aggregates
            report.computedAt = now
            report.auditSequence = head?.sequence
            report.auditHash = head?.hash
        }
        return true
    }

    /// Freezes a draft: recomputes it a last time, stores the hash of its JSON export, and so closes its period.
    /// Of two racing finalisations exactly one wins; the other gets 409.
    static func finalize(
        _ report: BufdirReport, actor: Caller, deps: AppDependencies, on db: any Database
    ) async throws {
        guard report.status == .draft else {
            throw AppError(.conflict, "Only a draft can be finalised; this report is \(report.status.rawValue).")
        }
        try await recompute(report, actor: actor, deps: deps, on: db)
        let id = try report.requireID()
        let now = deps.now
        try await db.writeTransaction { transaction in
            // The figures are read again inside the transaction so the hash is of what is frozen.
            guard let current = try await BufdirReport.find(id, on: transaction), current.status == .draft else {
                throw AppError(.conflict, "The report was finalised meanwhile.")
            }
            let content = try BufdirReportFiles.json(current, final: true)
            let hash = Digest.sha256Hex(content)
            try await transition(
                report, from: .draft,
                set: """
                    status = 'finalized', finalized_at = \(bind: now), finalized_by_id = \(bind: actor.userID),
                    content_sha256 = \(bind: hash)
                    """,
                action: "bufdir_report.finalized", metadata: ["content_sha256": hash], actor: actor, at: now, on: transaction,
                lost: "The report was finalised meanwhile.")
            report.status = .finalized
            report.finalizedAt = now
            report.$finalizedBy.id = actor.userID
            report.contentSHA256 = hash
            report.aggregates = current.aggregates
        }
    }

    /// Records that a finalised report went to Bufdir.
    static func submit(
        _ report: BufdirReport, actor: Caller, deps: AppDependencies, on db: any Database
    ) async throws {
        guard report.status == .finalized else {
            throw AppError(.conflict, "Only a finalised report can be submitted; this report is \(report.status.rawValue).")
        }
        let now = deps.now
        try await db.writeTransaction { transaction in
            try await transition(
                report, from: .finalized,
                set: "status = 'submitted', submitted_at = \(bind: now), submitted_by_id = \(bind: actor.userID)",
                action: "bufdir_report.submitted", actor: actor, at: now, on: transaction, lost: "The report was submitted meanwhile.")
        }
        report.status = .submitted
        report.submittedAt = now
        report.$submittedBy.id = actor.userID
    }

    /// Moves a report on with a conditional update (`WHERE status = from`, which decides a race: the loser gets 409)
    /// and appends its audit entry, inside the caller's transaction.
    private static func transition(
        _ report: BufdirReport, from status: BufdirReport.Status, set assignments: SQLQueryString, action: String,
        metadata: [String: String] = [:], actor: Caller, at now: Date, on transaction: any Database, lost: String
    ) async throws {
        let id = try report.requireID()
        let updated = try await transaction.sqlDatabase().raw(
            """
            UPDATE bufdir_reports SET \(assignments), updated_at = \(bind: now)
            WHERE id = \(bind: id) AND status = \(bind: status.rawValue) RETURNING id
            """
        ).all()
        guard !updated.isEmpty else { throw AppError(.conflict, lost) }
        try await AuditLog.append(
            actor.event(action, organizationID: report.$organization.id, targetType: "bufdir_report", targetID: id, metadata: metadata),
            on: transaction)
    }

    static func encode(_ figures: BufdirFigures) throws -> String {
        String(decoding: try BufdirFigures.encoder.encode(figures), as: UTF8.self)
    }

    static func figures(of report: BufdirReport) throws -> BufdirFigures {
        do {
            return try BufdirFigures.decoder.decode(BufdirFigures.self, from: Data(report.aggregates.utf8))
        } catch {
            throw AppError(.internalError, "The report's stored figures cannot be read; recompute the draft.")
        }
    }

    /// The audit chain's head (its checkpoint), if anything was ever appended.
    static func chainHead(on db: any Database) async throws -> (sequence: Int64, hash: String)? {
        try await AuditChainHead.find(AuditChainHead.singletonID, on: db).map { ($0.sequence, $0.hash) }
    }
}

/// A correction to a finalised report, as stored in `bufdir_reports.adjustments`.
struct BufdirAdjustmentRecord: Codable, Sendable, Equatable {
    var figure: String
    var delta: Double
    var reason: String
    var activityId: UUID?
    var actorUserId: UUID?
    var createdAt: Date
    var auditSequence: Int64
}

extension BufdirReportLifecycle {
    static func adjustments(of report: BufdirReport) -> [BufdirAdjustmentRecord] {
        report.adjustments.flatMap { JSONText.decode([BufdirAdjustmentRecord].self, from: $0) } ?? []
    }

    /// Records a correction of one figure of a finalised or submitted report: appended to the report's list and to
    /// the audit chain in one transaction. The frozen figures and files do not change.
    static func adjust(
        _ report: BufdirReport, figure: String, delta: Double, reason: String, activityID: UUID?, actor: Caller,
        on db: any Database
    ) async throws -> BufdirAdjustmentRecord {
        guard report.status != .draft else {
            throw AppError(
                .conflict, "A draft is corrected by editing its activities and recomputing; adjustments are for final reports.")
        }
        var problems: [AppError.FieldError] = []
        if try figures(of: report).flattened()[figure] == nil {
            problems.append(.init(field: "/figure", code: "invalid_value", message: "Not a figure of this report."))
        }
        if delta == 0 || !delta.isFinite {
            problems.append(.init(field: "/delta", code: "invalid_value", message: "A change other than 0."))
        }
        if reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            problems.append(.init(field: "/reason", code: "required", message: "Say why."))
        }
        if let activityID {
            let scope = try await BufdirScope.of(organizationID: report.$organization.id, period: try period(of: report), on: db)
            let activity = try await Activity.query(on: db).withDeleted().filter(\.$id == activityID).first()
            if activity.map({ !scope.organizationIDs.contains($0.$organization.id) }) ?? true {
                problems.append(
                    .init(field: "/activity_id", code: "invalid_value", message: "Not an activity of this report's organisations."))
            }
        }
        guard problems.isEmpty else { throw AppError.validation(problems) }
        let id = try report.requireID()
        return try await db.writeTransaction { transaction in
            // Read inside the transaction: two racing corrections both land, in chain order.
            guard let current = try await BufdirReport.find(id, on: transaction) else {
                throw AppError(.notFound, "No such report.")
            }
            let entry = try await AuditLog.append(
                actor.event(
                    "bufdir_report.adjusted", organizationID: report.$organization.id, targetType: "bufdir_report", targetID: id,
                    metadata: ["figure": figure, "delta": String(delta)]),
                on: transaction)
            let record = BufdirAdjustmentRecord(
                figure: figure, delta: delta, reason: reason, activityId: activityID, actorUserId: actor.userID,
                createdAt: entry.createdAt, auditSequence: entry.sequence)
            let list = adjustments(of: current) + [record]
            try await transaction.sqlDatabase().raw(
                "UPDATE bufdir_reports SET adjustments = \(bind: JSONText.encode(list)) WHERE id = \(bind: id)"
            ).run()
            report.adjustments = JSONText.encode(list)
            return record
        }
    }
}

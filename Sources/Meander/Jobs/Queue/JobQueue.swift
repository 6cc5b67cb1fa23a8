import FluentKit
import Foundation
import SQLKit

/// The durable job queue: `jobs` rows that workers on any node claim, run and finish (in the style of Oban, River and
/// graphile-worker, which keep their queue in PostgreSQL too).
///
/// - Enqueueing writes a row on whatever database it is given, so a job enqueued in the caller's transaction commits
///   or rolls back with the change that asked for it.
/// - A worker claims due jobs with one `UPDATE … RETURNING` statement, which on PostgreSQL picks its rows with
///   `FOR UPDATE SKIP LOCKED` so that workers never wait for or take each other's rows; SQLite has one writer at a
///   time and runs the same statement without it. A claim takes a lease (`locked_until`) that the worker's heartbeat
///   extends; a job whose lease ran out (its worker died) is queued again by the next sweep.
/// - Every later write of a running job is fenced by its worker and attempt: a worker that lost its lease cannot
///   finish a job that someone else now holds.
///
/// Times are bound from the app's clock (never the database's), so that tests move time by hand.
enum JobQueue {}

/// What to enqueue.
struct JobRequest: Sendable {
    var kind: String
    var queue: String
    var payload: String = "{}"
    /// Not before (default: now).
    var runAt: Date?
    /// The same logical job is enqueued once: a second request with this key gets the first job back.
    var uniqueKey: String?
    var maxAttempts: Int
    var organizationID: UUID?
    var requestedByID: UUID?
    var progressTotal: Int?

    init(
        kind: String, queue: String, payload: String = "{}", maxAttempts: Int, runAt: Date? = nil,
        uniqueKey: String? = nil
    ) {
        self.kind = kind
        self.queue = queue
        self.payload = payload
        self.maxAttempts = maxAttempts
        self.runAt = runAt
        self.uniqueKey = uniqueKey
    }

    /// A request for a registered kind, with its queue and attempts.
    init(
        _ kind: JobKind, payload: String = "{}", runAt: Date? = nil, uniqueKey: String? = nil,
        organizationID: UUID? = nil, requestedByID: UUID? = nil
    ) {
        self.kind = kind.name
        self.queue = kind.queue
        self.maxAttempts = kind.retry.maxAttempts
        self.payload = payload
        self.runAt = runAt
        self.uniqueKey = uniqueKey
        self.organizationID = organizationID
        self.requestedByID = requestedByID
    }
}

/// A job as a worker holds it: what the handler needs and what fences the worker's later writes.
struct ClaimedJob: Sendable, Decodable {
    let id: UUID
    let kind: String
    let queue: String
    let payload: String
    /// This run's number, from 1.
    let attempts: Int
    let maxAttempts: Int
    let organizationID: UUID?
    let requestedByID: UUID?

    enum CodingKeys: String, CodingKey {
        case id, kind, queue, payload, attempts
        case maxAttempts = "max_attempts"
        case organizationID = "organization_id"
        case requestedByID = "requested_by_id"
    }
}

extension JobQueue {
    /// Enqueues a job on `db` (the caller's transaction, when there is one). With a unique key already taken, nothing
    /// is written and the existing job comes back with `inserted` false.
    @discardableResult
    static func enqueue(
        _ request: JobRequest, deps: AppDependencies, on db: any Database
    ) async throws -> (job: Job, inserted: Bool) {
        let sql = try db.sqlDatabase()
        let id = deps.uuid()
        let now = deps.now
        let inserted =
            try await sql.raw(
                """
                INSERT INTO jobs (id, created_at, updated_at, organization_id, requested_by_id, kind, queue, unique_key, \
                payload, status, progress_done, progress_total, attempts, max_attempts, run_at) VALUES (\(bind: id), \
                \(bind: now), \(bind: now), \(bind: request.organizationID), \(bind: request.requestedByID), \
                \(bind: request.kind), \(bind: request.queue), \(bind: request.uniqueKey), \(bind: request.payload), \
                'queued', 0, \(bind: request.progressTotal), 0, \(bind: request.maxAttempts), \(bind: request.runAt ?? now)) \
                ON CONFLICT (unique_key) DO NOTHING RETURNING id
                """
            ).first() != nil
        if inserted, let job = try await Job.find(id, on: db) { return (job, true) }
        guard let key = request.uniqueKey, let existing = try await Job.query(on: db).filter(\.$uniqueKey == key).first()
        else { throw JobQueueError.lost(id) }
        return (existing, false)
    }

    /// Claims up to `limit` due jobs of `queue` for `worker`, with a lease until `now + lease`. With `kinds`, only
    /// jobs of those kinds: a node never takes a job it has no handler for (a newer kind, during a rolling deploy).
    static func claim(
        queue: String, kinds: [String]? = nil, limit: Int, worker: String, lease: TimeInterval, now: Date,
        on db: any Database
    ) async throws -> [ClaimedJob] {
        guard limit > 0, kinds.map({ !$0.isEmpty }) ?? true else { return [] }
        let kindFilter: SQLQueryString = kinds.map { kinds in " AND kind IN (\(SQLList(kinds.map { SQLBind($0) })))" } ?? ""
        let sql = try db.sqlDatabase()
        let skipLocked = sql.dialect.name == "sqlite" ? "" : " FOR UPDATE SKIP LOCKED"
        return try await db.serializedWrite {
            try await sql.raw(
                """
                UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_at = \(bind: now), \
                locked_by = \(bind: worker), locked_until = \(bind: now.addingTimeInterval(lease)), updated_at = \(bind: now) \
                WHERE id IN (SELECT id FROM jobs WHERE queue = \(bind: queue)\(kindFilter) AND status = 'queued' AND run_at <= \(bind: now) \
                ORDER BY run_at, id LIMIT \(literal: limit)\(unsafeRaw: skipLocked)) AND status = 'queued' \
                RETURNING id, kind, queue, payload, attempts, max_attempts, organization_id, requested_by_id
                """
            ).all(decoding: ClaimedJob.self)
        }
    }

    /// Marks a held job succeeded with its result; false when the worker no longer holds it (cancelled, or its lease
    /// was lost and the job taken again).
    @discardableResult
    static func complete(
        _ job: ClaimedJob, worker: String, result: [String: String], now: Date, on db: any Database
    ) async throws -> Bool {
        try await db.serializedWrite {
            try await db.sqlDatabase().raw(
                """
                UPDATE jobs SET status = 'succeeded', finished_at = \(bind: now), updated_at = \(bind: now), \
                result = \(bind: JSONText.encode(result)), last_error = NULL, locked_until = NULL, \
                progress_done = COALESCE(progress_total, progress_done) \
                WHERE \(fenceOf: job, worker: worker) RETURNING id
                """
            ).first() != nil
        }
    }

    /// Records a failed run: queued again at `retryAt`, or ended as `status` (`failed`, `discarded`) when `retryAt`
    /// is nil. `result` is what the run could still report. False when the worker no longer holds the job.
    @discardableResult
    static func fail(
        _ job: ClaimedJob, worker: String, error: String, retryAt: Date?, finalStatus: Job.Status = .discarded,
        result: [String: String] = [:], now: Date, on db: any Database
    ) async throws -> Bool {
        let status = retryAt == nil ? finalStatus.rawValue : Job.Status.queued.rawValue
        let finished: Date? = retryAt == nil ? now : nil
        return try await db.serializedWrite {
            try await db.sqlDatabase().raw(
                """
                UPDATE jobs SET status = \(bind: status), run_at = \(bind: retryAt ?? now), finished_at = \(bind: finished), \
                updated_at = \(bind: now), last_error = \(bind: error), result = \(bind: result.isEmpty ? nil : JSONText.encode(result)), \
                locked_until = NULL WHERE \(fenceOf: job, worker: worker) RETURNING id
                """
            ).first() != nil
        }
    }

    /// Gives held jobs back to the queue unrun (a worker shutting down): their attempt does not count.
    static func release(_ jobs: [ClaimedJob], worker: String, now: Date, on db: any Database) async throws {
        for job in jobs {
            try await db.serializedWrite {
                try await db.sqlDatabase().raw(
                    """
                    UPDATE jobs SET status = 'queued', attempts = attempts - 1, run_at = \(bind: now), updated_at = \(bind: now), \
                    locked_until = NULL, locked_at = NULL WHERE \(fenceOf: job, worker: worker)
                    """
                ).run()
            }
        }
    }

    /// Extends the lease of the jobs `worker` holds; returns the ids it still holds (a job missing from the answer
    /// was cancelled or taken from it).
    static func heartbeat(
        _ ids: [UUID], worker: String, lease: TimeInterval, now: Date, on db: any Database
    ) async throws -> Set<UUID> {
        guard !ids.isEmpty else { return [] }
        let list = SQLList(ids.map { SQLBind($0) })
        let rows = try await db.serializedWrite {
            try await db.sqlDatabase().raw(
                """
                UPDATE jobs SET locked_until = \(bind: now.addingTimeInterval(lease)) \
                WHERE id IN (\(list)) AND locked_by = \(bind: worker) AND status = 'running' RETURNING id
                """
            ).all()
        }
        return Set(try rows.map { try $0.decode(column: "id", as: UUID.self) })
    }

    /// Queues again every running job whose lease has run out (its worker died or lost the database), or discards
    /// it when that was its last attempt. Returns how many.
    @discardableResult
    static func recoverExpiredLeases(now: Date, on db: any Database) async throws -> Int {
        let rows = try await db.serializedWrite {
            try await db.sqlDatabase().raw(
                """
                UPDATE jobs SET status = CASE WHEN attempts >= max_attempts THEN 'discarded' ELSE 'queued' END, \
                finished_at = CASE WHEN attempts >= max_attempts THEN \(bind: now) ELSE NULL END, \
                last_error = \(bind: JobQueueError.leaseExpired), run_at = \(bind: now), updated_at = \(bind: now), \
                locked_until = NULL WHERE status = 'running' AND locked_until < \(bind: now) RETURNING id
                """
            ).all()
        }
        return rows.count
    }

    /// Cancels a queued or running job (a running one stops at its next heartbeat). False when it had ended.
    static func cancel(_ id: UUID, now: Date, on db: any Database) async throws -> Bool {
        try await db.serializedWrite {
            try await db.sqlDatabase().raw(
                """
                UPDATE jobs SET status = 'cancelled', finished_at = \(bind: now), updated_at = \(bind: now), \
                locked_until = NULL WHERE id = \(bind: id) AND status IN ('queued', 'running') RETURNING id
                """
            ).first() != nil
        }
    }

    /// Queues an ended job that did not succeed again, with its attempts reset. False when it is not in such a state.
    static func retry(_ id: UUID, now: Date, on db: any Database) async throws -> Bool {
        try await db.serializedWrite {
            try await db.sqlDatabase().raw(
                """
                UPDATE jobs SET status = 'queued', attempts = 0, run_at = \(bind: now), updated_at = \(bind: now), \
                finished_at = NULL, locked_by = NULL, locked_at = NULL, locked_until = NULL, progress_done = 0 \
                WHERE id = \(bind: id) AND status IN ('failed', 'discarded', 'cancelled') RETURNING id
                """
            ).first() != nil
        }
    }

    /// Deletes ended jobs older than their keep time: succeeded and cancelled ones after `succeeded`, failed and
    /// discarded ones after `failed`. Returns how many.
    @discardableResult
    static func prune(succeededBefore: Date, failedBefore: Date, on db: any Database) async throws -> Int {
        try await db.serializedWrite {
            try await db.sqlDatabase().raw(
                """
                DELETE FROM jobs WHERE (status IN ('succeeded', 'cancelled') AND finished_at < \(bind: succeededBefore)) \
                OR (status IN ('failed', 'discarded') AND finished_at < \(bind: failedBefore)) RETURNING id
                """
            ).all().count
        }
    }
}

extension SQLQueryString {
    /// The condition every write of a held job carries: still running, by this worker, in this attempt.
    fileprivate mutating func appendInterpolation(fenceOf job: ClaimedJob, worker: String) {
        appendLiteral("id = ")
        appendInterpolation(bind: job.id)
        appendLiteral(" AND status = 'running' AND locked_by = ")
        appendInterpolation(bind: worker)
        appendLiteral(" AND attempts = ")
        appendInterpolation(bind: job.attempts)
    }
}

/// What the queue itself can fail with.
enum JobQueueError: Error, CustomStringConvertible {
    /// The row written a moment ago is not there.
    case lost(UUID)

    static let leaseExpired = "The worker running this job stopped renewing its lease (it died or lost the database)."

    var description: String {
        switch self {
        case .lost(let id): "The job \(id) was enqueued but cannot be read back."
        }
    }
}

import FluentKit
import Foundation
import Logging
import NIOConcurrencyHelpers

/// A kind of job: its name (the `kind` column), its queue, how it retries, and the handler that runs it.
///
/// A handler returns the job's result (stored as JSON in `result`). What it throws decides what happens next (see
/// `JobWorkers`): a `JobFailure`, an `AppError` or a `RetryableError` that is not transient ends the job as
/// `failed`; anything else is retried by `retry` until the attempts are used up, then the job is `discarded`.
struct JobKind: Sendable {
    typealias Handler = @Sendable (JobContext) async throws -> [String: String]

    let name: String
    let queue: String
    let retry: RetryPolicy
    let handler: Handler

    init(_ name: String, queue: String = JobQueues.default, retry: RetryPolicy = .standard, handler: @escaping Handler) {
        self.name = name
        self.queue = queue
        self.retry = retry
        self.handler = handler
    }
}

/// The queues Meander's workers serve, each with its own concurrency (`MEANDER_QUEUES`).
enum JobQueues {
    static let `default` = "default"
    /// Long reports and re-judging: few at a time.
    static let exports = "exports"
    /// Notification delivery: many small network calls.
    static let notifications = "notifications"

    static let all = [`default`, exports, notifications]
}

/// A job enqueued on a cron schedule: once per tick across every node (the tick is its unique key).
struct JobSchedule: Sendable {
    let name: String
    let cron: CronSchedule
    let kind: JobKind
    var payload: String = "{}"

    /// The unique key of the tick at `instant`.
    func uniqueKey(at instant: Date) -> String {
        "cron:\(name):\(Int64(instant.timeIntervalSince1970))"
    }
}

/// An error that knows whether trying again may help (a network timeout does; a refused address does not).
protocol RetryableError: Error {
    var isTransient: Bool { get }
    /// How long the other side asked us to wait (`Retry-After`), if it did.
    var retryAfter: TimeInterval? { get }
}

extension RetryableError {
    var retryAfter: TimeInterval? { nil }
}

/// A job that failed for good, with what it can still report (e.g. the failed export's audit record).
struct JobFailure: Error {
    var message: String
    var result: [String: String]
}

/// Every kind and schedule this application runs. Kinds are registered at start-up (and by tests).
final class JobRegistry: Sendable {
    private let kinds = NIOLockedValueBox<[String: JobKind]>([:])
    private let scheduleList = NIOLockedValueBox<[JobSchedule]>([])

    init() {}

    /// Adds or replaces a kind.
    func register(_ kind: JobKind) {
        kinds.withLockedValue { $0[kind.name] = kind }
    }

    /// Adds a schedule, and its kind.
    func register(_ schedule: JobSchedule) {
        register(schedule.kind)
        scheduleList.withLockedValue { list in
            list.removeAll { $0.name == schedule.name }
            list.append(schedule)
        }
    }

    func kind(named name: String) -> JobKind? {
        kinds.withLockedValue { $0[name] }
    }

    var schedules: [JobSchedule] {
        scheduleList.withLockedValue { $0 }
    }

    var kindNames: [String] {
        kinds.withLockedValue { $0.keys.sorted() }
    }
}

/// What a running handler gets: its job, the database, the clock, a logger and progress reporting.
struct JobContext: Sendable {
    let job: ClaimedJob
    /// The application's database (not a request's).
    let db: any Database
    let deps: AppDependencies
    let logger: Logger
    let progress: JobProgress
    let worker: String
    private let committed = NIOLockedValueBox(false)

    init(
        job: ClaimedJob, db: any Database, deps: AppDependencies, logger: Logger, progress: JobProgress, worker: String
    ) {
        self.job = job
        self.db = db
        self.deps = deps
        self.logger = logger
        self.progress = progress
        self.worker = worker
    }

    /// The job's payload, decoded.
    func payload<T: Decodable>(_ type: T.Type) throws -> T {
        guard let value = JSONText.decode(type, from: job.payload) else {
            throw JobFailure(message: "The job's payload is not what its kind expects.", result: [:])
        }
        return value
    }

    /// Runs `body` in one transaction with the job's completion, so that its effects on the database happen exactly
    /// once: if this worker no longer holds the job (its lease ran out and another worker took it), nothing commits.
    func commit(
        result: [String: String] = [:], _ body: @escaping @Sendable (any Database) async throws -> Void
    ) async throws {
        let job = self.job
        let worker = self.worker
        let now = deps.now
        try await db.writeTransaction { transaction in
            try await body(transaction)
            guard try await JobQueue.complete(job, worker: worker, result: result, now: now, on: transaction) else {
                throw JobLost()
            }
        }
        committed.withLockedValue { $0 = true }
    }

    /// Whether `commit` has completed the job.
    var isCommitted: Bool { committed.withLockedValue { $0 } }
}

/// The worker no longer holds the job it was running (cancelled, or taken again after its lease ran out).
struct JobLost: Error, CustomStringConvertible {
    var description: String { "This worker no longer holds the job." }
}

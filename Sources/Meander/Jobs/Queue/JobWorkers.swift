import FluentKit
import Foundation
import Logging
import NIOConcurrencyHelpers

/// The workers of one node: for each queue a loop that claims due jobs up to the queue's concurrency and runs them,
/// a heartbeat that extends the leases of the jobs held, a sweep that queues again the jobs of dead workers, and the
/// cron scheduler. `meander serve` starts them unless `MEANDER_WORKERS=0`; `meander worker` runs nothing else.
///
/// Waiting between polls is real time; "now" always comes from the app's clock, so that tests under a controlled
/// clock decide when a job is due (`drain()` runs everything due without waiting at all).
final class JobWorkers: Sendable {
    let name: String
    private let registry: JobRegistry
    /// A database handle per use, so that the node's work spreads over the connections of every event loop (SQLite
    /// keeps one per loop).
    private let database: @Sendable () -> any Database
    private var db: any Database { database() }
    private let deps: AppDependencies
    private let logger: Logger
    private let configuration: JobWorkerConfiguration
    private let metrics: JobMetrics
    private let random: @Sendable () -> Double

    private struct Held {
        let job: ClaimedJob
        let task: Task<Void, Never>
    }

    private struct State {
        var held: [UUID: Held] = [:]
        var loops: [Task<Void, Never>] = []
        var stopping = false
        /// Per schedule, the instant up to which this node has enqueued its ticks.
        var scheduledUpTo: [String: Date] = [:]
    }

    private let state = NIOLockedValueBox(State())
    private let wakeups: [String: Wakeup]

    convenience init(
        registry: JobRegistry, db: any Database, deps: AppDependencies, logger: Logger,
        configuration: JobWorkerConfiguration, metrics: JobMetrics,
        name: String = JobWorkers.defaultName(), random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.init(
            registry: registry, database: { db }, deps: deps, logger: logger, configuration: configuration,
            metrics: metrics, name: name, random: random)
    }

    init(
        registry: JobRegistry, database: @escaping @Sendable () -> any Database, deps: AppDependencies, logger: Logger,
        configuration: JobWorkerConfiguration, metrics: JobMetrics,
        name: String = JobWorkers.defaultName(), random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.registry = registry
        self.database = database
        self.deps = deps
        self.logger = logger
        self.configuration = configuration
        self.metrics = metrics
        self.name = name
        self.random = random
        self.wakeups = Dictionary(uniqueKeysWithValues: JobQueues.all.map { ($0, Wakeup()) })
    }

    /// `host:pid:random`: unique per process start, so that a restarted node never mistakes an old lease for its own.
    static func defaultName() -> String {
        let host = ProcessInfo.processInfo.hostName
        let suffix = UInt32.random(in: 0...UInt32.max)
        return "\(host):\(ProcessInfo.processInfo.processIdentifier):\(String(suffix, radix: 36))"
    }

    // MARK: running

    /// Starts a loop per configured queue, the heartbeat, the sweep and the scheduler.
    func start() {
        let now = deps.now
        state.withLockedValue { state in
            guard state.loops.isEmpty else { return }
            for schedule in registry.schedules { state.scheduledUpTo[schedule.name] = now }
            for (queue, concurrency) in configuration.concurrency.sorted(by: { $0.key < $1.key }) where concurrency > 0 {
                state.loops.append(Task { await self.serve(queue: queue, concurrency: concurrency) })
            }
            state.loops.append(Task { await self.maintain() })
        }
        logger.info(
            "job workers started",
            metadata: [
                "worker": .string(name),
                "queues": .string(
                    configuration.concurrency.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
                        separator: ",")),
            ])
    }

    /// Stops claiming, lets running jobs finish for up to the shutdown grace, then gives back what is still held
    /// (queued again, the attempt not counted) and cancels it.
    func shutdown() async {
        let loops = state.withLockedValue { state -> [Task<Void, Never>] in
            state.stopping = true
            return state.loops
        }
        for loop in loops { loop.cancel() }
        for wakeup in wakeups.values { wakeup.signal() }
        let deadline = ContinuousClock.now + .seconds(configuration.shutdownGrace)
        while ContinuousClock.now < deadline, state.withLockedValue({ !$0.held.isEmpty }) {
            try? await Task.sleep(for: .milliseconds(50))
        }
        let left = state.withLockedValue { Array($0.held.values) }
        if !left.isEmpty {
            do {
                try await JobQueue.release(left.map(\.job), worker: name, now: deps.now, on: db)
            } catch {
                logger.warning("could not release jobs at shutdown; their leases will run out", metadata: ["error": "\(error)"])
            }
            for held in left { held.task.cancel() }
            logger.notice("released unfinished jobs at shutdown", metadata: ["count": .stringConvertible(left.count)])
        }
        for held in left { await held.task.value }
        for loop in loops { await loop.value }
    }

    /// Runs every due job of the queues until nothing is due (expired leases swept first); returns how many jobs ran.
    /// For tests and `meander jobs run`: no waiting, time from the app's clock. Schedule ticks are enqueued by
    /// started workers only (`enqueueDueTicks`).
    @discardableResult
    func drain(queues: [String] = JobQueues.all, maxJobs: Int = .max) async throws -> Int {
        var ran = 0
        while ran < maxJobs {
            try await sweep()
            var claimed: [ClaimedJob] = []
            for queue in queues {
                let limit = min(configuration.concurrency[queue] ?? 1, maxJobs - ran)
                claimed += try await JobQueue.claim(
                    queue: queue, kinds: registry.kindNames, limit: max(limit, 1), worker: name, lease: configuration.lease, now: deps.now,
                    on: db)
            }
            guard !claimed.isEmpty else { break }
            for task in claimed.map({ launch($0, wakeup: nil) }) { await task.value }
            ran += claimed.count
        }
        return ran
    }

    /// Expired leases go back to the queue; due schedule ticks are enqueued.
    func sweep() async throws {
        let recovered = try await JobQueue.recoverExpiredLeases(now: deps.now, on: db)
        if recovered > 0 {
            logger.notice("queued again jobs whose worker stopped", metadata: ["count": .stringConvertible(recovered)])
        }
        try await enqueueDueTicks()
    }

    /// Enqueues, for each schedule, the latest tick that has come since this node last looked (missed ticks while
    /// every node was down are not made up: one run catches up). The tick's unique key makes it once across nodes.
    func enqueueDueTicks() async throws {
        let now = deps.now
        for schedule in registry.schedules {
            let from = state.withLockedValue { $0.scheduledUpTo[schedule.name] } ?? now
            var latest: Date?
            var tick = schedule.cron.next(after: from)
            while let current = tick, current <= now {
                latest = current
                tick = schedule.cron.next(after: current)
            }
            guard let latest else { continue }
            let (_, inserted) = try await JobQueue.enqueue(
                JobRequest(schedule.kind, payload: schedule.payload, runAt: latest, uniqueKey: schedule.uniqueKey(at: latest)),
                deps: deps, on: db)
            state.withLockedValue { $0.scheduledUpTo[schedule.name] = latest }
            if inserted {
                logger.info("scheduled job enqueued", metadata: ["schedule": .string(schedule.name)])
            }
        }
    }

    /// Tells this node's loop of `queue` that work may be waiting (after a local enqueue commits).
    func wake(_ queue: String) {
        wakeups[queue]?.signal()
    }

    private var isStopping: Bool { state.withLockedValue { $0.stopping } }

    private func serve(queue: String, concurrency: Int) async {
        let wakeup = wakeups[queue] ?? Wakeup()
        while !isStopping && !Task.isCancelled {
            let free = concurrency - state.withLockedValue { $0.held.values.count { $0.job.queue == queue } }
            var claimed: [ClaimedJob] = []
            if free > 0 {
                do {
                    claimed = try await JobQueue.claim(
                        queue: queue, kinds: registry.kindNames, limit: free, worker: name, lease: configuration.lease, now: deps.now,
                        on: db)
                } catch {
                    logger.warning("claiming jobs failed", metadata: ["queue": .string(queue), "error": "\(error)"])
                }
            }
            for job in claimed { launch(job, wakeup: wakeup) }
            // A full batch may mean more is waiting: claim again at once when slots are free.
            if claimed.isEmpty || claimed.count == free {
                await wakeup.wait(timeout: .milliseconds(configuration.pollIntervalMilliseconds))
            }
        }
    }

    /// Runs a claimed job in its own task, held (for the heartbeat and shutdown) until it ends.
    @discardableResult
    private func launch(_ job: ClaimedJob, wakeup: Wakeup?) -> Task<Void, Never> {
        state.withLockedValue { state in
            let task = Task {
                await self.execute(job)
                _ = self.state.withLockedValue { $0.held.removeValue(forKey: job.id) }
                wakeup?.signal()
            }
            state.held[job.id] = Held(job: job, task: task)
            return task
        }
    }

    /// The heartbeat, the lease sweep and the scheduler, until shutdown.
    private func maintain() async {
        // Heartbeats at least every third of the lease; the sweep and the scheduler every `sweepInterval` seconds.
        let beat = max(0.2, min(configuration.lease / 3, Double(configuration.sweepInterval)))
        var lastSweep = ContinuousClock.now - .seconds(3600)
        while !isStopping && !Task.isCancelled {
            await heartbeat()
            if ContinuousClock.now - lastSweep >= .seconds(configuration.sweepInterval) {
                lastSweep = ContinuousClock.now
                do {
                    try await sweep()
                } catch {
                    logger.warning("job sweep failed", metadata: ["error": "\(error)"])
                }
            }
            try? await Task.sleep(for: .milliseconds(Int(beat * 1000)))
        }
    }

    /// Extends the leases of held jobs; cancels those this node no longer holds (an operator cancelled them).
    func heartbeat() async {
        let held = state.withLockedValue { $0.held }
        guard !held.isEmpty else { return }
        do {
            let kept = try await JobQueue.heartbeat(
                Array(held.keys), worker: name, lease: configuration.lease, now: deps.now, on: db)
            for (id, entry) in held where !kept.contains(id) {
                logger.info("job no longer held; stopping it", metadata: ["job_id": .string(id.uuidString)])
                entry.task.cancel()
            }
        } catch {
            logger.warning("job heartbeat failed", metadata: ["error": "\(error)"])
        }
    }

    // MARK: one job

    /// Runs one claimed job and records how it ended.
    func execute(_ job: ClaimedJob) async {
        var jobLogger = logger
        jobLogger[metadataKey: "job_id"] = .string(job.id.uuidString.lowercased())
        jobLogger[metadataKey: "job_kind"] = .string(job.kind)
        jobLogger[metadataKey: "attempt"] = .stringConvertible(job.attempts)
        let started = ContinuousClock.now
        guard let kind = registry.kind(named: job.kind) else {
            _ = try? await JobQueue.fail(
                job, worker: name, error: "No handler is registered for the job kind '\(job.kind)'.", retryAt: nil,
                finalStatus: .failed, now: deps.now, on: db)
            metrics.finished(kind: job.kind, outcome: .failed, duration: ContinuousClock.now - started)
            return
        }
        let context = JobContext(
            job: job, db: db, deps: deps, logger: jobLogger,
            progress: JobProgress(id: job.id, db: db, clock: deps.clock), worker: name)
        do {
            let result = try await kind.handler(context)
            if !context.isCommitted {
                let held = try await JobQueue.complete(job, worker: name, result: result, now: deps.now, on: db)
                if !held { jobLogger.notice("job finished after this worker lost it; its result is not recorded") }
            }
            metrics.finished(kind: job.kind, outcome: .succeeded, duration: ContinuousClock.now - started)
        } catch {
            await recordFailure(of: job, kind: kind, error: error, logger: jobLogger, started: started)
        }
    }

    private func recordFailure(
        of job: ClaimedJob, kind: JobKind, error: any Error, logger: Logger, started: ContinuousClock.Instant
    ) async {
        let duration = ContinuousClock.now - started
        if error is JobLost || error is CancellationError {
            logger.info("job stopped: this worker no longer holds it")
            metrics.finished(kind: job.kind, outcome: .lost, duration: duration)
            return
        }
        let verdict = JobErrorVerdict(error)
        let now = deps.now
        var retryAt: Date?
        if verdict.retryable, let delay = kind.retry.delay(afterAttempt: job.attempts, random: random) {
            retryAt = now.addingTimeInterval(max(delay, verdict.retryAfter ?? 0))
        }
        let finalStatus: Job.Status = verdict.retryable ? .discarded : .failed
        do {
            try await JobQueue.fail(
                job, worker: name, error: verdict.message, retryAt: retryAt, finalStatus: finalStatus,
                result: verdict.result, now: now, on: db)
        } catch {
            logger.warning("could not record a job's failure; its lease will run out", metadata: ["error": "\(error)"])
        }
        let outcome: JobMetrics.Outcome = retryAt != nil ? .retried : (verdict.retryable ? .discarded : .failed)
        logger.warning(
            "job failed", metadata: ["outcome": .string(outcome.rawValue), "error_type": .string("\(type(of: error))")])
        metrics.finished(kind: job.kind, outcome: outcome, duration: duration)
    }
}

/// How a handler's error is taken: retry or not, the message kept in `last_error` (never an error's raw text from
/// outside Meander, which may hold personal data), and what the run could still report.
struct JobErrorVerdict {
    var retryable: Bool
    var retryAfter: TimeInterval?
    var message: String
    var result: [String: String] = [:]

    init(_ error: any Error) {
        switch error {
        case let failure as JobFailure:
            retryable = false
            message = failure.message
            result = failure.result
        case let error as AppError:
            retryable = false
            message = error.detail ?? "The job failed: \(error.code.rawValue)."
        case let error as any RetryableError:
            retryable = error.isTransient
            retryAfter = error.retryAfter
            message = "\(error)"
        default:
            retryable = true
            message = "The job failed (\(type(of: error))); it will be tried again."
        }
    }
}

/// Wakes one waiting loop, or the next one to wait; a wait also ends after its timeout.
final class Wakeup: Sendable {
    private let state = NIOLockedValueBox<(pending: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func signal() {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    func wait(timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: timeout) }
            group.addTask { await self.waitForSignal() }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForSignal() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = state.withLockedValue { state -> Bool in
                    if state.pending {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            signal()
        }
    }
}

import FluentKit
import Foundation
import Logging
import NIOConcurrencyHelpers
import Vapor

/// This application's queue: the kinds and schedules it runs, its metrics and this node's workers. `configure`
/// registers Meander's kinds; `meander serve` and `meander worker` start the workers; shutting the application down
/// stops them (see `JobWorkers.shutdown`).
final class JobSystem: Sendable {
    let registry = JobRegistry()
    let metrics: JobMetrics
    let configuration: JobWorkerConfiguration
    private let attached = NIOLockedValueBox<JobWorkers?>(nil)
    private let started = NIOLockedValueBox(false)

    init(metrics: JobMetrics, configuration: JobWorkerConfiguration) {
        self.metrics = metrics
        self.configuration = configuration
    }

    /// This node's workers (made by `configure`, started or not).
    var workers: JobWorkers {
        guard let workers = attached.withLockedValue({ $0 }) else { fatalError("configure(_:config:) has not run") }
        return workers
    }

    func attach(_ workers: JobWorkers) {
        attached.withLockedValue { $0 = workers }
    }

    /// Starts this node's workers once, unless the configuration turns them off. Returns whether they run.
    @discardableResult
    func startWorkers() -> Bool {
        guard configuration.isEnabled else { return false }
        let first = started.withLockedValue { started -> Bool in
            defer { started = true }
            return !started
        }
        if first { workers.start() }
        return true
    }

    /// Stops the workers if they were started.
    func stopWorkers() async {
        let wasStarted = started.withLockedValue { started -> Bool in
            defer { started = false }
            return started
        }
        guard wasStarted else { return }
        await workers.shutdown()
    }
}

/// Stops the node's workers when the application shuts down: running jobs finish, or are given back.
struct JobWorkersShutdown: LifecycleHandler {
    func shutdownAsync(_ application: Application) async {
        await application.meander.jobs.stopWorkers()
    }
}

extension JobSystem {
    /// Registers Meander's own kinds and schedules.
    func registerMeanderKinds(files: any BlobStore, publicURL: String, channels: NotificationChannels) {
        registry.register(BufdirExports.kind(files: files, publicURL: publicURL))
        registry.register(NotificationDelivery.kind(channels: channels))
        registry.register(BufdirRuleChange.rejudgeKind)
        registry.register(JobMaintenance.pruneSchedule)
        registry.register(JobMaintenance.probeKind)
    }
}

/// The queue's own upkeep.
enum JobMaintenance {
    /// Ended jobs are kept 30 days (succeeded, cancelled) or 90 days (failed, discarded), then deleted nightly.
    static let pruneKind = JobKind("jobs_prune", retry: RetryPolicy(maxAttempts: 3, base: 60, cap: 900)) { context in
        let now = context.deps.now
        let deleted = try await JobQueue.prune(
            succeededBefore: now.addingTimeInterval(-30 * 86_400), failedBefore: now.addingTimeInterval(-90 * 86_400),
            on: context.db)
        return ["deleted": String(deleted)]
    }

    /// A probe's payload: how long it waits before it finishes, and in which attempt only (tests use it to hold a
    /// first attempt while its worker is killed).
    struct Probe: Codable, Sendable {
        var sleepMilliseconds: Int?
        var sleepInAttempt: Int?

        enum CodingKeys: String, CodingKey {
            case sleepMilliseconds = "sleep_ms"
            case sleepInAttempt = "sleep_in_attempt"
        }
    }

    /// `probe`: does nothing but (optionally) wait, then succeeds naming the worker that ran it. For checking that a
    /// deployment's workers take jobs (`meander jobs probe`), and for the queue's benchmark and fault tests.
    static let probeKind = JobKind("probe", retry: RetryPolicy(maxAttempts: 3, base: 1, cap: 10)) { context in
        let probe = try context.payload(Probe.self)
        if let sleep = probe.sleepMilliseconds, sleep > 0, probe.sleepInAttempt.map({ $0 == context.job.attempts }) ?? true {
            try await Task.sleep(for: .milliseconds(min(sleep, 600_000)))
        }
        return ["worker": context.worker]
    }

    static let pruneSchedule = JobSchedule(
        name: "jobs_prune", cron: try! CronSchedule("15 3 * * *", timeZone: TimeZone(identifier: "Europe/Oslo")!),
        kind: pruneKind)
}

import FluentKit
import Foundation
import NIOConcurrencyHelpers
import SQLKit
import Testing
import Vapor

@testable import Meander

/// The durable job queue on the current engine: exactly-once effects with two nodes racing, retries under a
/// controlled clock, the transactional outbox, leases, cron ticks across nodes, cancelling and shutdown.
@Suite("Job queue")
struct JobQueueTests {
    static let start = Date(timeIntervalSince1970: 1_796_000_000)

    /// A kind whose effect is one row in `test_job_effects`, keyed by the payload's number, written in the same
    /// transaction as the job's completion: a second run of the same job would fail on the primary key.
    static func effectKind(runs: NIOLockedValueBox<Int>? = nil) -> JobKind {
        JobKind("test_effect", retry: RetryPolicy(maxAttempts: 3, base: 1, cap: 5)) { context in
            let number = try context.payload([String: Int].self)["n"] ?? -1
            runs?.withLockedValue { $0 += 1 }
            let worker = context.worker
            try await context.commit { db in
                try await db.sqlDatabase().raw(
                    "INSERT INTO test_job_effects (n, worker) VALUES (\(bind: number), \(bind: worker))"
                ).run()
            }
            return [:]
        }
    }

    static func createEffectTable(on db: any Database) async throws {
        try await db.sqlDatabase().raw("CREATE TABLE test_job_effects (n INTEGER PRIMARY KEY, worker TEXT NOT NULL)")
            .run()
    }

    static func count(_ sql: SQLQueryString, on db: any Database) async throws -> Int {
        try await db.sqlDatabase().raw(sql).first()?.decode(column: "n", as: Int.self) ?? -1
    }

    /// 2,000 on PostgreSQL, as the issue asks of app nodes sharing one server; SQLite is one process by design (one
    /// writer), and 300 jobs prove the same there without starving the rest of the suite on two cores.
    static let jobCount = TestEngine.current == .postgres ? 2_000 : 300

    @Test("two nodes run 2,000 jobs (300 on SQLite): each effect happens exactly once, and both nodes take work")
    func twoNodesExactlyOnce() async throws {
        try await withTestApp(configure: { $0.workers.pollIntervalMilliseconds = 20 }) { app in
            try await Self.createEffectTable(on: app.db)
            try await withSecondNode(of: app) { node in
                for application in [app, node] { application.meander.jobs.registry.register(Self.effectKind()) }
                let deps = app.meander.dependencies
                try await app.db.transaction { transaction in
                    for number in 0..<Self.jobCount {
                        try await JobQueue.enqueue(
                            JobRequest(Self.effectKind(), payload: #"{"n":\#(number)}"#), deps: deps, on: transaction)
                    }
                }
                app.meander.jobs.startWorkers()
                node.meander.jobs.startWorkers()
                let finished = try await waitUntil(seconds: 240) {
                    try await Self.count("SELECT COUNT(*) AS n FROM jobs WHERE status = 'succeeded'", on: app.db) == Self.jobCount
                }
                await app.meander.jobs.stopWorkers()
                await node.meander.jobs.stopWorkers()
                #expect(finished)
                #expect(try await Self.count("SELECT COUNT(*) AS n FROM test_job_effects", on: app.db) == Self.jobCount)
                #expect(try await Self.count("SELECT COUNT(*) AS n FROM jobs WHERE attempts <> 1", on: app.db) == 0)
                let byWorker = try await app.db.sqlDatabase().raw(
                    "SELECT worker, COUNT(*) AS n FROM test_job_effects GROUP BY worker"
                ).all().map { try $0.decode(column: "worker", as: String.self) }
                #expect(Set(byWorker) == [app.meander.jobs.workers.name, node.meander.jobs.workers.name])
            }
        }
    }

    @Test("a job enqueued in a transaction that rolls back never exists, and never runs")
    func rollbackDropsTheJob() async throws {
        struct Abort: Error {}
        try await withTestApp { app in
            try await Self.createEffectTable(on: app.db)
            app.meander.jobs.registry.register(Self.effectKind())
            let deps = app.meander.dependencies
            await #expect(throws: Abort.self) {
                try await app.db.transaction { transaction in
                    try await JobQueue.enqueue(JobRequest(Self.effectKind(), payload: #"{"n":1}"#), deps: deps, on: transaction)
                    throw Abort()
                }
            }
            #expect(try await app.meander.jobs.workers.drain() == 0)
            #expect(try await Job.query(on: app.db).count() == 0)
            // The same enqueue, committed, runs once.
            try await app.db.transaction { transaction in
                try await JobQueue.enqueue(JobRequest(Self.effectKind(), payload: #"{"n":1}"#), deps: deps, on: transaction)
            }
            #expect(try await app.meander.jobs.workers.drain() == 1)
            #expect(try await Self.count("SELECT COUNT(*) AS n FROM test_job_effects", on: app.db) == 1)
        }
    }

    @Test("a unique key enqueues the same logical job once")
    func uniqueKey() async throws {
        try await withTestApp { app in
            let deps = app.meander.dependencies
            let first = try await JobQueue.enqueue(
                JobRequest(JobMaintenance.probeKind, uniqueKey: "probe:once"), deps: deps, on: app.db)
            let second = try await JobQueue.enqueue(
                JobRequest(JobMaintenance.probeKind, uniqueKey: "probe:once"), deps: deps, on: app.db)
            #expect(first.inserted && !second.inserted)
            #expect(first.job.id == second.job.id)
            #expect(try await Job.query(on: app.db).count() == 1)
            #expect(try await app.meander.jobs.workers.drain() == 1)
            // Still once after it ran.
            let third = try await JobQueue.enqueue(
                JobRequest(JobMaintenance.probeKind, uniqueKey: "probe:once"), deps: deps, on: app.db)
            #expect(!third.inserted && third.job.status == .succeeded)
        }
    }

    @Test("a failing job retries on the backoff schedule, under a controlled clock, then is discarded with its error")
    func retriesFollowTheSchedule() async throws {
        let clock = TestClock(Self.start)
        let deps = AppDependencies(clock: clock.clock, uuid: .live)
        struct Flaky: Error {}
        try await withTestApp(dependencies: deps) { app in
            let failures = NIOLockedValueBox(0)
            let registry = JobRegistry()
            let flaky = JobKind("test_flaky", retry: RetryPolicy(maxAttempts: 3, base: 10, cap: 100)) { _ in
                failures.withLockedValue { $0 += 1 }
                throw Flaky()
            }
            registry.register(flaky)
            let workers = JobWorkers(
                registry: registry, db: app.db, deps: deps, logger: app.logger, configuration: .standard,
                metrics: app.meander.jobs.metrics, name: "test", random: { 0.5 })
            let (job, _) = try await JobQueue.enqueue(JobRequest(flaky), deps: deps, on: app.db)
            let id = try job.requireID()

            #expect(try await workers.drain() == 1)
            var row = try #require(try await Job.find(id, on: app.db))
            // Attempt 1 failed: the ceiling is 10 s, the jitter 0.5, so the next run is due in 5 s.
            #expect(row.status == .queued && row.attempts == 1)
            #expect(abs(row.runAt.timeIntervalSince(Self.start) - 5) < 0.001)
            clock.advance(by: .seconds(4))
            #expect(try await workers.drain() == 0)
            clock.advance(by: .seconds(1))
            #expect(try await workers.drain() == 1)
            row = try #require(try await Job.find(id, on: app.db))
            // Attempt 2 failed: ceiling 20 s, so 10 s from now.
            #expect(row.status == .queued && row.attempts == 2)
            #expect(abs(row.runAt.timeIntervalSince(clock.now) - 10) < 0.001)
            clock.advance(by: .seconds(10))
            #expect(try await workers.drain() == 1)
            row = try #require(try await Job.find(id, on: app.db))
            #expect(row.status == .discarded && row.attempts == 3)
            #expect(row.lastError?.contains("Flaky") == true)
            #expect(row.finishedAt == clock.now)
            clock.advance(by: .seconds(3600))
            #expect(try await workers.drain() == 0)
            #expect(failures.withLockedValue { $0 } == 3)
        }
    }

    @Test("a node takes no job of a kind it has no handler for (a newer kind, during a rolling deploy)")
    func unknownKindStaysQueued() async throws {
        try await withTestApp { app in
            let (job, _) = try await JobQueue.enqueue(
                JobRequest(kind: "from_a_newer_version", queue: JobQueues.default, maxAttempts: 1),
                deps: app.meander.dependencies, on: app.db)
            #expect(try await app.meander.jobs.workers.drain() == 0)
            #expect(try await Job.find(job.id, on: app.db)?.status == .queued)
            app.meander.jobs.registry.register(JobKind("from_a_newer_version") { _ in ["ran": "yes"] })
            #expect(try await app.meander.jobs.workers.drain() == 1)
            #expect(try await Job.find(job.id, on: app.db)?.status == .succeeded)
        }
    }

    @Test("an error that a retry cannot mend fails the job at once")
    func permanentFailure() async throws {
        try await withTestApp { app in
            let registry = app.meander.jobs.registry
            let kind = JobKind("test_refused") { _ in throw AppError(.conflict, "The input is wrong.") }
            registry.register(kind)
            let (job, _) = try await JobQueue.enqueue(JobRequest(kind), deps: app.meander.dependencies, on: app.db)
            #expect(try await app.meander.jobs.workers.drain() == 1)
            let row = try #require(try await Job.find(try job.requireID(), on: app.db))
            #expect(row.status == .failed && row.attempts == 1 && row.lastError == "The input is wrong.")
        }
    }

    @Test("a job whose worker stopped is taken again after its lease, and completes once")
    func expiredLeaseIsTakenAgain() async throws {
        let clock = TestClock(Self.start)
        let deps = AppDependencies(clock: clock.clock, uuid: .live)
        try await withTestApp(dependencies: deps) { app in
            try await Self.createEffectTable(on: app.db)
            let runs = NIOLockedValueBox(0)
            app.meander.jobs.registry.register(Self.effectKind(runs: runs))
            let (job, _) = try await JobQueue.enqueue(
                JobRequest(Self.effectKind(), payload: #"{"n":7}"#), deps: deps, on: app.db)
            // A worker on another node claims it and dies without a word.
            let claimed = try await JobQueue.claim(
                queue: JobQueues.default, limit: 10, worker: "dead-node", lease: 60, now: clock.now, on: app.db)
            #expect(claimed.map(\.id) == [try job.requireID()])
            // Within the lease nobody takes it.
            clock.advance(by: .seconds(59))
            #expect(try await app.meander.jobs.workers.drain() == 0)
            clock.advance(by: .seconds(2))
            #expect(try await app.meander.jobs.workers.drain() == 1)
            // The dead worker's late completion is refused by the fence.
            #expect(
                try await JobQueue.complete(claimed[0], worker: "dead-node", result: [:], now: clock.now, on: app.db) == false)
            let row = try #require(try await Job.find(try job.requireID(), on: app.db))
            #expect(row.status == .succeeded && row.attempts == 2)
            #expect(row.lockedBy == app.meander.jobs.workers.name)
            #expect(runs.withLockedValue { $0 } == 1)
            #expect(try await Self.count("SELECT COUNT(*) AS n FROM test_job_effects", on: app.db) == 1)
        }
    }

    @Test("a recurring schedule fires once per tick with two nodes looking")
    func cronOncePerTickAcrossNodes() async throws {
        let clock = TestClock(Self.start)
        let deps = AppDependencies(clock: clock.clock, uuid: .live)
        try await withTestApp(dependencies: deps) { app in
            try await withSecondNode(of: app, dependencies: deps) { node in
                let kind = JobKind("test_tick") { _ in [:] }
                let schedule = JobSchedule(
                    name: "test_every_minute", cron: try CronSchedule("* * * * *", timeZone: .gmt), kind: kind)
                let nodes = [app, node].map { application in
                    application.meander.jobs.registry.register(schedule)
                    return JobWorkers(
                        registry: application.meander.jobs.registry, db: application.db, deps: deps,
                        logger: application.logger, configuration: .standard, metrics: application.meander.jobs.metrics,
                        name: "node-\(UUID().uuidString.prefix(8))")
                }
                // Both nodes start now; neither fires a tick from before it started.
                for workers in nodes { workers.start() }
                for workers in nodes { await workers.shutdown() }
                for _ in 0..<5 {
                    clock.advance(by: .seconds(60))
                    async let first: Void = nodes[0].enqueueDueTicks()
                    async let second: Void = nodes[1].enqueueDueTicks()
                    _ = try await (first, second)
                    // Looking twice within the same minute adds nothing.
                    try await nodes[1].enqueueDueTicks()
                }
                let ticks = try await Job.query(on: app.db).filter(\.$kind == "test_tick").all()
                #expect(ticks.count == 5)
                #expect(Set(ticks.compactMap(\.uniqueKey)).count == 5)
            }
        }
    }

    @Test("cancelling a running job stops it at the next heartbeat; retrying queues it again")
    func cancelAndRetry() async throws {
        try await withTestApp { app in
            let jobs = app.meander.jobs
            let started = NIOLockedValueBox(false)
            let stopped = NIOLockedValueBox(false)
            let kind = JobKind("test_long") { _ in
                started.withLockedValue { $0 = true }
                do {
                    try await Task.sleep(for: .seconds(300))
                } catch {
                    stopped.withLockedValue { $0 = true }
                    throw error
                }
                return [:]
            }
            jobs.registry.register(kind)
            let (job, _) = try await JobQueue.enqueue(JobRequest(kind), deps: app.meander.dependencies, on: app.db)
            let id = try job.requireID()
            let run = Task { try await jobs.workers.drain(maxJobs: 1) }
            #expect(try await waitUntil(seconds: 30) { started.withLockedValue { $0 } })
            #expect(try await Jobs.cancel(id, by: .cli, deps: app.meander.dependencies, on: app.db).status == .cancelled)
            await jobs.workers.heartbeat()
            _ = try await run.value
            #expect(stopped.withLockedValue { $0 })
            #expect(try await Job.find(id, on: app.db)?.status == .cancelled)
            await #expect(throws: AppError.self) {
                try await Jobs.cancel(id, by: .cli, deps: app.meander.dependencies, on: app.db)
            }
            let retried = try await Jobs.retry(id, by: .cli, deps: app.meander.dependencies, on: app.db)
            #expect(retried.status == .queued && retried.attempts == 0)
            let actions = try await AuditLogEntry.query(on: app.db).filter(\.$targetID == id).all().map(\.action)
            #expect(actions.sorted() == ["job.cancelled", "job.retried"])
        }
    }

    @Test("shutdown gives back what is still running after the grace period, its attempt not counted")
    func shutdownReleases() async throws {
        try await withTestApp(configure: {
            $0.workers.shutdownGrace = 0
            $0.workers.pollIntervalMilliseconds = 20
        }) { app in
            let jobs = app.meander.jobs
            let started = NIOLockedValueBox(false)
            let kind = JobKind("test_stuck") { _ in
                started.withLockedValue { $0 = true }
                try await Task.sleep(for: .seconds(300))
                return [:]
            }
            jobs.registry.register(kind)
            let (job, _) = try await JobQueue.enqueue(JobRequest(kind), deps: app.meander.dependencies, on: app.db)
            jobs.startWorkers()
            #expect(try await waitUntil(seconds: 30) { started.withLockedValue { $0 } })
            await jobs.stopWorkers()
            let row = try #require(try await Job.find(try job.requireID(), on: app.db))
            #expect(row.status == .queued && row.attempts == 0 && row.lockedUntil == nil)
        }
    }

    @Test("metrics show the queue's depth and oldest age per kind, and runs by outcome")
    func metrics() async throws {
        let clock = TestClock(Self.start)
        let deps = AppDependencies(clock: clock.clock, uuid: .live)
        try await withTestApp(dependencies: deps) { app in
            for _ in 0..<3 { try await JobQueue.enqueue(JobRequest(JobMaintenance.probeKind), deps: deps, on: app.db) }
            clock.advance(by: .seconds(42))
            // GET /metrics reads the queue when scraped.
            let scraped = try await API.send(app, .GET, "/metrics")
            #expect(scraped.text.contains(#"meander_jobs_queued{kind="probe"} 3.0"#))
            var text = app.meander.metrics.exposition()
            #expect(text.contains(#"meander_jobs_queued{kind="probe"} 3.0"#))
            #expect(text.contains(#"meander_jobs_oldest_queued_age_seconds{kind="probe"} 42.0"#))
            #expect(try await app.meander.jobs.workers.drain() == 3)
            try await app.meander.jobs.metrics.refresh(now: clock.now, on: app.db)
            text = app.meander.metrics.exposition()
            #expect(text.contains(#"meander_jobs_queued{kind="probe"} 0.0"#))
            #expect(text.contains(#"meander_jobs_runs_total{kind="probe",outcome="succeeded"} 3"#))
        }
    }
}

/// Polls `condition` (real time, every 20 ms) until it holds or `seconds` pass; whether it held. For waiting on work
/// that runs concurrently, never for time-based rules (those use a `TestClock`).
func waitUntil(seconds: Double, _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// A second app node on the test app's database, configured the same way (never migrating), shut down afterwards.
func withSecondNode(
    of app: Application, dependencies: AppDependencies? = nil, _ body: (Application) async throws -> Void
) async throws {
    let node = try await Application.make(.testing)
    node.logger.logLevel = .warning
    do {
        try await configure(node, config: app.meander.config, dependencies: dependencies ?? app.meander.dependencies)
        try await body(node)
    } catch {
        try? await node.asyncShutdown()
        throw error
    }
    try await node.asyncShutdown()
}

/// A real worker process, killed with SIGKILL in the middle of a job.
@Suite("Job queue: a killed worker")
struct KilledWorkerTests {
    /// `.build/debug/meander`, built with the tests.
    static var binary: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".build/debug/meander")
    }

    @Test("kill -9 in the middle of a job: the job is taken again after its lease and completes once")
    func killNine() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build first: \(Self.binary.path)")
        let clock = TestClock(Date())
        try await withTestApp(dependencies: .init(clock: clock.clock, uuid: .live)) { app in
            let config = app.meander.config
            let (job, _) = try await JobQueue.enqueue(
                JobRequest(
                    JobMaintenance.probeKind,
                    payload: JSONText.encode(JobMaintenance.Probe(sleepMilliseconds: 600_000, sleepInAttempt: 1))),
                deps: app.meander.dependencies, on: app.db)
            let id = try job.requireID()

            var environment = [
                "MEANDER_DATA_DIR": config.dataDirectory, "MEANDER_QUEUES": "default=1,exports=0,notifications=0",
                "MEANDER_JOB_POLL_MS": "50", "MEANDER_JOB_LEASE_SECONDS": "30", "LOG_LEVEL": "warning",
                "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            ]
            if case .postgres(let url) = config.database {
                environment["DATABASE_URL"] = url
                environment["MEANDER_TOKEN_SIGNING_KEY"] = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
                environment["MEANDER_MASTER_KEY"] = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
            }
            let worker = Process()
            worker.executableURL = Self.binary
            worker.arguments = ["worker"]
            worker.environment = environment
            worker.standardOutput = FileHandle.nullDevice
            try worker.run()
            defer { if worker.isRunning { kill(worker.processIdentifier, SIGKILL) } }

            let taken = try await waitUntil(seconds: 120) {
                let row = try await Job.find(id, on: app.db)
                return row?.status == .running && row?.lockedBy != nil
            }
            #expect(taken, "the worker process never took the job")
            let holder = try #require(try await Job.find(id, on: app.db)?.lockedBy)
            kill(worker.processIdentifier, SIGKILL)
            worker.waitUntilExit()
            #expect(worker.terminationReason == .uncaughtSignal)

            // Within the lease the job stays with the dead worker.
            #expect(try await app.meander.jobs.workers.drain() == 0)
            // After it, this node takes it again and finishes it.
            clock.set(Date().addingTimeInterval(31))
            #expect(try await app.meander.jobs.workers.drain() == 1)
            let row = try #require(try await Job.find(id, on: app.db))
            #expect(row.status == .succeeded && row.attempts == 2)
            let result = JSONText.decode([String: String].self, from: row.result ?? "") ?? [:]
            #expect(result["worker"] == app.meander.jobs.workers.name)
            #expect(result["worker"] != holder)
        }
    }
}

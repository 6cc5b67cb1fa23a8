import Fluent
import Vapor

/// `meander jobs <subcommand>`: the durable job queue from the command line.
struct JobsCommand: OperatorCommandGroup {
    var summary: String { "The job queue: list, show, retry or cancel jobs; run what is due." }

    var help: String {
        """
        The durable job queue (exports, re-judging, notification delivery, nightly upkeep). Jobs live in the \
        database; every node's workers share them. Retrying and cancelling are audited.
        """
    }

    var subcommands: [(name: String, command: any OperatorCommand)] {
        [
            ("list", JobsListCommand()),
            ("show", JobsShowCommand()),
            ("retry", JobsChangeCommand(change: .retry)),
            ("cancel", JobsChangeCommand(change: .cancel)),
            ("run", JobsRunCommand()),
            ("probe", JobsProbeCommand()),
        ]
    }

    /// One job as a block of `key: value` lines.
    static func describe(_ job: Job) -> [String] {
        var lines = [
            "id: \(job.id?.uuidString.lowercased() ?? "")", "kind: \(job.kind)", "queue: \(job.queue)",
            "status: \(job.status.rawValue)", "attempts: \(job.attempts) of \(job.maxAttempts)",
            "run_at: \(job.runAt.formatted(.iso8601))",
        ]
        if let total = job.progressTotal { lines.append("progress: \(job.progressDone) of \(total)") }
        if let key = job.uniqueKey { lines.append("unique_key: \(key)") }
        if let worker = job.lockedBy { lines.append("locked_by: \(worker)") }
        if let until = job.lockedUntil { lines.append("locked_until: \(until.formatted(.iso8601))") }
        if let error = job.lastError { lines.append("error: \(error)") }
        if let result = job.result, result != "{}" { lines.append("result: \(result)") }
        if let organization = job.$organization.id { lines.append("organization_id: \(organization.uuidString.lowercased())") }
        if let created = job.createdAt { lines.append("created_at: \(created.formatted(.iso8601))") }
        if let finished = job.finishedAt { lines.append("finished_at: \(finished.formatted(.iso8601))") }
        return lines
    }

    static func jobID(_ raw: String) throws -> UUID {
        guard let id = UUID(uuidString: raw) else { throw UsageError("meander jobs: '\(raw)' is not a job id (a UUID).") }
        return id
    }
}

/// `meander jobs list [--status S] [--kind K] [--queue Q] [--limit N]`.
struct JobsListCommand: OperatorCommand {
    struct Signature: CommandSignature {
        @Option(name: "status", help: "queued, running, succeeded, failed, cancelled or discarded.")
        var status: String?

        @Option(name: "kind", help: "Only jobs of this kind (e.g. bufdir_export, notification_delivery).")
        var kind: String?

        @Option(name: "queue", help: "default, exports or notifications.")
        var queue: String?

        @Option(name: "limit", help: "How many, newest first (1-1000, default 50).")
        var limit: Int?
    }

    var summary: String { "List jobs, newest first: id, kind, queue, status, attempts, run_at." }

    var help: String { "List jobs, newest first, one per line: id, kind, queue, status, attempts/max, run_at, error." }

    func run(using context: CommandContext, signature: Signature) async throws {
        var filter = JobFilter()
        if let raw = signature.status {
            guard let status = Job.Status(rawValue: raw) else {
                throw UsageError(
                    "meander jobs list: --status must be one of \(Job.Status.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            filter.status = status
        }
        if let queue = signature.queue, !JobQueues.all.contains(queue) {
            throw UsageError("meander jobs list: --queue must be one of \(JobQueues.all.joined(separator: ", ")).")
        }
        filter.queue = signature.queue
        filter.kind = signature.kind
        let limit = signature.limit ?? 50
        guard (1...1000).contains(limit) else { throw UsageError("meander jobs list: --limit must be 1-1000.") }
        let app = context.application
        let page = KeysetPage(keyset: .jobs, limit: limit, after: nil, caller: nil, key: app.meander.pageCursorKey)
        let (jobs, _) = try await Jobs.list(filter, page: { page }, by: .cli, on: app.db)
        for job in jobs {
            var columns = [
                job.id?.uuidString.lowercased() ?? "", job.kind, job.queue, job.status.rawValue,
                "\(job.attempts)/\(job.maxAttempts)", job.runAt.formatted(.iso8601),
            ]
            if let error = job.lastError { columns.append(error) }
            context.console.print(columns.joined(separator: "  "))
        }
        if jobs.isEmpty { context.console.print("No jobs.") }
    }
}

/// `meander jobs show <id>`.
struct JobsShowCommand: OperatorCommand {
    struct Signature: CommandSignature {
        @Argument(name: "id", help: "The job's id.")
        var id: String
    }

    var summary: String { "Show one job: attempts, lease, progress, last error and result." }

    var help: String { "Show one job: its kind, queue, status, attempts, lease, progress, last error and result." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let job = try await Jobs.read(try JobsCommand.jobID(signature.id), by: .cli, on: context.application.db)
        for line in JobsCommand.describe(job) { context.console.print(line) }
    }
}

/// `meander jobs retry <id>` and `meander jobs cancel <id>`: one change of a job's state, audited.
struct JobsChangeCommand: OperatorCommand {
    enum Change {
        case retry, cancel
    }

    struct Signature: CommandSignature {
        @Argument(name: "id", help: "The job's id.")
        var id: String
    }

    let change: Change

    var summary: String {
        switch change {
        case .retry: "Queue a failed, discarded or cancelled job again (audited)."
        case .cancel: "Cancel a queued or running job (audited)."
        }
    }

    var help: String {
        switch change {
        case .retry: "Queue a failed, discarded or cancelled job again, with fresh attempts. Audited as job.retried."
        case .cancel:
            "Cancel a queued or running job; a running one stops at its worker's next heartbeat. Audited as job.cancelled."
        }
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        let id = try JobsCommand.jobID(signature.id)
        let deps = app.meander.dependencies
        let job =
            switch change {
            case .retry: try await Jobs.retry(id, by: .cli, deps: deps, on: app.db)
            case .cancel: try await Jobs.cancel(id, by: .cli, deps: deps, on: app.db)
            }
        let verb = change == .retry ? "queued again" : "cancelled"
        context.console.print("\(verb): \(job.id?.uuidString.lowercased() ?? "") (\(job.kind))")
    }
}

/// `meander jobs run`: runs what is due now, then exits.
struct JobsRunCommand: OperatorCommand {
    struct Signature: CommandSignature {
        @Option(name: "queue", help: "Only this queue (default, exports or notifications).")
        var queue: String?
    }

    var summary: String { "Run every job that is due now on this machine, then exit." }

    var help: String {
        """
        Run every job that is due now (and jobs whose worker died, once their lease has run out), in this process, \
        then exit: for a node that runs no workers, or after an outage. Prints how many ran.
        """
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        var queues = JobQueues.all
        if let queue = signature.queue {
            guard JobQueues.all.contains(queue) else {
                throw UsageError("meander jobs run: --queue must be one of \(JobQueues.all.joined(separator: ", ")).")
            }
            queues = [queue]
        }
        let ran = try await context.application.meander.jobs.workers.drain(queues: queues)
        context.console.print("ran \(ran) jobs")
    }
}

/// `meander jobs probe [--count N] [--sleep-ms M]`: enqueues probe jobs for the workers of any node to take.
struct JobsProbeCommand: OperatorCommand {
    struct Signature: CommandSignature {
        @Option(name: "count", help: "How many probe jobs (1-1000000, default 1).")
        var count: Int?

        @Option(name: "sleep-ms", help: "How long each waits before it succeeds, in milliseconds (default 0).")
        var sleepMilliseconds: Int?
    }

    var summary: String { "Enqueue probe jobs that workers take and finish: is anything running the queue?" }

    var help: String {
        """
        Enqueue probe jobs (kind 'probe', queue default): each waits --sleep-ms, then succeeds naming the worker \
        that ran it ('meander jobs list --kind probe'). Shows whether this deployment's workers take jobs.
        """
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        let count = signature.count ?? 1
        guard (1...1_000_000).contains(count) else { throw UsageError("meander jobs probe: --count must be 1-1000000.") }
        let sleep = signature.sleepMilliseconds ?? 0
        guard (0...600_000).contains(sleep) else { throw UsageError("meander jobs probe: --sleep-ms must be 0-600000.") }
        let app = context.application
        let payload = JSONText.encode(JobMaintenance.Probe(sleepMilliseconds: sleep))
        let deps = app.meander.dependencies
        var done = 0
        while done < count {
            let batch = min(500, count - done)
            try await app.db.transaction { transaction in
                for _ in 0..<batch {
                    try await JobQueue.enqueue(JobRequest(JobMaintenance.probeKind, payload: payload), deps: deps, on: transaction)
                }
            }
            done += batch
        }
        context.console.print("enqueued \(count) probe jobs")
    }
}

/// `meander worker`: this process runs job workers and nothing else (no HTTP), until SIGINT or SIGTERM.
struct WorkerCommand: OperatorCommand {
    struct Signature: CommandSignature {}

    var summary: String { "Run job workers only (no HTTP) until SIGINT or SIGTERM." }

    var help: String {
        """
        Run job workers and nothing else, for a separate worker node: they share the database's queue with every \
        other node. MEANDER_QUEUES sets each queue's concurrency (default default=4,exports=1,notifications=8). \
        On SIGINT or SIGTERM, running jobs finish for up to MEANDER_JOB_SHUTDOWN_GRACE_SECONDS, then are given back.
        """
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        let jobs = app.meander.jobs
        guard jobs.startWorkers() else {
            throw UsageError("meander worker: MEANDER_WORKERS=0 turns every queue off; a worker needs at least one.")
        }
        app.logger.notice("Meander \(MeanderVersion.current) worker \(jobs.workers.name) running; stop with SIGINT or SIGTERM")
        await WorkerCommand.waitForSignal()
        await jobs.stopWorkers()
    }

    /// Returns when SIGINT or SIGTERM arrives.
    static func waitForSignal() async {
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        let sources = [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield() }
            source.resume()
            return source
        }
        for await _ in stream { break }
        for source in sources { source.cancel() }
    }
}

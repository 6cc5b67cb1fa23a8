import Fluent
import Foundation
import NIOConcurrencyHelpers
import Vapor

/// Background work started by a request (exports, re-judging activities), tracked in `jobs` for its progress.
///
/// The work runs on this app node; shutting the application down waits for it. A job whose node died stays
/// `running` and is reported as such; starting it again is the client's choice.
final class BackgroundWork: Sendable {
    private let running = NIOLockedValueBox<[UUID: Task<Void, Never>]>([:])

    /// Runs `work` for the job `id`, recording its start, progress and end in the job's row.
    func start(
        _ job: Job, on db: any Database, clock: AppClock, logger: Logger,
        _ work: @escaping @Sendable (JobProgress) async throws -> [String: String]
    ) throws {
        let id = try job.requireID()
        let progress = JobProgress(id: id, db: db, clock: clock)
        let task = Task {
            do {
                let result = try await work(progress)
                await progress.finish(.succeeded, result: result, error: nil)
            } catch {
                logger.warning("background job failed", metadata: ["job_id": .string(id.uuidString), "kind": .string(job.kind)])
                let message = (error as? AppError)?.detail ?? "The job failed; quote its id when reporting it."
                var result: [String: String] = [:]
                if let failure = error as? JobFailure { result = failure.result }
                await progress.finish(.failed, result: result, error: (error as? JobFailure)?.message ?? message)
            }
            _ = self.running.withLockedValue { $0.removeValue(forKey: id) }
        }
        running.withLockedValue { $0[id] = task }
    }

    /// Waits for every job started so far (application shutdown, tests).
    func waitForAll() async {
        let tasks = running.withLockedValue { Array($0.values) }
        for task in tasks { await task.value }
    }
}

/// A job that failed, with what it can still report (e.g. the failed export's audit record).
struct JobFailure: Error {
    var message: String
    var result: [String: String]
}

/// Writes a job's progress to its row, at most a few times a second.
final class JobProgress: Sendable {
    let id: UUID
    private let db: any Database
    private let clock: AppClock
    /// When progress was last written, by the machine's monotonic clock: the throttle is about real write rates,
    /// not about the app's (possibly fixed) time.
    private let last = NIOLockedValueBox<(done: Int, at: ContinuousClock.Instant?)>((-1, nil))

    init(id: UUID, db: any Database, clock: AppClock) {
        self.id = id
        self.db = db
        self.clock = clock
    }

    func report(done: Int, total: Int?) async {
        let now = ContinuousClock.now
        let due = last.withLockedValue { last -> Bool in
            let quiet = last.at.map { now - $0 >= .milliseconds(250) } ?? true
            guard done != last.done, quiet || done == total else { return false }
            last = (done, now)
            return true
        }
        guard due else { return }
        try? await Job.query(on: db).filter(\.$id == id)
            .set(\.$progressDone, to: done).set(\.$progressTotal, to: total).set(\.$status, to: .running).update()
    }

    func finish(_ status: Job.Status, result: [String: String], error: String?) async {
        try? await Job.query(on: db).filter(\.$id == id)
            .set(\.$status, to: status).set(\.$finishedAt, to: clock.now())
            .set(\.$result, to: JSONText.encode(result)).set(\.$lastError, to: error)
            .update()
        if status == .succeeded {
            try? await db.sqlDatabase().raw(
                "UPDATE jobs SET progress_done = COALESCE(progress_total, progress_done) WHERE id = \(bind: id)"
            ).run()
        }
    }
}

struct BackgroundWorkShutdown: LifecycleHandler {
    func shutdownAsync(_ application: Application) async {
        await application.meander.background.waitForAll()
    }
}

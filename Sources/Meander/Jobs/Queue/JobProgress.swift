import FluentKit
import Foundation
import NIOConcurrencyHelpers

/// Writes a running job's progress to its row, at most a few times a second.
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
        let (db, id) = (self.db, self.id)
        try? await db.serializedWrite {
            try await Job.query(on: db).filter(\.$id == id).filter(\.$status == .running)
                .set(\.$progressDone, to: done).set(\.$progressTotal, to: total).update()
        }
    }
}

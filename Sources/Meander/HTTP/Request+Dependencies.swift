import Foundation
import Vapor

extension Request {
    /// The app's clock and id source (see `AppDependencies`).
    var dependencies: AppDependencies { application.meander.dependencies }

    /// The time now, by the app's clock.
    var now: Date { dependencies.now }
}

extension Request {
    /// Where a service started by this request runs work that outlives it: this node's background work, on the
    /// application's database, logging to this request's logger.
    var jobRunner: JobRunner {
        JobRunner(background: application.meander.background, db: application.db, logger: logger)
    }
}

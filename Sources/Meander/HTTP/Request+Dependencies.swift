import Foundation
import Vapor

extension Request {
    /// The app's clock and id source (see `AppDependencies`).
    var dependencies: AppDependencies { application.meander.dependencies }

    /// The time now, by the app's clock.
    var now: Date { dependencies.now }
}

import Fluent
import Foundation
import Logging

/// Jobs as the people who started them see them. The queue itself is `BackgroundWork`'s; this reads `jobs`.
enum Jobs {
    /// One of the caller's own jobs; anyone else's, or a missing one, is 404.
    static func mine(_ id: UUID?, access: Access, on db: any Database) async throws -> Job {
        let principal = try access.authorizeSelf()
        guard let id, let job = try await Job.find(id, on: db), job.$requestedBy.id == principal.userID else {
            throw AppError(.notFound, "No such job of yours.")
        }
        return job
    }
}

/// Where a service starts work that outlives the request: the node's background work, on the application's database
/// (not a request's, which ends with the request), logging to the starter's logger.
struct JobRunner: Sendable {
    let background: BackgroundWork
    let db: any Database
    let logger: Logger
}

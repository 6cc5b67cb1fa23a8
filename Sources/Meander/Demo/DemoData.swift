import Fluent
import Foundation
import Logging
import Vapor

/// The two sizes of the demo data set.
enum DemoSize: String, Sendable, CaseIterable {
    /// Loads in seconds: for `meander demo`, the tests and the API fuzz.
    case small
    /// For benchmarks: 40 chapters, 2,000 mentors, 50,000 contacts, 1,000,000 activities.
    case large
}

/// What a load wrote.
struct DemoSummary: Sendable, CustomStringConvertible, Equatable {
    /// (table, rows written), in the fixed order in which the generator writes them.
    var counts: [(String, Int)]

    static func == (lhs: DemoSummary, rhs: DemoSummary) -> Bool {
        lhs.counts.elementsEqual(rhs.counts, by: { $0 == $1 })
    }

    /// Rows written to `table`, or nil when the load did not write that table.
    subscript(table: String) -> Int? {
        counts.first(where: { $0.0 == table })?.1
    }

    var description: String {
        "Demo data loaded:\n" + counts.map { "  \($0.0): \($0.1)" }.joined(separator: "\n")
    }
}

/// Entry points of the demo data set, used by `meander seed` and `meander demo`.
enum DemoData {
    /// The password of every demo user, printed by `meander demo`; it is public, so demo data must never reach
    /// a production database.
    static let password = "demo-password-2026"

    /// The fixed sign-in accounts, whatever the seed and size.
    static let logins: [(email: String, role: String)] = [
        (email: "admin@demo.meander.no", role: "org_admin, national_admin"),
        (email: "platform@demo.meander.no", role: "platform_admin"),
        (email: "coordinator@demo.meander.no", role: "coordinator"),
        (email: "mentor@demo.meander.no", role: "peer_mentor"),
    ]

    static func isDatabaseEmpty(_ db: any Database) async throws -> Bool {
        try await Organization.query(on: db).count() == 0
    }

    /// Writes the data set for `size` and `seed` into an empty, migrated database.
    ///
    /// The same seed writes the same rows (ids and values) on every run; only Fluent's `created_at`/`updated_at`
    /// timestamps and the salt of the shared password hash differ. `progress` draws a bar per table on stderr.
    static func load(
        into db: any Database, size: DemoSize, seed: UInt64, logger: Logger,
        progress: ProgressReporter? = ProgressReporter()
    ) async throws -> DemoSummary {
        let start = ContinuousClock.now
        logger.info("Loading the \(size.rawValue) demo data set", metadata: ["seed": "\(seed)"])
        let passwordHash = try Bcrypt.hash(password, cost: 10)
        let generator = DemoDataGenerator(
            plan: DemoPlan(size: size), seed: seed, passwordHash: passwordHash, writer: DemoWriter(db: db, progress: progress),
            logger: logger)
        let summary = try await generator.run()
        logger.info(
            "Demo data set loaded",
            metadata: ["seed": "\(seed)", "size": "\(size.rawValue)", "elapsed": "\(ContinuousClock.now - start)"])
        return summary
    }
}

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
    /// The default password of every demo user (`MEANDER_DEMO_PASSWORD` overrides it), printed by `meander demo`;
    /// it is public, so demo data must never reach a production database.
    static let password = "demo-password-2026"

    /// The fixed sign-in accounts, one per role, whatever the seed and size: `<role>@demo.meander.no`, in the
    /// demo's first chapter, or its national organisation for the admin roles.
    static let logins: [(email: String, role: String)] = [
        (email: "peer_mentor@demo.meander.no", role: "peer_mentor"),
        (email: "coordinator@demo.meander.no", role: "coordinator"),
        (email: "org_admin@demo.meander.no", role: "org_admin"),
        (email: "national_admin@demo.meander.no", role: "national_admin"),
        (email: "platform_admin@demo.meander.no", role: "platform_admin"),
    ]

    static func isDatabaseEmpty(_ db: any Database) async throws -> Bool {
        try await Organization.query(on: db).count() == 0
    }

    /// Writes the data set for `size` and `seed` into an empty, migrated database.
    ///
    /// The same seed writes the same rows (ids and values) on every run; only Fluent's `created_at`/`updated_at`
    /// timestamps and the salt of the shared password hash differ. `progress` draws a bar per table on stderr.
    static func load(
        into db: any Database, size: DemoSize, seed: UInt64, logger: Logger, password: String = DemoData.password,
        progress: ProgressReporter? = ProgressReporter()
    ) async throws -> DemoSummary {
        let start = ContinuousClock.now
        logger.info("Loading the \(size.rawValue) demo data set", metadata: ["seed": "\(seed)"])
        // One hash for every demo user keeps loading fast; cost 10 is bcrypt's floor for real use.
        let passwordHash = try PasswordHasher(cost: 10).hash(password)
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

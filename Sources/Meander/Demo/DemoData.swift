import Fluent
import Foundation
import Logging
import Vapor

/// The two sizes of the demo data set.
enum DemoSize: String, Sendable, CaseIterable {
    /// Loads in seconds: for `meander demo`, the tests and the API fuzz. Either size adds the same small second tenant.
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

    /// Both loads' rows, table by table, in this summary's order (tables only `other` wrote go last).
    func adding(_ other: DemoSummary) -> DemoSummary {
        var counts = self.counts
        for (table, rows) in other.counts {
            if let index = counts.firstIndex(where: { $0.0 == table }) {
                counts[index].1 += rows
            } else {
                counts.append((table, rows))
            }
        }
        return DemoSummary(counts: counts)
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

    /// The fixed sign-in accounts, whatever the seed and size: `<role>@demo.meander.no` in the first tenant (its first
    /// chapter, or its national organisation for the admin roles), the platform operator, then the same roles in the
    /// second tenant, `<role>@demo2.meander.no`. `organization` says whose.
    static let logins: [(email: String, role: String, organization: String)] =
        tenantLogins(.first)
        + [(email: "platform_admin@" + DemoTenant.first.emailDomain, role: "platform_admin", organization: "the platform")]
        + tenantLogins(.second)

    private static func tenantLogins(_ tenant: DemoTenant) -> [(email: String, role: String, organization: String)] {
        DemoTenant.loginRoles.map { (email: tenant.loginEmail($0), role: $0.rawValue, organization: tenant.nationalName) }
    }

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
        // The main tenant at the size asked for, then the small second tenant (the same at every size).
        let shared = DemoShared()
        let summary = try await DemoDataGenerator(
            plan: DemoPlan(size: size), tenant: .first, seed: seed, passwordHash: passwordHash,
            writer: DemoWriter(db: db, progress: progress), logger: logger, shared: shared
        ).run()
        let second = try await DemoDataGenerator(
            plan: .secondTenant, tenant: .second, seed: seed, passwordHash: passwordHash,
            writer: DemoWriter(db: db, progress: nil), logger: logger, shared: shared
        ).run()
        let total = summary.adding(second)
        logger.info(
            "Demo data set loaded",
            metadata: ["seed": "\(seed)", "size": "\(size.rawValue)", "elapsed": "\(ContinuousClock.now - start)"])
        return total
    }
}

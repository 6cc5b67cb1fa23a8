import Fluent
import Foundation
import Logging

/// The two sizes of the demo data set.
enum DemoSize: String, Sendable, CaseIterable {
    /// Loads in seconds: for `meander demo`, the tests and the API fuzz.
    case small
    /// For benchmarks: 40 chapters, 2,000 mentors, 50,000 contacts, 1,000,000 activities.
    case large
}

/// What a load wrote.
struct DemoSummary: Sendable, CustomStringConvertible, Equatable {
    var counts: [(String, Int)]

    static func == (lhs: DemoSummary, rhs: DemoSummary) -> Bool {
        lhs.counts.elementsEqual(rhs.counts, by: { $0 == $1 })
    }

    var description: String {
        "Demo data loaded:\n" + counts.map { "  \($0.0): \($0.1)" }.joined(separator: "\n")
    }
}

/// Entry points of the demo data set, used by `meander seed` and `meander demo`.
enum DemoData {
    static func isDatabaseEmpty(_ db: any Database) async throws -> Bool {
        try await Organization.query(on: db).count() == 0
    }

    static func load(into db: any Database, size: DemoSize, seed: UInt64, logger: Logger) async throws -> DemoSummary {
        throw AppError(.serviceUnavailable, "The demo data generator is being written.")  // replaced by DemoDataGenerator
    }
}

struct DemoDataGenerator {
    static let defaultSeed: UInt64 = 2026
}

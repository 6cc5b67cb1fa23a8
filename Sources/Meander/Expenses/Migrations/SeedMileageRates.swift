import FluentSQL
import Foundation

/// Inserts the global mileage rates: the state rate of 2025 (NOK 5.00/km) and 2026 (NOK 5.30/km), the tax-free rate
/// (NOK 3.50/km) and the passenger supplement (NOK 1.00/km per passenger).
///
/// Written with SQLKit and explicit columns so that it does not depend on the current shape of `MileageRate`.
struct SeedMileageRates: AsyncMigration {
    struct Row: Sendable {
        let kind: MileageRate.Kind
        let orePerKm: Int
        let validFrom: String
        let validTo: String?
    }

    static let rows: [Row] = [
        Row(kind: .state, orePerKm: 500, validFrom: "2025-01-01", validTo: "2025-12-31"),
        Row(kind: .state, orePerKm: 530, validFrom: "2026-01-01", validTo: nil),
        Row(kind: .taxFree, orePerKm: 350, validFrom: "2025-01-01", validTo: nil),
        Row(kind: .passenger, orePerKm: 100, validFrom: "2025-01-01", validTo: nil),
    ]

    func prepare(on database: any Database) async throws {
        let sql = try database.sqlDatabase()
        let now = Date()
        for row in Self.rows {
            let validTo: any SQLExpression = row.validTo.map { SQLBind($0) } ?? SQLLiteral.null
            try await sql.insert(into: MileageRate.schema)
                .columns(
                    "id", "created_at", "updated_at", "organization_id", "kind", "ore_per_km", "valid_from", "valid_to"
                )
                .values(
                    SQLBind(UUID()), SQLBind(now), SQLBind(now), SQLLiteral.null, SQLBind(row.kind.rawValue),
                    SQLBind(row.orePerKm), SQLBind(row.validFrom), validTo
                )
                .run()
        }
    }

    func revert(on database: any Database) async throws {
        let sql = try database.sqlDatabase()
        for row in Self.rows {
            try await sql.delete(from: MileageRate.schema)
                .where(SQLColumn("organization_id"), .is, SQLLiteral.null)
                .where("kind", .equal, row.kind.rawValue)
                .where("valid_from", .equal, row.validFrom)
                .run()
        }
    }
}

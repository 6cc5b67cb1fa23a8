import FluentSQL

/// Creates `mileage_rates`.
struct CreateMileageRate: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(MileageRate.schema)
            .id()
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .field("organization_id", .uuid, .references(Organization.schema, "id", onDelete: .cascade))
            .field("kind", .string, .required)
            .field("ore_per_km", .int64, .required)
            .field("valid_from", .string, .required)
            .field("valid_to", .string)
            .unique(on: "organization_id", "kind", "valid_from")
            .check("kind", in: MileageRate.Kind.self)
            .check(named: "ck_mileage_rates_ore_per_km", "ore_per_km >= 0")
            .check(
                named: "ck_mileage_rates_period",
                "length(valid_from) = 10 AND (valid_to IS NULL OR (length(valid_to) = 10 AND valid_to >= valid_from))"
            )
            .create()
        try await database.createIndexes(Self.indexes)
    }

    func revert(on database: any Database) async throws {
        try await database.dropIndexes(Self.indexes)
        try await database.schema(MileageRate.schema).delete()
    }

    static let indexes = [
        SchemaIndex(
            "uq_mileage_rates_global", on: MileageRate.schema, ["kind", "valid_from"],
            unique: true, where: "organization_id IS NULL"
        )
    ]
}

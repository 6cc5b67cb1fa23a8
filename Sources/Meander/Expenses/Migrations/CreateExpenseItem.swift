import FluentSQL

/// Creates `expense_items`.
struct CreateExpenseItem: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(ExpenseItem.schema)
            .id()
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .field("organization_id", .uuid, .required, .references(Organization.schema, "id", onDelete: .restrict))
            .field("claim_id", .uuid, .required, .references(ExpenseClaim.schema, "id", onDelete: .cascade))
            .field("activity_id", .uuid, .references(Activity.schema, "id", onDelete: .setNull))
            .field("kind", .string, .required)
            .field("incurred_on", .string, .required)
            .field("amount_ore", .int64, .required)
            .field("note", .string)
            .field("distance_meters", .int64)
            .field("passenger_count", .int64, .required, .sql(.default(0)))
            .field("rate_ore_per_km", .int64)
            .field("passenger_rate_ore_per_km", .int64)
            .field("from_place", .string)
            .field("to_place", .string)
            .check("kind", in: ExpenseItem.Kind.self)
            .check(named: "ck_expense_items_amount", "amount_ore >= 0")
            .check(named: "ck_expense_items_incurred_on", "length(incurred_on) = 10")
            .check(
                named: "ck_expense_items_mileage",
                "kind <> 'mileage' OR (distance_meters IS NOT NULL AND distance_meters >= 0)"
            )
            .check(named: "ck_expense_items_passengers", "passenger_count >= 0")
            .create()
        try await database.createIndexes(Self.indexes)
    }

    func revert(on database: any Database) async throws {
        try await database.dropIndexes(Self.indexes)
        try await database.schema(ExpenseItem.schema).delete()
    }

    static let indexes = [SchemaIndex("idx_expense_items_claim_id", on: ExpenseItem.schema, ["claim_id"])]
}

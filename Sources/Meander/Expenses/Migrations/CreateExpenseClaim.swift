import FluentSQL

/// Creates `expense_claims`.
struct CreateExpenseClaim: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(ExpenseClaim.schema)
            .id()
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .field("organization_id", .uuid, .required, .references(Organization.schema, "id", onDelete: .restrict))
            .field("claimant_id", .uuid, .required, .references(User.schema, "id", onDelete: .restrict))
            .field("decided_by_id", .uuid, .references(User.schema, "id", onDelete: .restrict))
            .field("title", .string, .required)
            .field("status", .string, .required)
            .field("total_ore", .int64, .required, .sql(.default(0)))
            .field("submitted_at", .datetime)
            .field("decided_at", .datetime)
            .field("decision_method", .string)
            .field("rejection_reason", .string)
            .field("paid_at", .datetime)
            .field("payout_reference", .string)
            .field("cancelled_at", .datetime)
            .check("status", in: ExpenseClaim.Status.self)
            .check("decision_method", in: ExpenseClaim.DecisionMethod.self)
            .check(named: "ck_expense_claims_total", "total_ore >= 0")
            .check(named: "ck_expense_claims_not_own", "decided_by_id IS NULL OR decided_by_id <> claimant_id")
            .create()
        try await database.createIndexes(Self.indexes)
    }

    func revert(on database: any Database) async throws {
        try await database.dropIndexes(Self.indexes)
        try await database.schema(ExpenseClaim.schema).delete()
    }

    static let indexes = [
        SchemaIndex("idx_expense_claims_organization_id_status", on: ExpenseClaim.schema, ["organization_id", "status"]),
        SchemaIndex("idx_expense_claims_claimant_id", on: ExpenseClaim.schema, ["claimant_id"]),
    ]
}

import FluentSQL

/// Creates `organizations`, the tenant tree.
struct CreateOrganization: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Organization.schema)
            .id()
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            // NO ACTION rather than RESTRICT: a parent with children still cannot be deleted, but the check runs at
            // the end of the statement, so SQLite's implicit delete of all rows on DROP TABLE succeeds.
            .field("parent_id", .uuid, .references(Organization.schema, "id", onDelete: .noAction))
            .field("name", .string, .required)
            .field("kind", .string, .required)
            .field("org_number", .string)
            .field("status", .string, .required)
            .field("mileage_rate_kind", .string, .required)
            .field("expense_auto_approval_limit_ore", .int64)
            .field("enabled_products", .string, .required)
            .field("evidence_activity_type_keys", .string, .required)
            .unique(on: "org_number")
            .check("kind", in: Organization.Kind.self)
            .check("status", in: Organization.Status.self)
            .check("mileage_rate_kind", in: Organization.MileageRateKind.self)
            .check(named: "ck_organizations_org_number", "org_number IS NULL OR length(org_number) = 9")
            .check(named: "ck_organizations_parent", "parent_id IS NULL OR parent_id <> id")
            .check(
                named: "ck_organizations_auto_approval",
                "expense_auto_approval_limit_ore IS NULL OR expense_auto_approval_limit_ore >= 0"
            )
            .create()
        try await database.createIndexes(Self.indexes)
    }

    func revert(on database: any Database) async throws {
        try await database.dropIndexes(Self.indexes)
        try await database.schema(Organization.schema).delete()
    }

    static let indexes = [SchemaIndex("idx_organizations_parent_id", on: Organization.schema, ["parent_id"])]
}

import FluentSQL

/// Creates `bufdir_reports`.
struct CreateBufdirReport: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(BufdirReport.schema)
            .id()
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .field("organization_id", .uuid, .required, .references(Organization.schema, "id", onDelete: .restrict))
            .field("created_by_id", .uuid, .references(User.schema, "id", onDelete: .setNull))
            .field("finalized_by_id", .uuid, .references(User.schema, "id", onDelete: .setNull))
            .field("submitted_by_id", .uuid, .references(User.schema, "id", onDelete: .setNull))
            .field("reporting_year", .int64, .required)
            .field("period_start", .string, .required)
            .field("period_end", .string, .required)
            .field("status", .string, .required)
            .field("aggregates", .string, .required, .sql(.default("{}")))
            .field("content_sha256", .string)
            .field("finalized_at", .datetime)
            .field("submitted_at", .datetime)
            .unique(on: "organization_id", "period_start", "period_end")
            .check("status", in: BufdirReport.Status.self)
            .check(
                named: "ck_bufdir_reports_period",
                "length(period_start) = 10 AND length(period_end) = 10 AND period_end >= period_start"
            )
            .check(
                named: "ck_bufdir_reports_frozen",
                "status = 'draft' OR (finalized_at IS NOT NULL AND content_sha256 IS NOT NULL)"
            )
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(BufdirReport.schema).delete()
    }
}

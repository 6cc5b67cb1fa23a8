import FluentSQL

/// Creates `jobs`.
struct CreateJob: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Job.schema)
            .id()
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .field("organization_id", .uuid, .references(Organization.schema, "id", onDelete: .setNull))
            .field("requested_by_id", .uuid, .references(User.schema, "id", onDelete: .setNull))
            .field("kind", .string, .required)
            .field("payload", .string, .required, .sql(.default("{}")))
            .field("status", .string, .required)
            .field("progress_done", .int64, .required, .sql(.default(0)))
            .field("progress_total", .int64)
            .field("attempts", .int64, .required, .sql(.default(0)))
            .field("max_attempts", .int64, .required, .sql(.default(5)))
            .field("run_at", .datetime, .required)
            .field("locked_at", .datetime)
            .field("locked_by", .string)
            .field("last_error", .string)
            .field("result", .string)
            .field("finished_at", .datetime)
            .check("status", in: Job.Status.self)
            .check(
                named: "ck_jobs_counters",
                "progress_done >= 0 AND (progress_total IS NULL OR progress_total >= 0)"
                    + " AND attempts >= 0 AND max_attempts >= 1"
            )
            .create()
        try await database.createIndexes(Self.indexes)
    }

    func revert(on database: any Database) async throws {
        try await database.dropIndexes(Self.indexes)
        try await database.schema(Job.schema).delete()
    }

    static let indexes = [SchemaIndex("idx_jobs_status_run_at", on: Job.schema, ["status", "run_at"])]
}

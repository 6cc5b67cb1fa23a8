import FluentSQL

/// Readies `jobs` for the durable queue (`JobQueue`): a queue name per job, a unique key (the same logical job is
/// enqueued once), a lease (`locked_until`, extended by the worker's heartbeat) and the `discarded` status of a job
/// that used up its attempts.
///
/// Jobs that were `running` in a node's memory before this migration had no lease and cannot be taken again: they
/// become `failed`, saying so.
struct UpdateJobsForDurableQueue: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Job.schema).field("queue", .string, .required, .sql(.default("default"))).update()
        try await database.schema(Job.schema).field("unique_key", .string).update()
        try await database.schema(Job.schema).field("locked_until", .datetime).update()
        try await database.replaceCheck(on: Job.schema, named: "ck_jobs_status", Self.statusPredicate)
        try await database.createIndexes(Self.indexes)
        try await database.sqlDatabase().raw(
            """
            UPDATE jobs SET status = 'failed', last_error = 'The node running this job stopped before it finished; \
            start it again.' WHERE status = 'running'
            """
        ).run()
    }

    func revert(on database: any Database) async throws {
        try await database.dropIndexes(Self.indexes)
        try await database.sqlDatabase().raw("UPDATE jobs SET status = 'failed' WHERE status = 'discarded'").run()
        let old = ["queued", "running", "succeeded", "failed", "cancelled"].map { "'\($0)'" }.joined(separator: ", ")
        try await database.replaceCheck(on: Job.schema, named: "ck_jobs_status", "\"status\" IN (\(old))")
        for column in ["locked_until", "unique_key", "queue"] {
            try await database.schema(Job.schema).deleteField(.string(column)).update()
        }
    }

    static var statusPredicate: String {
        "\"status\" IN (" + Job.Status.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ") + ")"
    }

    static let indexes = [
        SchemaIndex("uq_jobs_unique_key", on: Job.schema, ["unique_key"], unique: true),
        SchemaIndex("idx_jobs_queue_status_run_at", on: Job.schema, ["queue", "status", "run_at"]),
        SchemaIndex("idx_jobs_status_locked_until", on: Job.schema, ["status", "locked_until"]),
    ]
}

import FluentKit
import Foundation

/// A unit of background work in the database-backed queue (exports, reminders, expiry sweeps).
///
/// `JobQueue` writes and claims these rows: a worker takes a queued job whose `run_at` has come by setting
/// `status = running`, `locked_by` and a lease (`locked_until`) in one statement. `kind` names the handler; it is
/// open-ended (handlers register themselves), so it has no CHECK constraint.
final class Job: Model, @unchecked Sendable {
    static let schema = "jobs"

    /// Job lifecycle.
    enum Status: String, Codable, CaseIterable, Sendable {
        case queued
        case running
        case succeeded
        /// The handler failed for good (an error that a retry cannot mend).
        case failed
        case cancelled
        /// Every attempt failed; the last error is kept. An operator may retry it.
        case discarded

        /// A job in this state will not change by itself.
        var isFinal: Bool { self != .queued && self != .running }
    }

    @ID(key: .id)
    var id: UUID?

    // managed

    @Timestamp(key: "created_at", on: .create)
    var createdAt: Date?

    @Timestamp(key: "updated_at", on: .update)
    var updatedAt: Date?

    // references

    @OptionalParent(key: "organization_id")
    var organization: Organization?

    @OptionalParent(key: "requested_by_id")
    var requestedBy: User?

    // data

    @Field(key: "kind")
    var kind: String

    /// Which workers take it (each queue has its own concurrency).
    @Field(key: "queue")
    var queue: String

    /// The same logical job is enqueued once: a second enqueue with this key finds the first.
    @OptionalField(key: "unique_key")
    var uniqueKey: String?

    /// JSON input of the handler.
    @Field(key: "payload")
    var payload: String

    @Field(key: "status")
    var status: Status

    @Field(key: "progress_done")
    var progressDone: Int

    @OptionalField(key: "progress_total")
    var progressTotal: Int?

    @Field(key: "attempts")
    var attempts: Int

    @Field(key: "max_attempts")
    var maxAttempts: Int

    @Field(key: "run_at")
    var runAt: Date

    @OptionalField(key: "locked_at")
    var lockedAt: Date?

    @OptionalField(key: "locked_by")
    var lockedBy: String?

    /// The lease: when a running job whose worker stopped extending it may be taken again.
    @OptionalField(key: "locked_until")
    var lockedUntil: Date?

    @OptionalField(key: "last_error")
    var lastError: String?

    /// JSON output of the handler (e.g. the storage key of an export).
    @OptionalField(key: "result")
    var result: String?

    @OptionalField(key: "finished_at")
    var finishedAt: Date?

    init() {}

    init(
        id: UUID? = nil,
        kind: String,
        queue: String = "default",
        uniqueKey: String? = nil,
        payload: String = "{}",
        runAt: Date = Date(),
        maxAttempts: Int = 5,
        organizationID: UUID? = nil,
        requestedByID: UUID? = nil,
        progressTotal: Int? = nil
    ) {
        self.id = id
        self.kind = kind
        self.queue = queue
        self.uniqueKey = uniqueKey
        self.payload = payload
        self.status = .queued
        self.progressDone = 0
        self.progressTotal = progressTotal
        self.attempts = 0
        self.maxAttempts = maxAttempts
        self.runAt = runAt
        self.$organization.id = organizationID
        self.$requestedBy.id = requestedByID
    }
}

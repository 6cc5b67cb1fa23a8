import Fluent
import Foundation
import Logging

/// Jobs as the people who started them see them, and as operators manage them (`meander jobs`, the admin API). The
/// queue itself is `JobQueue`'s.
enum Jobs {
    /// One of the caller's own jobs; anyone else's, or a missing one, is 404.
    static func mine(_ id: UUID?, access: Access, on db: any Database) async throws -> Job {
        let principal = try access.authorizeSelf()
        guard let id, let job = try await Job.find(id, on: db), job.$requestedBy.id == principal.userID else {
            throw AppError(.notFound, "No such job of yours.")
        }
        return job
    }
}

/// Who started a job, kept in its payload so that what the job writes to the audit chain names them: a `Caller`
/// without its live roles (the job was authorised when it was enqueued).
struct JobCaller: Codable, Sendable, Equatable {
    var userID: UUID?
    var sessionID: UUID?
    var client: AuditLogEntry.Client
    var ip: String?
    var userAgent: String?

    init(_ caller: Caller) {
        userID = caller.userID
        sessionID = caller.sessionID
        client = caller.client
        ip = caller.ip
        userAgent = caller.userAgent
    }

    var caller: Caller {
        Caller(userID: userID, sessionID: sessionID, client: client, ip: ip, userAgent: userAgent)
    }
}

/// Who manages the queue: a platform admin over the API (checked for `jobs.manage`), or an operator at the CLI (who
/// has the database already).
enum JobOperator: Sendable {
    case api(Access)
    case cli

    func authorize() throws {
        if case .api(let access) = self { try access.authorizeAnywhere() }
    }

    var caller: Caller {
        switch self {
        case .api(let access): access.caller
        case .cli: .cli
        }
    }
}

/// What the operators' job list is filtered by.
struct JobFilter: Sendable {
    var status: Job.Status?
    var kind: String?
    var queue: String?
    var organizationID: UUID?
}

extension Jobs {
    /// One page of every job, newest first (platform admins and the CLI).
    static func list(
        _ filter: JobFilter, page: () throws -> KeysetPage, by actor: JobOperator, on db: any Database
    ) async throws -> (items: [Job], next: String?) {
        try actor.authorize()
        let page = try page()
        let builder = Job.query(on: db)
        if let status = filter.status { builder.filter(\.$status == status) }
        if let kind = filter.kind { builder.filter(\.$kind == kind) }
        if let queue = filter.queue { builder.filter(\.$queue == queue) }
        if let organizationID = filter.organizationID { builder.filter(\.$organization.$id == organizationID) }
        let rows = try await builder.page(page).all()
        return try await page.finish(rows, id: { try $0.requireID() }, on: db)
    }

    /// Any job (platform admins and the CLI); 404 when there is none.
    static func read(_ id: UUID?, by actor: JobOperator, on db: any Database) async throws -> Job {
        try actor.authorize()
        guard let id, let job = try await Job.find(id, on: db) else { throw AppError(.notFound, "No such job.") }
        return job
    }

    /// Queues a failed, discarded or cancelled job again with fresh attempts, audited; 409 in any other state.
    static func retry(_ id: UUID?, by actor: JobOperator, deps: AppDependencies, on db: any Database) async throws -> Job {
        try await change(id, "job.retried", by: actor, deps: deps, on: db) { id, transaction in
            guard try await JobQueue.retry(id, now: deps.now, on: transaction) else {
                throw AppError(.conflict, "Only a failed, discarded or cancelled job can be retried.")
            }
        }
    }

    /// Cancels a queued or running job, audited (a running one stops at its worker's next heartbeat); 409 when it
    /// has ended.
    static func cancel(_ id: UUID?, by actor: JobOperator, deps: AppDependencies, on db: any Database) async throws -> Job {
        try await change(id, "job.cancelled", by: actor, deps: deps, on: db) { id, transaction in
            guard try await JobQueue.cancel(id, now: deps.now, on: transaction) else {
                throw AppError(.conflict, "The job has already ended.")
            }
        }
    }

    private static func change(
        _ id: UUID?, _ action: String, by actor: JobOperator, deps: AppDependencies, on db: any Database,
        _ body: @escaping @Sendable (UUID, any Database) async throws -> Void
    ) async throws -> Job {
        let job = try await read(id, by: actor, on: db)
        let jobID = try job.requireID()
        let event = actor.caller.event(
            action, organizationID: job.$organization.id, targetType: "job", targetID: jobID,
            metadata: ["kind": job.kind, "status_before": job.status.rawValue]
        ).dated(by: deps.clock)
        try await db.writeTransaction { transaction in
            try await body(jobID, transaction)
            try await AuditLog.append(event, on: transaction)
        }
        guard let changed = try await Job.find(jobID, on: db) else { throw AppError(.notFound, "No such job.") }
        return changed
    }
}

extension Job {
    /// What the handler reported (`result`), as a dictionary; empty before it ends or when it reported nothing.
    var resultValues: [String: String] {
        result.flatMap { JSONText.decode([String: String].self, from: $0) } ?? [:]
    }
}

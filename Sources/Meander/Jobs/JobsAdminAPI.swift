import Foundation
import OpenAPIRuntime
import Vapor

extension APIHandler {
    func listAdminJobs(_ input: Operations.ListAdminJobs.Input) async throws -> Operations.ListAdminJobs.Output {
        let request = try RequestContext.request
        let query = input.query
        let page = { try Keyset.jobs.page(limit: query.limit.map(Int.init), cursor: query.cursor, request: request) }
        let filter = JobFilter(
            status: query.status.flatMap { Job.Status(rawValue: $0.rawValue) }, kind: query.kind,
            queue: query.queue?.rawValue, organizationID: query.organizationId.flatMap(APIID.uuid))
        let (jobs, next) = try await Jobs.list(filter, page: page, by: .api(request.access), on: request.db)
        return .ok(.init(body: .json(.init(items: try jobs.map(AdminJobView.make), nextCursor: next))))
    }

    func getAdminJob(_ input: Operations.GetAdminJob.Input) async throws -> Operations.GetAdminJob.Output {
        let request = try RequestContext.request
        let job = try await Jobs.read(APIID.uuid(input.path.jobId), by: .api(request.access), on: request.db)
        return .ok(.init(body: .json(try AdminJobView.make(job))))
    }

    func retryAdminJob(_ input: Operations.RetryAdminJob.Input) async throws -> Operations.RetryAdminJob.Output {
        let request = try RequestContext.request
        let job = try await Jobs.retry(
            APIID.uuid(input.path.jobId), by: .api(request.access), deps: request.dependencies, on: request.db)
        return .ok(.init(body: .json(try AdminJobView.make(job))))
    }

    func cancelAdminJob(_ input: Operations.CancelAdminJob.Input) async throws -> Operations.CancelAdminJob.Output {
        let request = try RequestContext.request
        let job = try await Jobs.cancel(
            APIID.uuid(input.path.jobId), by: .api(request.access), deps: request.dependencies, on: request.db)
        return .ok(.init(body: .json(try AdminJobView.make(job))))
    }
}

extension Keyset {
    static let jobs = Keyset("listAdminJobs", table: Job.schema, [.column("created_at", .descending, nullable: true)], id: .descending)
}

/// Jobs as operators see them in the API.
enum AdminJobView {
    static func make(_ job: Job) throws -> Components.Schemas.AdminJob {
        let result = job.resultValues
        return Components.Schemas.AdminJob(
            id: try job.requireID().uuidString.lowercased(), kind: job.kind,
            queue: .init(rawValue: job.queue) ?? ._default, status: .init(rawValue: job.status.rawValue) ?? .queued,
            attempts: Int64(job.attempts), maxAttempts: Int64(job.maxAttempts), runAt: job.runAt,
            uniqueKey: job.uniqueKey, lockedBy: job.lockedBy, lockedUntil: job.lockedUntil,
            progressDone: Int64(job.progressDone), progressTotal: job.progressTotal.map(Int64.init), error: job.lastError,
            result: .init(additionalProperties: result), organizationId: job.$organization.id?.uuidString.lowercased(),
            requestedById: job.$requestedBy.id?.uuidString.lowercased(), createdAt: job.createdAt ?? job.runAt,
            finishedAt: job.finishedAt)
    }
}

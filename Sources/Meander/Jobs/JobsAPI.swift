import Foundation
import Vapor

extension APIHandler {
    func getJob(_ input: Operations.GetJob.Input) async throws -> Operations.GetJob.Output {
        let request = try RequestContext.request
        let job = try await Jobs.mine(APIID.uuid(input.path.jobId), access: request.access, on: request.db)
        return .ok(.init(body: .json(try JobView.make(job))))
    }
}

/// Jobs as the API shows them.
enum JobView {
    static func make(_ job: Job) throws -> Components.Schemas.Job {
        let result = job.resultValues
        return Components.Schemas.Job(
            id: try job.requireID().uuidString.lowercased(), kind: job.kind,
            status: .init(rawValue: job.status.rawValue) ?? .queued, progressDone: Int64(job.progressDone),
            progressTotal: job.progressTotal.map(Int64.init), error: job.lastError, exportId: result["export_id"],
            createdAt: job.createdAt ?? .distantPast, finishedAt: job.finishedAt)
    }
}

import Foundation
import OpenAPIRuntime
import SQLKit
import Vapor

extension APIHandler {
    func getLiveness(_ input: Operations.GetLiveness.Input) async throws -> Operations.GetLiveness.Output {
        .ok(.init(body: .json(.init(status: .ok))))
    }

    func getReadiness(_ input: Operations.GetReadiness.Input) async throws -> Operations.GetReadiness.Output {
        let request = try RequestContext.request
        do {
            guard let sql = request.db as? any SQLDatabase else { throw AppError(.internalError) }
            try await sql.raw("SELECT 1").run()
        } catch {
            request.logger.warning(
                "readiness check failed", metadata: ["error_type": .string(String(reflecting: type(of: error)))])
            throw AppError(.serviceUnavailable, "The database is not reachable.")
        }
        return .ok(.init(body: .json(.init(status: .ok, checks: .init(additionalProperties: ["database": "ok"])))))
    }

    func getMetrics(_ input: Operations.GetMetrics.Input) async throws -> Operations.GetMetrics.Output {
        let request = try RequestContext.request
        // The queue's gauges are read from the database now; without it the rest is still worth a scrape.
        do {
            try await request.application.meander.jobs.metrics.refresh(now: request.now, on: request.db)
        } catch {
            request.logger.warning("job metrics unavailable", metadata: ["error_type": .string("\(type(of: error))")])
        }
        return .ok(.init(body: .plainText(HTTPBody(request.application.meander.metrics.exposition()))))
    }

    func getOpenAPIDocument(
        _ input: Operations.GetOpenAPIDocument.Input
    ) async throws -> Operations.GetOpenAPIDocument.Output {
        .ok(.init(body: .yaml(HTTPBody(try OpenAPIDocument.bytes()))))
    }
}

/// The contract as kept in the repository (`Sources/Meander/openapi.yaml`), bundled as a resource.
enum OpenAPIDocument {
    static func bytes() throws -> [UInt8] {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml") else {
            throw AppError(.internalError, "The OpenAPI document is missing from the build.")
        }
        return Array(try Data(contentsOf: url))
    }
}

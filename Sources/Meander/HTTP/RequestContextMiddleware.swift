import Vapor

/// Makes the Vapor request available to OpenAPI handlers, which only receive the decoded operation input.
///
/// The generated handlers run inside this middleware's task, so a task-local carries the request (the pattern
/// swift-openapi-vapor documents as "request injection").
struct RequestContextMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let response = try await RequestContext.$current.withValue(request) {
            try await next.respond(to: request)
        }
        Self.restoreHeaders(of: response)
        return response
    }

    /// Response headers whose values are URLs or RFC 6266 dispositions. The OpenAPI runtime writes every header it
    /// sets as a percent-encoded URI component (`/api/v1/jobs/1` becomes `%2Fapi%2Fv1%2Fjobs%2F1`); decoding once
    /// gives back exactly the value the handler set.
    static let uriEncodedHeaders = ["Location", "Content-Disposition"]

    static func restoreHeaders(of response: Response) {
        for name in uriEncodedHeaders {
            guard let value = response.headers.first(name: name), value.contains("%"),
                let decoded = value.removingPercentEncoding
            else { continue }
            response.headers.replaceOrAdd(name: name, value: decoded)
        }
    }
}

/// The request an API handler is serving.
enum RequestContext {
    @TaskLocal static var current: Request?

    /// The current request; only absent if a handler is called outside the HTTP stack, which is a programming error.
    static var request: Request {
        get throws {
            guard let request = current else {
                throw AppError(.internalError, "No request context.")
            }
            return request
        }
    }
}

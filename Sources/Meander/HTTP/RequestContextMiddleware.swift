import Vapor

/// Makes the Vapor request available to OpenAPI handlers, which only receive the decoded operation input.
///
/// The generated handlers run inside this middleware's task, so a task-local carries the request (the pattern
/// swift-openapi-vapor documents as "request injection").
struct RequestContextMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        try await RequestContext.$current.withValue(request) {
            try await next.respond(to: request)
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

import Vapor

/// API answers carry tokens, personal and health data: no cache may keep them (RFC 9111 `no-store`; RFC 6749 5.1
/// requires it for token responses). Answers that set their own `Cache-Control` keep it.
struct NoStoreMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let response = try await next.respond(to: request)
        if request.url.path.hasPrefix("/api/"), !response.headers.contains(name: .cacheControl) {
            response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        }
        return response
    }
}

import Vapor

/// Runs a list of async middlewares as one Vapor middleware, each calling the next directly.
///
/// Vapor bridges every `AsyncMiddleware` on its own: a new task per middleware per request, and an event-loop
/// future between each pair. With nine layers that is nine tasks and as many hops between the event loop and the
/// concurrency pool on every request. Here only the outermost bridge remains; the order and the error handling
/// are those of the same middlewares registered one by one.
struct AsyncMiddlewareStack: AsyncMiddleware {
    let middlewares: [any AsyncMiddleware]

    init(_ middlewares: [any AsyncMiddleware]) {
        self.middlewares = middlewares
    }

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        try await Link(stack: middlewares[...], last: next).respond(to: request)
    }

    /// The rest of the stack, as the responder the middleware before it calls.
    private struct Link: AsyncResponder {
        let stack: ArraySlice<any AsyncMiddleware>
        let last: any AsyncResponder

        func respond(to request: Request) async throws -> Response {
            guard let first = stack.first else { return try await last.respond(to: request) }
            return try await first.respond(to: request, chainingTo: Link(stack: stack.dropFirst(), last: last))
        }
    }
}

/// Vapor's `RouteLoggingMiddleware` as an async middleware, so that it can sit inside `AsyncMiddlewareStack`
/// (after `RequestIDMiddleware`, whose id it then carries).
struct RequestLoggingMiddleware: AsyncMiddleware {
    var level: Logger.Level = .info

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        request.logger.log(level: level, "\(request.method) \(request.url.path.removingPercentEncoding ?? request.url.path)")
        return try await next.respond(to: request)
    }
}

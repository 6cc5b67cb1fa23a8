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

/// The access log: one line per request when it has been answered, with the method, the path (never the query
/// string, which may carry personal data), the status the client got, the duration and the request id, e.g.
/// `GET /api/v1/contacts 200 12.3ms`, and the same fields as metadata for the JSON format.
///
/// It sits after `RequestIDMiddleware`, whose id it carries, and before `ProblemMiddleware`, so that it sees the
/// problem response an error became.
struct RequestLoggingMiddleware: AsyncMiddleware {
    var level: Logger.Level = .info
    /// Longer paths are cut in the log (an over-long URI is answered 414, but logged all the same).
    static let longestPath = 512

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next.respond(to: request)
            log(request, status: response.status, since: start)
            return response
        } catch {
            // Nothing inside answered: Vapor's own error handling will, with the error's status or 500.
            log(request, status: (error as? any AbortError)?.status ?? .internalServerError, since: start)
            throw error
        }
    }

    private func log(_ request: Request, status: HTTPResponseStatus, since start: ContinuousClock.Instant) {
        // Below the log level (the benchmarks run at `warning`) the line is not even formatted.
        guard request.logger.logLevel <= level else { return }
        let elapsed = ContinuousClock.now - start
        let milliseconds = Double(elapsed.components.seconds) * 1_000 + Double(elapsed.components.attoseconds) / 1e15
        let decoded = request.url.path.removingPercentEncoding ?? request.url.path
        let path = decoded.count > Self.longestPath ? String(decoded.prefix(Self.longestPath)) + "…" : decoded
        let duration = String(format: "%.1f", milliseconds)
        request.logger.log(
            level: level, "\(request.method) \(path) \(status.code) \(duration)ms",
            metadata: request.application.meander.config.logFormat == .json
                ? [
                    "method": .string(request.method.rawValue), "path": .string(path),
                    "status": .stringConvertible(status.code), "duration_ms": .string(duration),
                ]
                // The console format prints metadata after the message: the line already says all of it.
                : nil)
    }
}

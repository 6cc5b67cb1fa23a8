import Vapor

/// Gives every request an id, puts it on the request's logger and echoes it as `X-Request-Id`.
///
/// A client-supplied id is kept when it is short and plain (so that a caller can correlate its own logs);
/// anything else is replaced, so that nobody can inject text into our logs through the header.
struct RequestIDMiddleware: AsyncMiddleware {
    static let headerName = "X-Request-Id"

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let id = Self.acceptable(request.headers.first(name: Self.headerName)) ?? request.dependencies.uuid().uuidString.lowercased()
        request.requestID = id
        request.logger[metadataKey: "request-id"] = .string(id)
        let response = try await next.respond(to: request)
        response.headers.replaceOrAdd(name: Self.headerName, value: id)
        return response
    }

    static func acceptable(_ candidate: String?) -> String? {
        guard let candidate, (1...128).contains(candidate.utf8.count) else { return nil }
        let allowed = candidate.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x5F || byte == 0x2E
        }
        return allowed ? candidate : nil
    }
}

extension Request {
    private struct RequestIDKey: StorageKey {
        typealias Value = String
    }

    /// The id of this request, as echoed in `X-Request-Id` and logged as `request-id`.
    var requestID: String {
        get { storage[RequestIDKey.self] ?? id }
        set { storage[RequestIDKey.self] = newValue }
    }
}

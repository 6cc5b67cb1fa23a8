import Vapor

/// The size limits of a request's head, in one place: a request line over `maxURILength` bytes answers 414
/// `uri_too_long`, headers over `maxHeaderBytes` bytes in all answer 431 `headers_too_large`, both as problem+json
/// (the body's limit is `BodyLimitMiddleware`'s).
///
/// Below these limits nothing is refused; far above them SwiftNIO's HTTP decoder, which Vapor configures with fixed
/// limits of its own (80 KiB for the request line or one header field), closes the connection before any middleware
/// runs. The limits here are well inside NIO's, so that every oversized head a client is likely to send gets an
/// answer (see docs/errors.md).
struct RequestSizeMiddleware: AsyncMiddleware {
    /// The longest request target (path and query) accepted, in bytes.
    static let maxURILength = 16 * 1024
    /// The most header bytes accepted in all: names, values and `: ` plus CRLF per field, as on the wire.
    static let maxHeaderBytes = 32 * 1024

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let target = request.url.string.utf8.count
        if target > Self.maxURILength {
            throw AppError(
                .uriTooLong,
                "The request target is \(target) bytes; at most \(Self.maxURILength) are accepted. Send long filters in a body, or fewer of them."
            )
        }
        var headerBytes = 0
        for (name, value) in request.headers {
            headerBytes += name.utf8.count + value.utf8.count + 4
        }
        if headerBytes > Self.maxHeaderBytes {
            throw AppError(
                .headersTooLarge,
                "The request headers are \(headerBytes) bytes in all; at most \(Self.maxHeaderBytes) are accepted.")
        }
        return try await next.respond(to: request)
    }
}

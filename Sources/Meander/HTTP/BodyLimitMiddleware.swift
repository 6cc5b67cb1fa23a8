import Vapor

/// Refuses request bodies above the configured size with 413, before any handler reads them.
///
/// Routes registered by the OpenAPI transport stream their bodies, so Vapor's own per-route limit does not
/// apply to them; this middleware collects the body up to the limit instead.
struct BodyLimitMiddleware: AsyncMiddleware {
    let defaultLimit: Int
    /// The limit of evidence uploads (`POST /api/v1/activities/{id}/attachments`), which carry files.
    let uploadLimit: Int

    init(maxBodySize: Int, maxUploadSize: Int? = nil) {
        defaultLimit = maxBodySize
        uploadLimit = maxUploadSize ?? maxBodySize
    }

    static func isUpload(_ request: Request) -> Bool {
        guard request.method == .POST else { return false }
        let parts = request.url.path.split(separator: "/")
        return parts.count == 5 && parts[0] == "api" && parts[1] == "v1" && parts[2] == "activities"
            && parts[4] == "attachments"
    }

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let maxBodySize = Self.isUpload(request) ? uploadLimit : defaultLimit
        if let declared = request.headers.first(name: .contentLength).flatMap(Int.init), declared > maxBodySize {
            throw Self.tooLarge(maxBodySize)
        }
        if request.body.data == nil, request.method != .GET, request.method != .HEAD {
            do {
                _ = try await request.body.collect(max: maxBodySize).get()
            } catch let error as Abort where error.status == .payloadTooLarge {
                throw Self.tooLarge(maxBodySize)
            }
        }
        return try await next.respond(to: request)
    }

    static func tooLarge(_ limit: Int) -> AppError {
        AppError(.payloadTooLarge, "The request body is larger than the limit of \(limit) bytes.")
    }
}

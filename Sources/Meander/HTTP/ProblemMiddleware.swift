import OpenAPIRuntime
import PostgresNIO
import SQLiteNIO
import Vapor

/// Turns every error into an RFC 9457 `application/problem+json` response with a stable `code`.
///
/// This is the only place errors become HTTP: handlers throw `AppError`, and errors from Vapor (unknown routes,
/// body limits), from the OpenAPI runtime (bad parameters, wrong content types, undecodable JSON) and anything
/// unexpected (500, logged without request data) are all mapped here.
///
/// Every 404 of a documented operation is concealed (`AppError.concealingExistence`): a record that does not exist
/// and one outside the caller's reach answer the same bytes, apart from `instance` and `request_id`.
struct ProblemMiddleware: AsyncMiddleware {
    let routes: Routes
    let contract: OpenAPIContract

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch {
            var appError = Self.appError(for: error, request: request, routes: routes)
            if request.contractOperation(in: contract) != nil {
                appError = appError.concealingExistence()
            }
            if appError.code == .internalError {
                // The error text may quote request data: the log gets its type and, for a database error, the
                // SQLSTATE and the server's message with quoted values cut out; never the bound values.
                let underlying = (error as? ServerError)?.underlyingError ?? error
                var metadata: Logger.Metadata = ["error_type": .string(String(reflecting: type(of: underlying)))]
                for (key, value) in Self.databaseFacts(of: underlying) { metadata[key] = .string(value) }
                request.logger.error("unhandled error", metadata: metadata)
                request.logger.debug("unhandled error detail", metadata: ["error": .string(String(describing: error))])
            }
            return Self.response(for: appError, request: request)
        }
    }

    /// The SQLSTATE (PostgreSQL) or result code (SQLite) and the message of a database error, for the log.
    static func databaseFacts(of error: any Error) -> [String: String] {
        switch error {
        case let error as PSQLError:
            var facts = ["db_error": String(describing: error.code)]
            if let state = error.serverInfo?[.sqlState] { facts["sqlstate"] = state }
            if let message = error.serverInfo?[.message] { facts["db_message"] = redactingValues(message) }
            return facts
        case let error as SQLiteError:
            return ["db_error": String(describing: error.reason), "db_message": redactingValues(error.message)]
        default:
            return [:]
        }
    }

    /// A server message with the values it quotes cut out: PostgreSQL quotes the input after a colon
    /// (`invalid input syntax for type uuid: "…"`); names of constraints and types stay.
    static func redactingValues(_ message: String) -> String {
        guard let range = message.range(of: #":\s*"[^"]*"\s*$"#, options: .regularExpression) else { return message }
        return message.replacingCharacters(in: range, with: #": "…""#)
    }

    /// Renders an `AppError` as problem+json.
    static func response(for error: AppError, request: Request) -> Response {
        let document = ProblemDocument(
            type: ProblemDocument.typeURI(for: error.code),
            title: error.code.title,
            status: Int(error.status.code),
            detail: error.detail,
            instance: request.url.path,
            code: error.code.rawValue,
            requestID: request.requestID,
            errors: error.fieldErrors.isEmpty ? nil : error.fieldErrors)
        var headers = HTTPHeaders()
        headers.contentType = HTTPMediaType(type: "application", subType: "problem+json", parameters: ["charset": "utf-8"])
        for (name, value) in error.headers {
            headers.replaceOrAdd(name: name, value: value)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = (try? encoder.encode(document)) ?? Data(#"{"code":"internal_error","status":500}"#.utf8)
        return Response(status: error.status, headers: headers, body: .init(data: body))
    }

    /// Maps any error to the `AppError` the client sees.
    static func appError(for error: any Error, request: Request, routes: Routes) -> AppError {
        switch error {
        case let error as AppError:
            return error
        case let error as ServerError:
            return fromOpenAPI(error)
        case let error as DecodingError:
            return fromDecoding(error)
        case let error as any AbortError:
            // Vapor's router does not backtrack from a literal segment to a parameter (`/activities/batch/approve`
            // never reaches `/activities/{activityId}/approve`): when the method is among those allowed, the
            // path is simply not there, so 404, not a 405 that names the very method it refuses.
            if error.status == .notFound, let allowed = allowedMethods(for: request, in: routes), !allowed.isEmpty,
                !allowed.contains(request.method.rawValue)
            {
                return AppError(
                    .methodNotAllowed,
                    "\(request.method.rawValue) is not allowed on \(request.url.path); allowed: \(allowed.joined(separator: ", ")).",
                    headers: [("Allow", allowed.joined(separator: ", "))])
            }
            return fromStatus(error.status, detail: error.status == .notFound ? "No resource at \(request.url.path)." : error.reason)
        case let error where isQueryParsingError(error):
            return malformedQuery
        default:
            return AppError(.internalError, "An unexpected error occurred. Quote the request id when reporting it.")
        }
    }

    /// The runtime's URI parser fails with an internal error type (e.g. on `?limit=2&`): the query is the client's.
    private static func isQueryParsingError(_ error: any Error) -> Bool {
        String(reflecting: type(of: error)) == "OpenAPIRuntime.ParsingError"
    }

    private static let malformedQuery = AppError(
        .badRequest, "The query string is malformed (an empty parameter, or a stray '&' or '=').")

    private static func fromOpenAPI(_ error: ServerError) -> AppError {
        switch error.underlyingError {
        case let appError as AppError:
            return appError
        case let decoding as DecodingError:
            return fromDecoding(decoding)
        case let underlying where isQueryParsingError(underlying):
            return malformedQuery
        default:
            break
        }
        let status = HTTPResponseStatus(statusCode: Int(error.httpStatus.code))
        if status == .internalServerError {
            return AppError(.internalError, "An unexpected error occurred. Quote the request id when reporting it.")
        }
        if status == .badRequest {
            // The runtime's description names the parameter or header at fault and never echoes a body.
            return AppError(.invalidParameter, error.causeDescription)
        }
        return fromStatus(status, detail: error.causeDescription)
    }

    private static func fromStatus(_ status: HTTPResponseStatus, detail: String?) -> AppError {
        let code = AppError.Code(status: status)
        let safeDetail = code == .internalError ? nil : detail
        return AppError(code, safeDetail)
    }

    /// Malformed JSON (syntax) is `malformed_json`; JSON of the wrong shape is `validation_failed` with the field.
    static func fromDecoding(_ error: DecodingError) -> AppError {
        func pointer(_ path: [any CodingKey]) -> String {
            "/" + path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: "/")
        }
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return AppError(.malformedJSON, "The request body is not valid JSON.")
        case .dataCorrupted(let context):
            return .validation([.init(field: pointer(context.codingPath), code: "invalid_value", message: context.debugDescription)])
        case .keyNotFound(let key, let context):
            return .validation([
                .init(field: pointer(context.codingPath + [key]), code: "required", message: "This field is required.")
            ])
        case .valueNotFound(_, let context):
            return .validation([
                .init(field: pointer(context.codingPath), code: "required", message: "This field may not be null.")
            ])
        case .typeMismatch(let type, let context):
            return .validation([
                .init(field: pointer(context.codingPath), code: "invalid_type", message: "Expected a value of type \(type).")
            ])
        @unknown default:
            return AppError(.malformedJSON, "The request body could not be decoded.")
        }
    }

    /// The methods registered for the request's path, when the path exists under some other method.
    static func allowedMethods(for request: Request, in routes: Routes) -> [String]? {
        let segments = request.url.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        var methods = Set<String>()
        for route in routes.all where matches(route.path, segments) {
            methods.insert(route.method.rawValue)
        }
        if methods.contains("GET") { methods.insert("HEAD") }
        return methods.isEmpty ? nil : methods.sorted()
    }

    private static func matches(_ pattern: [PathComponent], _ segments: [String]) -> Bool {
        var index = 0
        for component in pattern {
            switch component {
            case .catchall:
                return index < segments.count
            case .constant(let value):
                guard index < segments.count, segments[index] == value else { return false }
            case .parameter, .anything:
                guard index < segments.count else { return false }
            }
            index += 1
        }
        return index == segments.count
    }
}

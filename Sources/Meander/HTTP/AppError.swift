import Vapor

/// The one error type of Meander: every failure the API reports is one of these, rendered by `ProblemMiddleware`
/// as RFC 9457 `application/problem+json` with a stable `code`.
public struct AppError: Error, Sendable, Equatable {
    /// Stable machine-readable codes; clients switch on these, so never rename one.
    public enum Code: String, Sendable, CaseIterable {
        case badRequest = "bad_request"
        case invalidParameter = "invalid_parameter"
        case invalidCursor = "invalid_cursor"
        case malformedJSON = "malformed_json"
        case validationFailed = "validation_failed"
        case notAMentor = "not_a_mentor"
        case unauthorized
        case forbidden
        case notFound = "not_found"
        case methodNotAllowed = "method_not_allowed"
        case notAcceptable = "not_acceptable"
        case conflict
        case payloadTooLarge = "payload_too_large"
        case unsupportedMediaType = "unsupported_media_type"
        case uriTooLong = "uri_too_long"
        case headersTooLarge = "headers_too_large"
        case unprocessable
        case rateLimited = "rate_limited"
        case internalError = "internal_error"
        case serviceUnavailable = "service_unavailable"

        var status: HTTPResponseStatus {
            switch self {
            case .badRequest, .invalidParameter, .invalidCursor, .malformedJSON, .validationFailed, .notAMentor: .badRequest
            case .unauthorized: .unauthorized
            case .forbidden: .forbidden
            case .notFound: .notFound
            case .methodNotAllowed: .methodNotAllowed
            case .notAcceptable: .notAcceptable
            case .conflict: .conflict
            case .payloadTooLarge: .payloadTooLarge
            case .unsupportedMediaType: .unsupportedMediaType
            case .uriTooLong: .uriTooLong
            case .headersTooLarge: .requestHeaderFieldsTooLarge
            case .unprocessable: .unprocessableEntity
            case .rateLimited: .tooManyRequests
            case .internalError: .internalServerError
            case .serviceUnavailable: .serviceUnavailable
            }
        }

        /// The code of an error known only by its status (Vapor's `Abort`, the OpenAPI runtime's errors): the first
        /// code with that status, so the general one (`bad_request` before `invalid_parameter`). Read from `status`,
        /// so that the table is written once.
        init(status: HTTPResponseStatus) {
            if let code = Self.allCases.first(where: { $0.status == status }) {
                self = code
            } else {
                self = status.code >= 500 ? .internalError : .badRequest
            }
        }

        var title: String {
            switch self {
            case .badRequest: "Bad request"
            case .invalidParameter: "Invalid parameter"
            case .invalidCursor: "Invalid pagination cursor"
            case .malformedJSON: "Malformed JSON"
            case .validationFailed: "Validation failed"
            case .notAMentor: "Not a peer mentor"
            case .unauthorized: "Authentication required"
            case .forbidden: "Forbidden"
            case .notFound: "Not found"
            case .methodNotAllowed: "Method not allowed"
            case .notAcceptable: "Not acceptable"
            case .conflict: "Conflict"
            case .payloadTooLarge: "Payload too large"
            case .unsupportedMediaType: "Unsupported media type"
            case .uriTooLong: "URI too long"
            case .headersTooLarge: "Request headers too large"
            case .unprocessable: "Unprocessable request"
            case .rateLimited: "Too many requests"
            case .internalError: "Internal server error"
            case .serviceUnavailable: "Service unavailable"
            }
        }
    }

    /// One bad field of a validation error.
    public struct FieldError: Sendable, Equatable, Codable {
        public var field: String
        public var code: String
        public var message: String

        public init(field: String, code: String, message: String) {
            self.field = field
            self.code = code
            self.message = message
        }
    }

    public var code: Code
    public var detail: String?
    public var fieldErrors: [FieldError]
    /// Extra response headers, such as `Allow` or `Retry-After`.
    public var headers: [(String, String)]
    /// A 404 about a record the caller can see (its stored file is gone), whose detail may stand. Every other 404 of
    /// an operation is answered with one text whatever its cause (see `concealingExistence(path:)`).
    public var isAboutVisibleRecord = false

    public init(_ code: Code, _ detail: String? = nil, fieldErrors: [FieldError] = [], headers: [(String, String)] = []) {
        self.code = code
        self.detail = detail
        self.fieldErrors = fieldErrors
        self.headers = headers
    }

    /// A 404 about a record the caller can see, such as its stored file being gone; its detail is kept.
    public static func goneFromVisibleRecord(_ detail: String) -> AppError {
        var error = AppError(.notFound, detail)
        error.isAboutVisibleRecord = true
        return error
    }

    /// The detail of every concealed 404.
    static let concealedDetail = "Nothing here is within your reach: no such record, or not one you may see."

    /// The same 404 whether the record does not exist or lies outside the caller's reach, so that an id tells an
    /// outsider nothing: the detail is one fixed text and no field names the id. Other errors pass unchanged.
    func concealingExistence() -> AppError {
        guard code == .notFound, !isAboutVisibleRecord else { return self }
        return AppError(.notFound, Self.concealedDetail, headers: headers)
    }

    /// The same error with its body-field pointers rooted at `prefix` (an item of a batch: `/items/3`), so that every
    /// pointer of every answer is document-rooted. Parameter names (no leading `/`) and pointers already under
    /// `prefix` are left as they are.
    func rootingFieldPointers(at prefix: String) -> AppError {
        var copy = self
        copy.fieldErrors = fieldErrors.map { error in
            var error = error
            if error.field == prefix || error.field.hasPrefix(prefix + "/") || !error.field.hasPrefix("/") {
                return error
            }
            error.field = error.field == "/" ? prefix : prefix + error.field
            return error
        }
        return copy
    }

    public var status: HTTPResponseStatus { code.status }

    public static func == (lhs: AppError, rhs: AppError) -> Bool {
        lhs.code == rhs.code && lhs.detail == rhs.detail && lhs.fieldErrors == rhs.fieldErrors
            && lhs.headers.elementsEqual(rhs.headers, by: { $0 == $1 })
    }

    /// A write to an activity of a Bufdir period that a finalised or submitted report has closed: 409. `subject` says
    /// what lies there ("The activity", or "That date" for a new or moved one).
    public static func closedPeriod(_ subject: String = "The activity") -> AppError {
        AppError(.conflict, "\(subject) lies in a finalised Bufdir period, which is read-only.")
    }

    /// A validation error naming each bad field.
    public static func validation(_ fieldErrors: [FieldError], _ detail: String? = nil) -> AppError {
        AppError(
            .validationFailed, detail ?? "\(fieldErrors.count) field(s) are invalid.", fieldErrors: fieldErrors)
    }

    /// A 400 for one bad query or path parameter.
    public static func invalidParameter(_ name: String, code: String = "invalid_value", _ message: String) -> AppError {
        AppError(
            .invalidParameter, "The parameter '\(name)' is invalid: \(message)",
            fieldErrors: [FieldError(field: name, code: code, message: message)])
    }
}

/// The RFC 9457 body, as sent.
struct ProblemDocument: Codable, Sendable {
    var type: String
    var title: String
    var status: Int
    var detail: String?
    var instance: String?
    var code: String
    var requestID: String?
    var errors: [AppError.FieldError]?

    enum CodingKeys: String, CodingKey {
        case type, title, status, detail, instance, code
        case requestID = "request_id"
        case errors
    }

    static func typeURI(for code: AppError.Code) -> String {
        "urn:meander:problem:\(code.rawValue)"
    }
}

extension AppError: CustomStringConvertible {
    /// What a person reads (the CLI prints errors this way): the detail, or the title when there is none.
    public var description: String {
        let text = detail ?? code.title
        let fields = fieldErrors.map { "\($0.field): \($0.message)" }
        return fields.isEmpty ? text : text + " (" + fields.joined(separator: "; ") + ")"
    }
}

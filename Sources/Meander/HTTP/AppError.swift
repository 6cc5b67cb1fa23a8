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
        case unauthorized
        case forbidden
        case notFound = "not_found"
        case methodNotAllowed = "method_not_allowed"
        case notAcceptable = "not_acceptable"
        case conflict
        case payloadTooLarge = "payload_too_large"
        case unsupportedMediaType = "unsupported_media_type"
        case unprocessable
        case rateLimited = "rate_limited"
        case internalError = "internal_error"
        case serviceUnavailable = "service_unavailable"

        var status: HTTPResponseStatus {
            switch self {
            case .badRequest, .invalidParameter, .invalidCursor, .malformedJSON, .validationFailed: .badRequest
            case .unauthorized: .unauthorized
            case .forbidden: .forbidden
            case .notFound: .notFound
            case .methodNotAllowed: .methodNotAllowed
            case .notAcceptable: .notAcceptable
            case .conflict: .conflict
            case .payloadTooLarge: .payloadTooLarge
            case .unsupportedMediaType: .unsupportedMediaType
            case .unprocessable: .unprocessableEntity
            case .rateLimited: .tooManyRequests
            case .internalError: .internalServerError
            case .serviceUnavailable: .serviceUnavailable
            }
        }

        var title: String {
            switch self {
            case .badRequest: "Bad request"
            case .invalidParameter: "Invalid parameter"
            case .invalidCursor: "Invalid pagination cursor"
            case .malformedJSON: "Malformed JSON"
            case .validationFailed: "Validation failed"
            case .unauthorized: "Authentication required"
            case .forbidden: "Forbidden"
            case .notFound: "Not found"
            case .methodNotAllowed: "Method not allowed"
            case .notAcceptable: "Not acceptable"
            case .conflict: "Conflict"
            case .payloadTooLarge: "Payload too large"
            case .unsupportedMediaType: "Unsupported media type"
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

    public init(_ code: Code, _ detail: String? = nil, fieldErrors: [FieldError] = [], headers: [(String, String)] = []) {
        self.code = code
        self.detail = detail
        self.fieldErrors = fieldErrors
        self.headers = headers
    }

    public var status: HTTPResponseStatus { code.status }

    public static func == (lhs: AppError, rhs: AppError) -> Bool {
        lhs.code == rhs.code && lhs.detail == rhs.detail && lhs.fieldErrors == rhs.fieldErrors
            && lhs.headers.elementsEqual(rhs.headers, by: { $0 == $1 })
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

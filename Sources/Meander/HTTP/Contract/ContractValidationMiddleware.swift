import Foundation
import Vapor

/// Checks every request to a documented operation against the contract before the handler runs: path and query
/// parameters (`invalid_parameter`), the body's media type (`unsupported_media_type`), JSON syntax
/// (`malformed_json`) and the body's schema (`validation_failed`, one entry per bad field).
struct ContractValidationMiddleware: AsyncMiddleware {
    let contract: OpenAPIContract

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        // A path the contract spells out in full (`/api/v1/activities/batch`) answers its own methods only, even
        // where a parameter route of another method would match it (`PATCH /api/v1/activities/{activityId}`).
        var literal = contract.literalPathMethods(request.url.path)
        if literal.contains("GET") { literal = (literal + ["HEAD"]).sorted() }
        if !literal.isEmpty, !literal.contains(request.method.rawValue) {
            throw AppError(
                .methodNotAllowed,
                "\(request.method.rawValue) is not allowed on \(request.url.path); allowed: \(literal.joined(separator: ", ")).",
                headers: [("Allow", literal.joined(separator: ", "))])
        }
        if let operation = request.contractOperation(in: contract) {
            let context = ValidationContext(now: request.now, config: request.application.meander.config)
            try validateParameters(of: operation, request, context: context)
            try validateBody(of: operation, request, context: context)
        }
        return try await next.respond(to: request)
    }

    private func validateParameters(
        of operation: OpenAPIContract.Operation, _ request: Request, context: ValidationContext
    ) throws {
        try Self.checkParameters(
            of: operation, query: request.url.query, path: { request.parameters.get($0) }, headers: { request.headers[$0] },
            context: context)
    }

    /// Checks the path, query and header parameters of a request to `operation` (the path's and headers' values
    /// looked up by name); throws `invalid_parameter` with one entry per bad parameter. The middleware's check, and
    /// `ContractBenchmark`'s.
    static func checkParameters(
        of operation: OpenAPIContract.Operation, query rawQuery: String?, path: (String) -> String?,
        headers: (String) -> [String], context: ValidationContext
    ) throws {
        var errors: [AppError.FieldError] = []
        let query = Self.queryItems(rawQuery)
        for parameter in operation.parameters {
            let values: [String]
            switch parameter.location {
            case .path:
                guard let value = path(parameter.name) else { continue }
                values = [value]
            case .query:
                guard let given = query[parameter.name] else {
                    if parameter.required {
                        errors.append(.init(field: parameter.name, code: "required", message: "This parameter is required."))
                    }
                    continue
                }
                values = given
            case .header:
                let given = headers(parameter.name)
                guard !given.isEmpty else { continue }
                values = given
            case .cookie:
                continue
            }
            SchemaValidator.validateParameter(
                values, name: parameter.name, schema: parameter.schema, context: context, errors: &errors)
        }
        // Query parameters the operation does not declare are ignored, but their text is held to the same rule.
        for (name, given) in query.sorted(by: { $0.key < $1.key })
        where !operation.parameters.contains(where: { $0.location == .query && $0.name == name }) {
            for value in [name] + given {
                if let error = TextRule.violation(in: value, at: name) {
                    errors.append(error)
                    break
                }
            }
        }
        guard errors.isEmpty else {
            let names = Set(errors.map(\.field)).sorted().joined(separator: ", ")
            throw AppError(.invalidParameter, "Invalid parameter(s): \(names).", fieldErrors: errors)
        }
    }

    private func validateBody(
        of operation: OpenAPIContract.Operation, _ request: Request, context: ValidationContext
    ) throws {
        guard !operation.requestBodies.isEmpty else { return }
        let body = request.body.data
        let isEmpty = (body?.readableBytes ?? 0) == 0
        if isEmpty {
            if operation.requestBodyRequired {
                throw AppError.validation([.init(field: "/", code: "required", message: "A request body is required.")])
            }
            return
        }
        let mediaType = request.headers.contentType.map { "\($0.type)/\($0.subType)".lowercased() }
        guard let mediaType, let schema = operation.requestBodies[mediaType] else {
            let accepted = operation.requestBodies.keys.sorted().joined(separator: ", ")
            throw AppError(
                .unsupportedMediaType,
                "Send the body as \(accepted), not \(mediaType ?? "a body without Content-Type").")
        }
        guard mediaType == "application/json", let body else { return }
        try Self.checkJSONBody(Data(buffer: body), against: schema, context: context)
    }

    /// Parses a JSON body and checks it against its schema: `malformed_json`, or `validation_failed` with one entry
    /// per bad field. The middleware's check, and `ContractBenchmark`'s.
    @discardableResult
    static func checkJSONBody(_ body: Data, against schema: OpenAPIContract.Schema, context: ValidationContext) throws -> JSONValue {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: body)
        } catch {
            throw AppError(.malformedJSON, "The request body is not valid JSON.")
        }
        var errors: [AppError.FieldError] = []
        SchemaValidator.validate(value, against: schema, at: "/", context: context, errors: &errors)
        guard errors.isEmpty else { throw AppError.validation(errors) }
        return value
    }

    /// Query items by name, percent-decoded, `+` read as a space.
    static func queryItems(_ query: String?) -> [String: [String]] {
        guard let query, !query.isEmpty else { return [:] }
        var items: [String: [String]] = [:]
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                let spaced = text.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            let name = decode(parts[0])
            items[name, default: []].append(parts.count > 1 ? decode(parts[1]) : "")
        }
        return items
    }
}

extension Request {
    /// The contract operation this request's matched route serves, if any.
    func contractOperation(in contract: OpenAPIContract) -> OpenAPIContract.Operation? {
        guard let route else { return nil }
        let components = route.path.map { component -> String in
            switch component {
            case .constant(let value): value
            case .parameter: "{}"
            case .anything: "*"
            case .catchall: "**"
            }
        }
        return contract.operation(method: method.rawValue, pathComponents: components)
    }
}

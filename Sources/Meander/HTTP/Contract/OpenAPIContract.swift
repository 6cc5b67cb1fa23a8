import Foundation
import OpenAPIKit
import Yams

/// The served OpenAPI document, parsed once at start-up, so that every request can be checked against the
/// contract (parameters, bodies) and every operation's declared permission can be looked up by route.
///
/// OpenAPIKit (the model swift-openapi-generator builds from) decodes the document into typed values and resolves its
/// `$ref`s; this keeps what a request is checked against: one `Operation` per method and path, its `x-permission`, its
/// parameters and its request bodies' schemas, each compiled once for `SchemaValidator` (`Schema`).
struct OpenAPIContract: Sendable {
    /// One parameter of an operation, with its schema resolved.
    struct Parameter: Sendable {
        enum Location: String, Sendable {
            case query, path, header, cookie
        }
        var name: String
        var location: Location
        var required: Bool
        var schema: Schema
    }

    /// One operation of the document.
    struct Operation: Sendable {
        var operationID: String
        var method: String
        /// The path template, e.g. `/api/v1/organizations/{organizationId}`.
        var path: String
        var permission: String?
        var parameters: [Parameter]
        /// Media type → resolved schema of the request body.
        var requestBodies: [String: Schema]
        var requestBodyRequired: Bool
    }

    let operations: [Operation]
    private let byRoute: [String: Operation]
    /// Paths without parameters → their methods.
    private let literalPaths: [String: [String]]

    init(yaml: String) throws {
        let document: DereferencedDocument
        do {
            document = try YAMLDecoder().decode(OpenAPI.Document.self, from: yaml).locallyDereferenced()
        } catch {
            throw AppError(.internalError, "The OpenAPI document does not parse: \(error)")
        }
        var operations: [Operation] = []
        for (path, item) in document.paths {
            let methods: [(String, DereferencedOperation?)] = [
                ("get", item.get), ("put", item.put), ("post", item.post), ("delete", item.delete),
                ("patch", item.patch), ("head", item.head), ("options", item.options),
            ]
            for case (let method, let operation?) in methods {
                var bodies: [String: Schema] = [:]
                for (mediaType, content) in operation.requestBody?.content ?? [:] {
                    bodies[mediaType.rawValue] = try content.schema.map(Schema.init) ?? .unconstrained
                }
                operations.append(
                    Operation(
                        operationID: operation.underlyingOperation.operationId ?? "\(method) \(path.rawValue)",
                        method: method.uppercased(), path: path.rawValue,
                        permission: operation.underlyingOperation.vendorExtensions["x-permission"]?.value as? String,
                        parameters: try (item.parameters + operation.parameters).compactMap { try Parameter($0) },
                        requestBodies: bodies, requestBodyRequired: operation.requestBody?.underlyingRequest.required ?? false))
            }
        }
        self.operations = operations
        byRoute = Dictionary(
            operations.map { (Self.routeKey(method: $0.method, template: $0.path), $0) },
            uniquingKeysWith: { first, _ in first })
        literalPaths = Dictionary(
            grouping: operations.filter { !$0.path.contains("{") }, by: \.path
        ).mapValues { $0.map(\.method).sorted() }
    }

    /// Fails start-up unless every operation declares a permission from the permission table.
    func checkPermissionsDeclared() throws {
        let bad = operations.filter { $0.permission.flatMap(Permission.init(rawValue:)) == nil }
        guard bad.isEmpty else {
            throw AppError(
                .internalError,
                "Operations without a known x-permission: \(bad.map(\.operationID).sorted().joined(separator: ", "))")
        }
    }

    /// The contract as bundled with this build, parsed once per process: OpenAPIKit's parse takes about a third of a
    /// second in a release build (ADR 0001, "The contract's model"), and the tests configure an application per test.
    static func bundled() throws -> OpenAPIContract {
        try bundledOnce.get()
    }

    private static let bundledOnce = Result {
        try OpenAPIContract(yaml: String(decoding: try OpenAPIDocument.bytes(), as: UTF8.self))
    }

    /// The operation for a method and a route given as path components (`{name}` for parameters).
    func operation(method: String, pathComponents: [String]) -> Operation? {
        byRoute["\(method) /\(pathComponents.joined(separator: "/"))"]
    }

    /// The methods of a path the contract spells out in full (no parameters), e.g. `POST` for
    /// `/api/v1/activities/batch`; empty for other paths. Such a path also matches parameter routes of other
    /// methods (`PATCH /api/v1/activities/{activityId}`), but is not one of their records.
    func literalPathMethods(_ path: String) -> [String] {
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        return literalPaths[trimmed] ?? []
    }

    private static func routeKey(method: String, template: String) -> String {
        let components = template.split(separator: "/").map { component in
            component.hasPrefix("{") ? "{}" : String(component)
        }
        return "\(method) /\(components.joined(separator: "/"))"
    }
}

extension OpenAPIContract.Parameter {
    /// The parameter, or nil for a location the validator does not read (`querystring`).
    fileprivate init?(_ parameter: DereferencedParameter) throws {
        let location: Location
        switch parameter.underlyingParameter.location {
        case .query: location = .query
        case .path: location = .path
        case .header: location = .header
        case .cookie: location = .cookie
        case .querystring: return nil
        }
        // A parameter described by `content` rather than `schema` is not checked.
        let schema = try parameter.schemaOrContent.a.map { try OpenAPIContract.Schema($0.schema) } ?? .unconstrained
        self.init(
            name: parameter.underlyingParameter.name, location: location, required: parameter.underlyingParameter.required,
            schema: schema)
    }
}

import Foundation
import Yams

/// The served OpenAPI document, parsed once at start-up, so that every request can be checked against the
/// contract (parameters, bodies) and every operation's declared permission can be looked up by route.
struct OpenAPIContract: Sendable {
    /// A JSON-compatible value as parsed from YAML or JSON.
    typealias Schema = [String: any Sendable]

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
        guard let root = try Yams.load(yaml: yaml) as? [String: Any] else {
            throw AppError(.internalError, "The OpenAPI document is not a mapping.")
        }
        let resolver = ReferenceResolver(root: root)
        var operations: [Operation] = []
        let paths = root["paths"] as? [String: Any] ?? [:]
        for (path, rawItem) in paths {
            guard let item = rawItem as? [String: Any] else { continue }
            let shared = (item["parameters"] as? [Any]) ?? []
            for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
                guard let operation = item[method] as? [String: Any] else { continue }
                let rawParameters = shared + ((operation["parameters"] as? [Any]) ?? [])
                let parameters = rawParameters.compactMap { raw -> Parameter? in
                    guard let parameter = resolver.resolve(raw) as? [String: Any],
                        let name = parameter["name"] as? String,
                        let location = (parameter["in"] as? String).flatMap(Parameter.Location.init(rawValue:))
                    else { return nil }
                    return Parameter(
                        name: name, location: location,
                        required: (parameter["required"] as? Bool) ?? (location == .path),
                        schema: resolver.deepResolve(parameter["schema"] ?? [:]) as? Schema ?? [:])
                }
                var bodies: [String: Schema] = [:]
                var bodyRequired = false
                if let body = resolver.resolve(operation["requestBody"] ?? [:]) as? [String: Any] {
                    bodyRequired = body["required"] as? Bool ?? false
                    for (mediaType, content) in (body["content"] as? [String: Any]) ?? [:] {
                        let schema = (content as? [String: Any])?["schema"] ?? [:]
                        bodies[mediaType] = resolver.deepResolve(schema) as? Schema ?? [:]
                    }
                }
                operations.append(
                    Operation(
                        operationID: operation["operationId"] as? String ?? "\(method) \(path)",
                        method: method.uppercased(), path: path,
                        permission: operation["x-permission"] as? String,
                        parameters: parameters, requestBodies: bodies, requestBodyRequired: bodyRequired))
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

    /// The contract as bundled with this build.
    static func bundled() throws -> OpenAPIContract {
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

/// Resolves local `$ref`s (`#/components/...`) in the parsed document.
private struct ReferenceResolver {
    let root: [String: Any]

    func resolve(_ value: Any) -> Any {
        var current = value
        var hops = 0
        while let object = current as? [String: Any], let reference = object["$ref"] as? String, hops < 32 {
            current = lookup(reference) ?? [:]
            hops += 1
        }
        return current
    }

    /// Resolves references everywhere inside a schema, converting to `Sendable` dictionaries and arrays.
    func deepResolve(_ value: Any, depth: Int = 0) -> any Sendable {
        let resolved = resolve(value)
        guard depth < 64 else { return [String: any Sendable]() }
        switch resolved {
        case let object as [String: Any]:
            var result: [String: any Sendable] = [:]
            for (key, child) in object {
                result[key] = deepResolve(child, depth: depth + 1)
            }
            return result
        case let array as [Any]:
            return array.map { deepResolve($0, depth: depth + 1) }
        case let string as String: return string
        case let bool as Bool: return bool
        case let int as Int: return int
        case let double as Double: return double
        default: return String(describing: resolved)
        }
    }

    private func lookup(_ reference: String) -> Any? {
        guard reference.hasPrefix("#/") else { return nil }
        var current: Any = root
        for component in reference.dropFirst(2).split(separator: "/") {
            let key = component.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            guard let object = current as? [String: Any], let next = object[key] else { return nil }
            current = next
        }
        return current
    }
}

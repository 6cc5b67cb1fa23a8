import Foundation
import Testing
import Vapor
import VaporTesting
import Yams

@testable import Meander

@Suite("The OpenAPI contract")
struct OpenAPIDocumentTests {
    static let repositoryFile = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/Meander/openapi.yaml")

    static let methods = ["get", "put", "post", "delete", "patch", "head", "options"]

    private func document() throws -> [String: Any] {
        let text = try String(contentsOf: Self.repositoryFile, encoding: .utf8)
        return try #require(try Yams.load(yaml: text) as? [String: Any])
    }

    @Test("GET /openapi.yaml serves the repository's file byte for byte")
    func servedMatchesFile() async throws {
        let expected = try Data(contentsOf: Self.repositoryFile)
        try await withTestApp(migrate: false) { app in
            try await app.testing().test(.GET, "/openapi.yaml") { response in
                #expect(response.status == .ok)
                #expect(response.headers.contentType?.serialize().hasPrefix("application/yaml") == true)
                #expect(Data(buffer: response.body) == expected)
            }
        }
    }

    @Test("the document is OpenAPI 3.1 and every operation has an id, a tag, a permission and error schemas")
    func operationsAreComplete() throws {
        // given
        let document = try document()
        #expect((document["openapi"] as? String)?.hasPrefix("3.1") == true)
        let declaredTags = Set(((document["tags"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String })
        let paths = try #require(document["paths"] as? [String: [String: Any]])

        // then
        var operationIDs: [String] = []
        for (path, item) in paths {
            for method in Self.methods {
                guard let operation = item[method] as? [String: Any] else { continue }
                let place = "\(method.uppercased()) \(path)"
                let operationID = operation["operationId"] as? String
                #expect(operationID != nil, "\(place) has no operationId")
                operationIDs.append(operationID ?? "")
                let tags = operation["tags"] as? [String] ?? []
                #expect(tags.count == 1, "\(place) should have exactly one tag")
                #expect(tags.allSatisfy(declaredTags.contains), "\(place) uses an undeclared tag")
                #expect(operation["x-permission"] is String, "\(place) declares no x-permission")
                let responses = operation["responses"] as? [String: Any] ?? [:]
                #expect(responses["default"] != nil, "\(place) has no default (problem) response")
                for (status, response) in responses {
                    let response = response as? [String: Any] ?? [:]
                    let isRedirect = status.hasPrefix("3") && (response["headers"] as? [String: Any])?["Location"] != nil
                    #expect(
                        response["$ref"] != nil || response["content"] != nil || ["202", "204"].contains(status)
                            || isRedirect,
                        "\(place) \(status) has no schema")
                }
            }
        }
        #expect(Set(operationIDs).count == operationIDs.count, "operationIds must be unique")
    }

    @Test("every documented operation is served, and every served route is documented")
    func routesMatchDocument() async throws {
        let paths = try #require(try document()["paths"] as? [String: [String: Any]])
        var documented = Set<String>()
        for (path, item) in paths {
            for method in Self.methods where item[method] != nil {
                let vaporPath = path.split(separator: "/").map { $0.hasPrefix("{") ? ":" : String($0) }
                documented.insert("\(method.uppercased()) /\(vaporPath.joined(separator: "/"))")
            }
        }
        try await withTestApp(migrate: false) { app in
            let served = Set(
                app.routes.all.map { route in
                    let path = route.path.map { component -> String in
                        if case .constant(let value) = component { return value }
                        return ":"
                    }
                    return "\(route.method.rawValue) /\(path.joined(separator: "/"))"
                })
            #expect(served == documented)
        }
    }
}

import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

@testable import Meander

/// One captured response of the in-process app.
struct APIResult: Sendable {
    var status: HTTPStatus
    var body: Data
    var headers: HTTPHeaders = [:]

    /// Decodes the body as a generated API type (dates as the contract writes them: ISO 8601).
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            if let date = try? Date(text, strategy: .iso8601) { return date }
            if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) {
                return date
            }
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: text))
        }
        return try decoder.decode(type, from: body)
    }

    /// The problem document's `code`, for error responses.
    var problemCode: String? { (try? JSONDecoder().decode(ProblemDocument.self, from: body))?.code }

    /// The JSON pointers named by a validation problem.
    var problemFields: [String] {
        (try? JSONDecoder().decode(ProblemDocument.self, from: body))?.errors?.map(\.field) ?? []
    }

    var text: String { String(decoding: body, as: UTF8.self) }
}

/// Sends API requests to the in-process app.
enum API {
    static func send(
        _ app: Application, _ method: HTTPMethod, _ path: String, as caller: SignedIn? = nil, json: String? = nil
    ) async throws -> APIResult {
        var headers: HTTPHeaders = caller?.headers ?? [:]
        if json != nil { headers.replaceOrAdd(name: .contentType, value: "application/json") }
        var result: APIResult?
        try await app.testing().test(
            method, path, headers: headers, body: json.map { ByteBuffer(string: $0) }
        ) { response in
            result = APIResult(status: response.status, body: Data(buffer: response.body), headers: response.headers)
        }
        return try #require(result)
    }

    /// Sends a request to a running server, for tests that race real concurrent requests.
    static func send(
        _ client: any Client, port: Int, _ method: HTTPMethod, _ path: String, as caller: SignedIn? = nil,
        json: String? = nil
    ) async throws -> APIResult {
        var headers: HTTPHeaders = caller?.headers ?? [:]
        if json != nil { headers.replaceOrAdd(name: .contentType, value: "application/json") }
        let response = try await client.send(
            method, headers: headers, to: URI(string: "http://127.0.0.1:\(port)\(path)")
        ) { request in
            if let json { request.body = ByteBuffer(string: json) }
        }
        return APIResult(
            status: response.status, body: response.body.map { Data(buffer: $0) } ?? Data(), headers: response.headers)
    }

    /// A JSON string literal.
    static func quote(_ text: String) -> String {
        String(decoding: try! JSONEncoder().encode(text), as: UTF8.self)
    }
}

extension UUID {
    /// The lowercase form the API writes.
    var api: String { uuidString.lowercased() }
}

extension Organization {
    /// The id in the API's lowercase form (for fixtures, which always have an id).
    var apiID: String { id!.uuidString.lowercased() }
}

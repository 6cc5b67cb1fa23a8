import Foundation
import Testing
import Vapor
import VaporTesting

@testable import Meander

/// Every error class answers RFC 9457 problem+json with a stable code.
@Suite("Problem details")
struct ProblemTests {
    struct Sample: Content {
        var name: String
        var count: Int
    }

    private func problem(_ response: TestingHTTPResponse) throws -> ProblemDocument {
        #expect(response.headers.contentType?.serialize().hasPrefix("application/problem+json") == true)
        return try JSONDecoder().decode(ProblemDocument.self, from: Data(buffer: response.body))
    }

    @Test("an unknown route is 404 not_found")
    func unknownRoute() async throws {
        try await withTestApp(migrate: false) { app in
            try await app.testing().test(.GET, "/api/v1/nothing-here") { response in
                #expect(response.status == .notFound)
                let body = try problem(response)
                #expect(body.code == "not_found")
                #expect(body.type == "urn:meander:problem:not_found")
                #expect(body.status == 404)
                #expect(body.instance == "/api/v1/nothing-here")
                #expect(body.requestID == response.headers.first(name: "X-Request-Id"))
            }
        }
    }

    @Test("a wrong method is 405 method_not_allowed with Allow")
    func wrongMethod() async throws {
        try await withTestApp(migrate: false) { app in
            try await app.testing().test(.DELETE, "/api/v1/activity-types") { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers.first(name: "Allow") == "GET, HEAD")
                try #expect(problem(response).code == "method_not_allowed")
            }
        }
    }

    @Test("a literal path shadowed by a parameter route of another method is 405, not a bad id")
    func shadowedLiteralPath() async throws {
        try await withTestApp { app in
            // given: PATCH /api/v1/activities/{activityId} would take "batch" as the id
            let caller = try await IdentityFixtures.signedIn(
                app, email: "kari@example.no", roles: [(.peerMentor, try await IdentityFixtures.tree(app).chapterA1)])

            // when
            let response = try await API.send(app, .PATCH, "/api/v1/activities/batch", as: caller, json: #"{"items": []}"#)

            // then
            #expect(response.status == .methodNotAllowed)
            #expect(response.headers.first(name: "Allow") == "POST")
            #expect(response.problemCode == "method_not_allowed")
        }
    }

    @Test("below a literal segment, a path the router cannot reach is 404, never a 405 that allows its own method")
    func unreachableBelowLiteral() async throws {
        try await withTestApp { app in
            // given: the router follows the literal `batch` and never tries {activityId}
            let caller = try await IdentityFixtures.signedIn(
                app, email: "kari@example.no", roles: [(.coordinator, try await IdentityFixtures.tree(app).chapterA1)])

            // when
            let response = try await API.send(app, .POST, "/api/v1/activities/batch/approve", as: caller)

            // then
            #expect(response.status == .notFound, "\(response.text)")
            #expect(response.headers.first(name: "Allow") == nil)
        }
    }

    @Test("a body over the configured limit is 413 payload_too_large")
    func oversizedBody() async throws {
        try await withTestApp(migrate: false, configure: { $0.maxBodySize = 1024 }) { app in
            app.post("echo") { request in try request.content.decode(Sample.self).name }
            let big = ByteBuffer(string: String(repeating: "x", count: 4096))
            try await app.testing().test(
                .POST, "/echo", headers: ["Content-Type": "application/json"], body: big
            ) { response in
                #expect(response.status == .payloadTooLarge)
                try #expect(problem(response).code == "payload_too_large")
            }
        }
    }

    @Test("a body over the limit is refused on a real socket, streamed without Content-Length")
    func oversizedStreamedBody() async throws {
        try await withTestApp(migrate: false, configure: { $0.maxBodySize = 1024 }) { app in
            app.on(.POST, "echo", body: .stream) { request in
                try await request.body.collect(upTo: 1 << 20).readableBytes.description
            }
            try await app.testing(method: .running(port: 0)).test(
                .POST, "/echo", headers: ["Content-Type": "application/json", "Transfer-Encoding": "chunked"],
                body: ByteBuffer(string: String(repeating: "y", count: 8192))
            ) { response in
                #expect(response.status == .payloadTooLarge)
            }
        }
    }

    @Test("malformed JSON is 400 malformed_json")
    func malformedJSON() async throws {
        try await withTestApp(migrate: false) { app in
            app.post("echo") { request in try request.content.decode(Sample.self).name }
            try await app.testing().test(
                .POST, "/echo", headers: ["Content-Type": "application/json"], body: ByteBuffer(string: "{\"name\": ")
            ) { response in
                #expect(response.status == .badRequest)
                try #expect(problem(response).code == "malformed_json")
            }
        }
    }

    @Test("JSON of the wrong shape is 400 validation_failed naming each field")
    func wrongShape() async throws {
        try await withTestApp(migrate: false) { app in
            app.post("echo") { request in try request.content.decode(Sample.self).name }
            try await app.testing().test(
                .POST, "/echo", headers: ["Content-Type": "application/json"],
                body: ByteBuffer(string: #"{"name": "x", "count": "many"}"#)
            ) { response in
                #expect(response.status == .badRequest)
                let body = try problem(response)
                #expect(body.code == "validation_failed")
                #expect(body.errors == [.init(field: "/count", code: "invalid_type", message: "Expected a value of type Int.")])
            }
        }
    }

    @Test("an unsupported media type is 415 unsupported_media_type")
    func unsupportedMediaType() async throws {
        try await withTestApp(migrate: false) { app in
            app.post("echo") { request in try request.content.decode(Sample.self).name }
            try await app.testing().test(
                .POST, "/echo", headers: ["Content-Type": "application/x-unknown"], body: ByteBuffer(string: "name=x")
            ) { response in
                #expect(response.status == .unsupportedMediaType)
                try #expect(problem(response).code == "unsupported_media_type")
            }
        }
    }

    @Test("an invalid query parameter on an API operation is 400 and names the parameter")
    func invalidParameters() async throws {
        try await withTestApp { app in
            try await app.testing().test(.GET, "/api/v1/activity-types?limit=0") { response in
                #expect(response.status == .badRequest)
                let body = try problem(response)
                #expect(body.code == "invalid_parameter")
                #expect(body.errors?.first?.field == "limit")
            }
            try await app.testing().test(.GET, "/api/v1/activity-types?limit=lots") { response in
                #expect(response.status == .badRequest)
                try #expect(problem(response).code == "invalid_parameter")
            }
            try await app.testing().test(.GET, "/api/v1/activity-types?cursor=garbage") { response in
                #expect(response.status == .badRequest)
                try #expect(problem(response).code == "invalid_cursor")
            }
            try await app.testing().test(.GET, "/api/v1/activity-types?bufdir_category=bingo") { response in
                #expect(response.status == .badRequest)
                try #expect(problem(response).code == "invalid_parameter")
            }
        }
    }

    @Test("an unexpected error is 500 internal_error without internals")
    func internalError() async throws {
        struct Secret: Error { let text = "diagnosis: something private" }
        try await withTestApp(migrate: false) { app in
            app.get("boom") { _ -> String in throw Secret() }
            try await app.testing().test(.GET, "/boom") { response in
                #expect(response.status == .internalServerError)
                let body = try problem(response)
                #expect(body.code == "internal_error")
                #expect(!response.body.string.contains("private"))
            }
        }
    }

    @Test(
        "decoding errors map to stable codes",
        arguments: [
            ("{", "malformed_json"),
            (#"{"count": 1}"#, "validation_failed"),
            (#"{"name": null, "count": 1}"#, "validation_failed"),
            (#"{"name": 3, "count": 1}"#, "validation_failed"),
        ])
    func decodingErrors(json: String, code: String) throws {
        // when
        let error = #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Sample.self, from: Data(json.utf8))
        }

        // then
        let mapped = ProblemMiddleware.fromDecoding(try #require(error))
        #expect(mapped.code.rawValue == code)
        #expect(mapped.status == .badRequest)
    }
}

@Suite("Request ids")
struct RequestIDTests {
    @Test("a plain client request id is echoed; anything else is replaced")
    func echo() async throws {
        try await withTestApp(migrate: false) { app in
            try await app.testing().test(.GET, "/health/live", headers: ["X-Request-Id": "abc-123.DEF_4"]) { response in
                #expect(response.headers.first(name: "X-Request-Id") == "abc-123.DEF_4")
            }
            try await app.testing().test(.GET, "/health/live", headers: ["X-Request-Id": "evil\u{7F} id"]) { response in
                let id = try #require(response.headers.first(name: "X-Request-Id"))
                #expect(id != "evil\u{7F} id")
                #expect(UUID(uuidString: id) != nil)
            }
            try await app.testing().test(.GET, "/health/live") { response in
                #expect(response.headers.first(name: "X-Request-Id").flatMap(UUID.init(uuidString:)) != nil)
            }
        }
    }
}

import Fluent
import Foundation
import SQLKit
import Testing
import Vapor
import VaporTesting

@testable import Meander

/// Oversized heads, the mentor of an activity, one pointer convention in batches, and one rule for lists of tenant
/// data that a caller's roles do not grant.
@Suite("Request hardening")
struct RequestHardeningTests {
    static func problem(_ response: TestingHTTPResponse) throws -> ProblemDocument {
        #expect(response.headers.contentType?.subType == "problem+json")
        return try JSONDecoder().decode(ProblemDocument.self, from: Data(buffer: response.body))
    }

    @Test("an over-long request target answers 414 uri_too_long on a real socket")
    func uriTooLong() async throws {
        try await withTestApp { app in
            // given: a query string just over the limit, well inside what the HTTP decoder itself accepts
            let query = String(repeating: "a", count: RequestSizeMiddleware.maxURILength)

            // when / then
            try await app.testing(method: .running(port: 0)).test(.GET, "/api/v1/activity-types?q=\(query)") { response in
                #expect(response.status == .uriTooLong)
                let code = try Self.problem(response).code
                #expect(code == "uri_too_long")
            }
            // and just under it the request is served
            let fits = String(repeating: "a", count: RequestSizeMiddleware.maxURILength - 200)
            try await app.testing(method: .running(port: 0)).test(.GET, "/api/v1/activity-types?x=\(fits)") { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test("over-large headers answer 431 headers_too_large on a real socket")
    func headersTooLarge() async throws {
        try await withTestApp { app in
            // given: two headers that are each well inside the decoder's field limit, together over ours
            let half = String(repeating: "b", count: RequestSizeMiddleware.maxHeaderBytes / 2)
            let headers: HTTPHeaders = ["X-One": half, "X-Two": half]

            // when / then
            try await app.testing(method: .running(port: 0)).test(.GET, "/health/live", headers: headers) { response in
                #expect(response.status == .requestHeaderFieldsTooLarge)
                let code = try Self.problem(response).code
                #expect(code == "headers_too_large")
            }
        }
    }

    @Test("a coordinator without a peer-mentor role cannot be an activity's mentor: 400 not_a_mentor")
    func coordinatorIsNotAMentor() async throws {
        try await withTestApp { app in
            // given
            let world = try await ActivityWorld.make(app)
            let type = try await ActivityWorld.typeID(app, "home_visit")

            // when: naming nobody (themself), and naming themself
            let implicit = try await API.send(
                app, .POST, "/api/v1/activities", as: world.coordinator,
                json: ActivityWorld.body(organization: world.tree.chapterA1, type: type))
            let explicit = try await API.send(
                app, .POST, "/api/v1/activities", as: world.coordinator,
                json: ActivityWorld.body(
                    organization: world.tree.chapterA1, type: type, mentorID: try world.coordinator.user.requireID()))
            let forMentor = try await API.send(
                app, .POST, "/api/v1/activities", as: world.coordinator,
                json: ActivityWorld.body(
                    organization: world.tree.chapterA1, type: type, mentorID: try world.mentor.user.requireID()))

            // then
            for result in [implicit, explicit] {
                #expect(result.status == .badRequest, "\(result.text)")
                #expect(result.problemCode == "not_a_mentor")
                #expect(result.problemFields == ["/mentor_id"])
            }
            #expect(forMentor.status == .created, "\(forMentor.text)")
            #expect(try await Activity.query(on: app.db).count() == 1)
        }
    }

    @Test("a mentor whose role was revoked before the day cannot be named for it; after it they can")
    func mentorOnThatDay() async throws {
        try await withTestApp { app in
            // given: the mentor's role revoked on 2025-06-01
            let world = try await ActivityWorld.make(app)
            let type = try await ActivityWorld.typeID(app, "home_visit")
            let mentorID = try world.mentor.user.requireID()
            let role = try #require(try await UserRole.query(on: app.db).filter(\.$user.$id == mentorID).first())
            role.revokedAt = Date(timeIntervalSince1970: 1_748_736_000)
            try await role.save(on: app.db)

            // when
            let before = try await API.send(
                app, .POST, "/api/v1/activities", as: world.coordinator,
                json: ActivityWorld.body(
                    organization: world.tree.chapterA1, type: type, occurredAt: "2025-05-20T10:00:00Z", mentorID: mentorID))
            let after = try await API.send(
                app, .POST, "/api/v1/activities", as: world.coordinator,
                json: ActivityWorld.body(
                    organization: world.tree.chapterA1, type: type, occurredAt: "2025-06-20T10:00:00Z", mentorID: mentorID))

            // then
            #expect(before.status == .created, "\(before.text)")
            #expect(after.status == .badRequest)
            #expect(after.problemCode == "not_a_mentor")
        }
    }

    @Test("a batch item's field errors are pointers rooted at the batch document")
    func batchPointers() async throws {
        try await withTestApp { app in
            // given: one item bad by schema, one bad by a rule checked after decoding
            let world = try await ActivityWorld.make(app)
            let type = try await ActivityWorld.typeID(app, "home_visit")
            let schemaBad = ActivityWorld.body(organization: world.tree.chapterA1, type: type, minutes: -5)
            let ruleBad = ActivityWorld.body(organization: world.tree.chapterA1, type: UUID().api)

            // when
            let result = try await API.send(
                app, .POST, "/api/v1/activities/batch", as: world.mentor, json: #"{"items": [\#(schemaBad), \#(ruleBad)]}"#)

            // then
            #expect(result.status == .ok, "\(result.text)")
            let object = try #require(try JSONSerialization.jsonObject(with: result.body) as? [String: Any])
            let results = try #require(object["results"] as? [[String: Any]])
            let fields = results.map { item in
                ((item["problem"] as? [String: Any])?["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }
            }
            #expect(fields == [["/items/0/duration_minutes"], ["/items/1/activity_type_id"]])
        }
    }

    @Test("a list of tenant data that the caller's roles grant nowhere answers 403, on every such list")
    func platformAdminLists() async throws {
        try await withTestApp { app in
            // given
            let platformAdmin = try await IdentityFixtures.signedIn(
                app, email: "platform@example.no", roles: [(.platformAdmin, nil)])

            // when / then
            for path in ["/api/v1/contacts", "/api/v1/activities"] {
                let result = try await API.send(app, .GET, path, as: platformAdmin)
                #expect(result.status == .forbidden, "\(path): \(result.status) \(result.text)")
                #expect(result.problemCode == "forbidden")
            }
        }
    }

    @Test("an unhandled database error is logged with its SQLSTATE or result code and message, values cut out")
    func databaseErrorFacts() async throws {
        try await withTestApp { app in
            // given: a real error from the engine under test
            var caught: (any Error)?
            do {
                try await app.db.sqlDatabase().raw("SELECT * FROM no_such_table_here").run()
            } catch {
                caught = error
            }
            let error = try #require(caught)

            // when
            let facts = ProblemMiddleware.databaseFacts(of: error)

            // then
            switch TestEngine.current {
            case .postgres:
                #expect(facts["sqlstate"] == "42P01", "\(facts)")
                #expect(facts["db_message"]?.contains("no_such_table_here") == true, "\(facts)")
            case .sqlite:
                #expect(facts["db_error"] != nil, "\(facts)")
                #expect(facts["db_message"]?.contains("no such table") == true, "\(facts)")
            }
        }
        #expect(
            ProblemMiddleware.redactingValues(#"invalid input syntax for type uuid: "ola@example.no""#)
                == #"invalid input syntax for type uuid: "…""#)
        #expect(ProblemMiddleware.redactingValues(#"relation "users" does not exist"#) == #"relation "users" does not exist"#)
    }
}

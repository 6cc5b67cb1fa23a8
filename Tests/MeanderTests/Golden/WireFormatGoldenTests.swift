import FluentSQL
import Foundation
import Testing
import Vapor

@testable import Meander

/// The API's JSON as mobile teams build against it: one response per resource, under a fixed clock and ids, compared
/// with the committed files in `Golden/files/`. A difference fails the test and prints both.
///
/// Re-record after an intended change of the wire format, then review the diff:
///
///     make golden        # MEANDER_GOLDEN_RECORD=1 swift test --filter WireFormatGoldenTests
///
/// Time and new ids come from the app's dependencies (`TestClock`, `UUIDSource.incrementing`). Fluent stamps
/// `created_at`/`updated_at` with the machine's clock on `create`, so rows written through Fluent models get the
/// fixed time written over theirs (`GoldenWorld.pin`) before they are read back. Both engines compare with the same
/// files.
@Suite("Wire format golden files", .serialized)
struct WireFormatGoldenTests {
    @Test("organisation")
    func organization() async throws {
        try await GoldenWorld.with { world in
            let created = try await world.send(
                .POST, "/api/v1/organizations", as: world.admin,
                json: #"{"name":"Harstad lokallag","kind":"local","parent_id":"\#(world.national)","org_number":"974760673"}"#)
            #expect(created.status == .created)
            let id = try created.decode(Components.Schemas.Organization.self).id
            try await world.pin()
            let read = try await world.send(.GET, "/api/v1/organizations/\(id)", as: world.admin)
            try world.check(read, "organization")
        }
    }

    @Test("membership")
    func membership() async throws {
        try await GoldenWorld.with { world in
            let page = try await world.send(
                .GET, "/api/v1/organizations/\(world.chapter)/memberships?limit=1", as: world.admin)
            try world.check(page, "memberships-page")
        }
    }

    @Test("session")
    func session() async throws {
        try await GoldenWorld.with { world in
            let sessions = try await world.send(.GET, "/api/v1/me/sessions", as: world.mentor)
            try world.check(sessions, "my-sessions")
        }
    }

    @Test("contact")
    func contact() async throws {
        try await GoldenWorld.with { world in
            let contact = try await world.contact()
            try await world.pin()
            let read = try await world.send(.GET, "/api/v1/contacts/\(contact)", as: world.coordinator)
            try world.check(read, "contact")
        }
    }

    @Test("activity")
    func activity() async throws {
        try await GoldenWorld.with { world in
            let contact = try await world.contact()
            let logged = try await world.logActivity(contact: contact)
            try world.check(logged, "activity-created")
        }
    }

    @Test("attachment")
    func attachment() async throws {
        try await GoldenWorld.with { world in
            let contact = try await world.contact()
            let activity = try await world.logActivity(contact: contact).decode(Components.Schemas.Activity.self).id
            let uploaded = try await world.upload(to: activity)
            #expect(uploaded.status == .created)
            try await world.pin()
            let page = try await world.send(.GET, "/api/v1/activities/\(activity)/attachments", as: world.mentor)
            try world.check(page, "attachments-page")
        }
    }

    @Test("report, export and job")
    func report() async throws {
        try await GoldenWorld.with { world in
            let contact = try await world.contact()
            _ = try await world.logActivity(contact: contact)
            let created = try await world.send(
                .POST, "/api/v1/organizations/\(world.national)/bufdir-reports", as: world.admin,
                json: #"{"reporting_year":2026}"#)
            #expect(created.status == .created)
            let report = try created.decode(Components.Schemas.BufdirReport.self).id
            try await world.pin()
            try world.check(try await world.send(.GET, "/api/v1/bufdir-reports/\(report)", as: world.admin), "report")

            let started = try await world.send(
                .POST, "/api/v1/bufdir-reports/\(report)/exports", as: world.admin, json: #"{"format":"json"}"#)
            #expect(started.status == .accepted)
            let job = try started.decode(Components.Schemas.Job.self).id
            try await world.app.meander.jobs.workers.drain()
            try await world.pin()
            let finished = try await world.send(.GET, "/api/v1/jobs/\(job)", as: world.admin)
            try world.check(finished, "job-finished")
            let export = try #require(try finished.decode(Components.Schemas.Job.self).exportId)
            try world.check(
                try await world.send(.GET, "/api/v1/bufdir-exports/\(export)", as: world.admin), "export",
                redacting: ["duration_ms", "created_at"])
        }
    }

    @Test("problem")
    func problem() async throws {
        try await GoldenWorld.with { world in
            let missing = try await world.send(
                .GET, "/api/v1/contacts/00000000-0000-4000-8000-0000000000ff", as: world.coordinator)
            #expect(missing.status == .notFound)
            try world.check(missing, "problem-not-found")
            let invalid = try await world.send(
                .POST, "/api/v1/activities", as: world.mentor, json: #"{"organization_id":"\#(world.chapter)"}"#)
            try world.check(invalid, "problem-validation")
        }
    }
}

/// Two organisations, three people with roles and sessions, and an activity type, all with fixed ids and times, in
/// an app whose clock stands at `GoldenWorld.now` and whose new ids count up from 1.
struct GoldenWorld {
    static let now = Date(timeIntervalSince1970: 1_772_445_600)  // 2026-03-02T10:00:00Z, a Monday
    static let filesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("files")

    let app: Application
    let national = "f0000000-0000-4000-8000-000000000001"
    let chapter = "f0000000-0000-4000-8000-000000000002"
    let activityType = "f0000000-0000-4000-8000-000000000051"
    let admin: SignedIn
    let coordinator: SignedIn
    let mentor: SignedIn

    /// The tables whose rows Fluent stamps with the machine's clock.
    static let stampedTables = [
        Organization.schema, User.schema, OrganizationMembership.schema, UserRole.schema, Session.schema,
        ActivityType.schema, Contact.schema, ContactMentorAssignment.schema, ActivityAttachment.schema,
        BufdirReport.schema, Job.schema,
    ]

    static func with(_ body: (GoldenWorld) async throws -> Void) async throws {
        let dependencies = AppDependencies(clock: TestClock(now).clock, uuid: .incrementing())
        // A fixed signing key, so that list cursors (HMACs under a key derived from it) are the same in every run.
        let signingKey = SecretKey(bytes: Array(repeating: 7, count: 32))
        try await withTestApp(dependencies: dependencies, configure: { $0.tokenSigningKey = signingKey }) { app in
            try await body(try await GoldenWorld(app))
        }
    }

    private init(_ app: Application) async throws {
        self.app = app
        func id(_ n: Int) -> UUID { UUID(uuidString: String(format: "f0000000-0000-4000-8000-%012d", n))! }
        try await Organization(id: id(1), name: "Norges Testforbund", kind: .national, orgNumber: "971277882")
            .create(on: app.db)
        try await Organization(id: id(2), name: "Tromsø lokallag", kind: .local, parentID: id(1)).create(on: app.db)
        try await ActivityType(
            id: id(51), organizationID: id(1), key: "golden_visit", nameNb: "Hjemmebesøk", nameEn: "Home visit",
            bufdirCategory: .oneToOne, requiresEvidence: true, defaultDurationMinutes: 60
        ).create(on: app.db)
        func person(
            _ n: Int, _ email: String, _ first: String, _ role: UserRole.Role, in organization: UUID
        ) async throws -> SignedIn {
            let user = User(
                id: id(n), email: email, firstName: first, lastName: "Testesen",
                passwordHash: try PasswordHasher(cost: 4).hash(IdentityFixtures.password), status: .active)
            try await user.create(on: app.db)
            try await OrganizationMembership(
                id: id(n + 10), organizationID: organization, userID: id(n), status: .active, joinedAt: Self.now
            ).create(on: app.db)
            try await UserRole(
                id: id(n + 20), userID: id(n), organizationID: organization, role: role, grantedAt: Self.now
            ).create(on: app.db)
            let session = Session(
                id: id(n + 30), userID: id(n), authMethod: .password, userAgent: "GoldenTests/1.0", ip: "127.0.0.1",
                lastSeenAt: Self.now, expiresAt: Self.now.addingTimeInterval(30 * 86_400))
            try await session.create(on: app.db)
            // The token is verified by the machine's clock, so it is minted by it.
            let token = try await app.meander.tokens.accessToken(userID: id(n), sessionID: id(n + 30), issuedAt: Date())
            return SignedIn(user: user, sessionID: id(n + 30), accessToken: token)
        }
        admin = try await person(101, "admin@golden.test", "Ada", .orgAdmin, in: id(1))
        coordinator = try await person(102, "coordinator@golden.test", "Cora", .coordinator, in: id(2))
        mentor = try await person(103, "mentor@golden.test", "Mina", .peerMentor, in: id(2))
        try await pin()
    }

    /// Writes the fixed time over what Fluent stamped (`created_at`, and `updated_at` where the table has one).
    func pin() async throws {
        let sql = try app.db.sqlDatabase()
        let catalog = try await DatabaseCatalog.columns(on: sql)
        for table in Self.stampedTables {
            let columns = Set(catalog[table, default: []].map(\.name))
            for column in ["created_at", "updated_at"] where columns.contains(column) {
                try await sql.raw("UPDATE \(ident: table) SET \(ident: column) = \(bind: Self.now)").run()
            }
        }
    }

    func send(_ method: HTTPMethod, _ path: String, as caller: SignedIn, json: String? = nil) async throws -> APIResult {
        try await API.send(app, method, path, as: caller, json: json)
    }

    /// A contact of the chapter with its mentor assigned, made by the coordinator; its id.
    func contact() async throws -> String {
        let created = try await send(
            .POST, "/api/v1/contacts", as: coordinator,
            json: """
                {"organization_id":"\(chapter)","first_name":"Kari","last_name":"Nordmann","birth_year":1958,
                 "municipality_code":"5501","needs":"Følge til legetime","mentor_ids":["\(mentor.user.id!.api)"],
                 "consent":{"scope":"registration,contact_by_phone","given_at":"2026-03-01T09:00:00Z"}}
                """)
        #expect(created.status == .created, "\(created.text)")
        return try created.decode(Components.Schemas.Contact.self).id
    }

    /// An activity logged by the mentor with the contact.
    func logActivity(contact: String) async throws -> APIResult {
        let logged = try await send(
            .POST, "/api/v1/activities", as: mentor,
            json: """
                {"organization_id":"\(chapter)","activity_type_id":"\(activityType)","contact_id":"\(contact)",
                 "occurred_at":"2026-03-01T14:00:00Z","duration_minutes":90,"channel":"in_person",
                 "municipality_code":"5501","summary":"Gikk tur sammen"}
                """)
        #expect(logged.status == .created, "\(logged.text)")
        return logged
    }

    /// A small PDF uploaded as evidence of the activity.
    func upload(to activity: String) async throws -> APIResult {
        var headers = mentor.headers
        headers.replaceOrAdd(name: .contentType, value: "application/pdf")
        var result: APIResult?
        try await app.testing().test(
            .POST, "/api/v1/activities/\(activity)/attachments?file_name=oppmøteliste.pdf&kind=attendance_list", headers: headers,
            body: ByteBuffer(string: "%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
        ) { response in
            result = APIResult(status: response.status, body: Data(buffer: response.body), headers: response.headers)
        }
        return try #require(result)
    }

    /// Compares the response with `files/<name>.json` (status and body), or writes it when recording. `redacting`
    /// names top-level body fields whose values no fixed clock can hold (a measured duration; a time stamped by an
    /// append-only table's row, which cannot be pinned afterwards): their values are replaced by a marker, their
    /// presence is still compared.
    func check(_ result: APIResult, _ name: String, redacting: [String] = []) throws {
        let file = Self.filesDirectory.appendingPathComponent("\(name).json")
        let actual = try Self.document(result, redacting: redacting)
        if ProcessInfo.processInfo.environment["MEANDER_GOLDEN_RECORD"] == "1" {
            try FileManager.default.createDirectory(at: Self.filesDirectory, withIntermediateDirectories: true)
            try Data(actual.utf8).write(to: file)
            return
        }
        let expected = try #require(
            try? String(contentsOf: file, encoding: .utf8),
            "no golden file \(file.lastPathComponent): record it with `make golden`")
        #expect(actual == expected, "the wire format of \(name) changed; re-record with `make golden` if intended")
    }

    /// The status and the body, pretty-printed with sorted keys so that a change reads as a small diff.
    static func document(_ result: APIResult, redacting: [String] = []) throws -> String {
        var body = try JSONSerialization.jsonObject(with: result.body, options: [.fragmentsAllowed])
        if !redacting.isEmpty, var object = body as? [String: Any] {
            for key in redacting where object[key] != nil { object[key] = "<not fixed by the clock>" }
            body = object
        }
        let wrapped: [String: Any] = ["status": Int(result.status.code), "body": body]
        let data = try JSONSerialization.data(
            withJSONObject: wrapped, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

import Fluent
import FluentSQL
import Foundation
import SQLKit
import Testing
import Vapor

@testable import Meander

/// Every list operation of the contract, walked page by page over data with ties in every sort column that allows
/// them: the pages together are the one large page, in its order, with nothing twice and nothing missing, and the
/// last page says so with a null `next_cursor`.
///
/// The operations come from `openapi.yaml` (those with a `limit` or `cursor` query parameter); only how to fill
/// each list is written here (`WalkCase`), and `coverage` fails when a list has no case.
///
/// Checked once against the code before `Keyset` (the hand-rolled cursors): on SQLite `listAttachments` and
/// `listBufdirExports` never ended (their cursors wrote `created_at` at whole seconds, or as a `Double` that SQLite's
/// read-back had rounded: page after page returned the same rows until the bound stopped the walk), and
/// `listActivities`, `listBufdirReportActivities` (the same rounding of `occurred_at`) and `listContacts` (`NULL`
/// names, which `>` never passes) lost rows; on PostgreSQL `listActivities`, `listAttachments` and `listContacts`
/// failed the same way.
@Suite("Pagination walk")
struct PaginationWalkTests {
    static let contract = try! OpenAPIContract.bundled()

    /// The list operations: every operation that takes `limit` or `cursor` in its query.
    static let listOperationIDs: [String] = contract.operations.filter { operation in
        operation.parameters.contains { $0.location == .query && ($0.name == "limit" || $0.name == "cursor") }
    }.map(\.operationID).sorted()

    /// Fractional seconds below the microsecond, which neither a whole-second nor a rounded copy keeps.
    static let tiedInstant = Date(timeIntervalSince1970: 1_748_772_000.123_456_7)

    @Test("every list operation of the contract has a walk case")
    func coverage() {
        // then: a new list cannot silently escape the walk
        #expect(Self.listOperationIDs.count >= 13)
        #expect(Set(Self.listOperationIDs).subtracting(WalkCase.operationIDs).isEmpty)
    }

    @Test("pages of 1, 2 and 3 are the large page, in order, each item once, ending with a null cursor", arguments: listOperationIDs)
    func walk(operationID: String) async throws {
        let operation = try #require(Self.contract.operations.first { $0.operationID == operationID })
        try await withTestApp { app in
            // given: at least 7 items, tied in the sort columns
            let built = try await WalkCase.make(operationID, app: app)
            let path = try built.request.path(for: operation)
            let separator = path.contains("?") ? "&" : "?"
            let whole = try await Self.page(app, path + separator + "limit=200", as: built.caller)
            #expect(whole.next == nil, "\(operationID): one page of 200 holds everything")
            #expect(whole.ids.count >= 7, "\(operationID): only \(whole.ids.count) items to walk")
            #expect(Set(whole.ids).count == whole.ids.count, "\(operationID): the large page repeats an item")

            for limit in [1, 2, 3] {
                // when
                var walked: [String] = []
                var cursor: String?
                var pages = 0
                repeat {
                    let page = try await Self.page(
                        app, path + separator + "limit=\(limit)" + (cursor.map { "&cursor=\($0)" } ?? ""),
                        as: built.caller)
                    #expect(!page.ids.isEmpty && page.ids.count <= limit, "\(operationID) limit \(limit): \(page.ids.count)")
                    if page.next != nil { #expect(page.ids.count == limit) }
                    walked += page.ids
                    cursor = page.next
                    pages += 1
                } while cursor != nil && pages <= whole.ids.count + 1

                // then
                #expect(cursor == nil, "\(operationID) limit \(limit): the walk did not end after \(pages) pages")
                #expect(
                    walked.count == Set(walked).count,
                    "\(operationID) limit \(limit): \(walked.count - Set(walked).count) duplicates")
                #expect(
                    Set(whole.ids).subtracting(walked).isEmpty,
                    "\(operationID) limit \(limit): \(Set(whole.ids).subtracting(walked).count) missing")
                #expect(walked == whole.ids, "\(operationID) limit \(limit): not the large page's order")
            }
        }
    }

    @Test("a cursor is valid only for the list and the caller it was issued to")
    func cursorIsBound() async throws {
        try await withTestApp { app in
            // given: a page of a chapter's activity types for a coordinator, and another coordinator
            let tree = try await IdentityFixtures.tree(app)
            let coordinator = try await IdentityFixtures.signedIn(
                app, email: "coordinator@walk.test", roles: [(.coordinator, tree.chapterA1)])
            let other = try await IdentityFixtures.signedIn(
                app, email: "other@walk.test", roles: [(.coordinator, tree.chapterA1)])
            let path = "/api/v1/organizations/\(tree.chapterA1.apiID)/activity-types?limit=1"
            let cursor = try #require(try await Self.page(app, path, as: coordinator).next)

            // when
            let own = try await API.send(app, .GET, path + "&cursor=\(cursor)", as: coordinator)
            let otherCaller = try await API.send(app, .GET, path + "&cursor=\(cursor)", as: other)
            let otherList = try await API.send(app, .GET, "/api/v1/activity-types?limit=1&cursor=\(cursor)")
            let tampered = try await API.send(
                app, .GET, path + "&cursor=\(cursor.dropLast(2))\(cursor.hasSuffix("AA") ? "AB" : "AA")", as: coordinator)

            // then
            #expect(own.status == .ok)
            for refused in [otherCaller, otherList, tampered] {
                #expect(refused.status == .badRequest, "\(refused.text)")
                #expect(refused.problemCode == "invalid_cursor")
            }
        }
    }

    @Test("after a soft-deleted row the list continues; after a row that is gone, 400 invalid_cursor")
    func deletedCursorRow() async throws {
        try await withTestApp { app in
            // given: five activities and five types of a chapter, and the first page of each
            let world = try await WalkCase.World.make(app)
            let chapter = try world.tree.chapterA1.requireID()
            let activities = try await WalkCase.activities(app, world, count: 5)
            let sql = try app.db.sqlDatabase()
            try await sql.raw("UPDATE activities SET occurred_at = \(bind: Self.tiedInstant)").run()
            let activityPath = "/api/v1/activities?organization_id=\(chapter.api)"
            let whole = try await Self.page(app, activityPath + "&limit=200", as: world.admin)
            let first = try await Self.page(app, activityPath + "&limit=2", as: world.admin)
            for index in 0..<5 {
                try await ActivityType(
                    organizationID: chapter, key: "walk_gone_\(index)", nameNb: "Type", nameEn: "Type", bufdirCategory: .other,
                    sortOrder: -1
                ).create(on: app.db)
            }
            let typePath = "/api/v1/organizations/\(chapter.api)/activity-types?include_inactive=true&limit=1"
            let typePage = try await Self.page(app, typePath, as: world.admin)

            // when: the first page's last activity is deleted (soft), and the type page's last type (hard)
            let last = try #require(activities.first { $0.id?.api == first.ids.last })
            try await last.delete(on: app.db)
            let after = try await Self.page(
                app, activityPath + "&limit=200&cursor=\(try #require(first.next))", as: world.admin)
            try await sql.raw("DELETE FROM activity_types WHERE id = \(bind: UUID(uuidString: try #require(typePage.ids.last))!)")
                .run()
            let gone = try await API.send(app, .GET, typePath + "&cursor=\(try #require(typePage.next))", as: world.admin)

            // then
            #expect(after.ids == Array(whole.ids.dropFirst(2)))
            #expect(gone.status == .badRequest, "\(gone.text)")
            #expect(gone.problemCode == "invalid_cursor")
        }
    }

    /// One page: the items' ids in order, and the next cursor.
    static func page(_ app: Application, _ path: String, as caller: SignedIn?) async throws -> (ids: [String], next: String?) {
        let response = try await API.send(app, .GET, path, as: caller)
        try #require(response.status == .ok, "GET \(path): \(response.status) \(response.text)")
        let body = try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: Any])
        let items = try #require(body["items"] as? [[String: Any]], "GET \(path): no items")
        let ids = try items.map { try #require($0["id"] as? String, "an item without an id") }
        return (ids, body["next_cursor"] as? String)
    }
}

/// How to fill each list with tied items, and whom to ask.
enum WalkCase {
    static let operationIDs: Set<String> = [
        "listActivityTypes", "listMySessions", "listOrganizations", "listMemberships", "listSessions",
        "listAuditEntries", "listContacts", "listOrganizationActivityTypes", "listActivities", "listAttachments",
        "listBufdirReports", "listBufdirReportActivities", "listBufdirExports", "listAdminJobs", "listMyNotifications",
        "listMyDevices",
    ]

    /// The two-tenant tree, an org admin of tenant A's national organisation, and a mentor of chapter A1.
    struct World {
        let tree: OrganizationTreeFixture
        let admin: SignedIn
        let mentor: User

        static func make(_ app: Application) async throws -> World {
            let tree = try await IdentityFixtures.tree(app)
            return World(
                tree: tree,
                admin: try await IdentityFixtures.signedIn(app, email: "admin@walk.test", roles: [(.orgAdmin, tree.national)]),
                mentor: try await IdentityFixtures.user(app, email: "mentor@walk.test", roles: [(.peerMentor, tree.chapterA1)]))
        }
    }

    /// The request (without `limit` and `cursor`) and the caller.
    struct Built {
        var request: MatrixRequest
        var caller: SignedIn?
    }

    static func make(_ operationID: String, app: Application) async throws -> Built {
        let world = try await World.make(app)
        let sql = try app.db.sqlDatabase()
        let chapter = try world.tree.chapterA1.requireID()
        let tied = PaginationWalkTests.tiedInstant
        switch operationID {
        case "listActivityTypes":
            // the seeded global types and seven more, all at one sort order (a global key is unique)
            for index in 0..<7 {
                try await ActivityType(key: "walk_\(index)", nameNb: "Tur", nameEn: "Walk", bufdirCategory: .other, sortOrder: index)
                    .create(on: app.db)
            }
            try await sql.raw("UPDATE activity_types SET sort_order = 5").run()
            return Built(request: MatrixRequest(query: "include_inactive=true"), caller: nil)
        case "listOrganizationActivityTypes":
            // the chapter's own types take the keys of global types: ties in the sort order and in the key
            let globals = try await ActivityType.query(on: app.db).filter(\.$organization.$id == nil).limit(7).all()
            for global in globals {
                try await ActivityType(organizationID: chapter, key: global.key, nameNb: "Egen", nameEn: "Own", bufdirCategory: .other)
                    .create(on: app.db)
            }
            try await sql.raw("UPDATE activity_types SET sort_order = 5").run()
            return Built(
                request: MatrixRequest(pathParameters: ["organizationId": chapter.api], query: "include_inactive=true"),
                caller: world.admin)
        case "listMySessions":
            let user = try await IdentityFixtures.user(app, email: "sessions@walk.test")
            var caller: SignedIn?
            for _ in 0..<8 { caller = try await IdentityFixtures.signIn(app, user) }
            try await sql.raw("UPDATE sessions SET created_at = \(bind: tied) WHERE user_id = \(bind: try user.requireID())").run()
            return Built(request: MatrixRequest(), caller: caller)
        case "listSessions":
            for index in 0..<4 {
                let user = try await IdentityFixtures.user(
                    app, email: "member\(index)@walk.test", roles: [(.peerMentor, world.tree.chapterA1)])
                for _ in 0..<2 { _ = try await IdentityFixtures.signIn(app, user) }
            }
            try await sql.raw("UPDATE sessions SET created_at = \(bind: tied)").run()
            return Built(request: MatrixRequest(query: "organization_id=\(chapter.api)"), caller: world.admin)
        case "listOrganizations":
            for index in 0..<3 {
                try await IdentityFixtures.organization(app, "Lag \(index)", kind: .local, parent: world.tree.regionB)
            }
            try await sql.raw("UPDATE organizations SET name = 'Samme navn'").run()
            return Built(request: MatrixRequest(), caller: world.admin)
        case "listMemberships":
            // e-mail addresses are unique: no ties to make
            for index in 0..<7 {
                try await IdentityFixtures.user(app, email: "m\(index)@walk.test", roles: [(.peerMentor, world.tree.chapterA1)])
            }
            return Built(request: MatrixRequest(pathParameters: ["organizationId": chapter.api]), caller: world.admin)
        case "listAuditEntries":
            // the chain's sequence is unique, and the table refuses updates: no ties to make
            for index in 0..<8 {
                try await AuditLog.append(
                    AuditEvent("walk.step", organizationID: chapter, metadata: ["step": "\(index)"]), on: app.db)
            }
            return Built(request: MatrixRequest(query: "organization_id=\(chapter.api)"), caller: world.admin)
        case "listContacts":
            var ids: [UUID] = []
            for _ in 0..<9 {
                let contact = Contact(
                    organizationID: chapter, firstName: "Ola", lastName: "Hansen", municipalityCode: "5501", countyCode: "55")
                try await contact.create(on: app.db)
                ids.append(try contact.requireID())
            }
            // (NULL, NULL) ×3, (NULL, Ola) ×2, (Hansen, Ola) ×3, (Hansen, NULL) ×1
            try await sql.raw("UPDATE contacts SET last_name = NULL WHERE id IN (\(binds: Array(ids[0..<5])))").run()
            try await sql.raw("UPDATE contacts SET first_name = NULL WHERE id IN (\(binds: Array(ids[0..<3]) + [ids[8]]))").run()
            return Built(request: MatrixRequest(query: "organization_id=\(chapter.api)"), caller: world.admin)
        case "listActivities":
            _ = try await activities(app, world, count: 8)
            try await sql.raw("UPDATE activities SET occurred_at = \(bind: tied)").run()
            return Built(request: MatrixRequest(query: "organization_id=\(chapter.api)"), caller: world.admin)
        case "listAttachments":
            let activity = try #require(try await activities(app, world, count: 1).first)
            for _ in 0..<8 {
                let id = UUID()
                try await ActivityAttachment(
                    id: id, organizationID: chapter, activityID: try activity.requireID(), uploadedByID: try world.mentor.requireID(),
                    fileName: "bevis.pdf", mediaType: "application/pdf", sizeBytes: 15, sha256: String(repeating: "0", count: 64),
                    storageKey: BlobKey.attachment(organizationID: chapter, attachmentID: id), kind: .attendanceList
                ).create(on: app.db)
            }
            try await sql.raw("UPDATE activity_attachments SET created_at = \(bind: tied)").run()
            return Built(request: MatrixRequest(pathParameters: ["activityId": try activity.requireID().api]), caller: world.admin)
        case "listBufdirReports":
            for _ in 0..<8 {
                let period = MatrixCase.freshPeriod()
                _ = try await BufdirReportLifecycle.create(
                    organizationID: chapter, year: period.year, start: period.start, end: period.end, actor: .cli,
                    deps: app.meander.dependencies, on: app.db)
            }
            // the periods end on different days; every one starts on the same
            try await sql.raw("UPDATE bufdir_reports SET period_start = '2024-01-01'").run()
            return Built(request: MatrixRequest(pathParameters: ["organizationId": chapter.api]), caller: world.admin)
        case "listBufdirReportActivities":
            _ = try await activities(app, world, count: 8)
            try await sql.raw("UPDATE activities SET occurred_at = \(bind: tied), counts_for_bufdir = \(bind: true)").run()
            let report = try await BufdirReportLifecycle.create(
                organizationID: chapter, year: 2025, start: "2025-01-01", end: "2025-12-31", actor: .cli, deps: app.meander.dependencies,
                on: app.db)
            return Built(request: MatrixRequest(pathParameters: ["reportId": try report.requireID().api]), caller: world.admin)
        case "listBufdirExports":
            // one real export, and seven copies of its row made at one instant (the table refuses updates)
            let report = try await BufdirReportLifecycle.create(
                organizationID: chapter, year: 2025, start: "2025-01-01", end: "2025-12-31", actor: .cli, deps: app.meander.dependencies,
                on: app.db)
            let export = try await BufdirExportRun.run(
                .init(reportID: try report.requireID(), format: .json, client: .cli, actor: .cli, jobID: nil), db: app.db,
                files: app.meander.files, temporaryDirectory: FileManager.default.temporaryDirectory, logger: app.logger,
                progress: { _, _ in })
            let columns: SQLQueryString = """
                actor_user_id, organization_id, report_id, job_id, client, format, parameters, result, size_bytes, sha256,
                row_counts, figures, storage_key, audit_sequence, duration_ms, error
                """
            for _ in 0..<7 {
                try await sql.raw(
                    """
                    INSERT INTO bufdir_export_audits (id, created_at, \(columns))
                    SELECT \(bind: UUID()), \(bind: tied), \(columns) FROM bufdir_export_audits WHERE id = \(bind: try export.requireID())
                    """
                ).run()
            }
            return Built(request: MatrixRequest(pathParameters: ["reportId": try report.requireID().api]), caller: world.admin)
        case "listAdminJobs":
            for _ in 0..<8 {
                try await JobQueue.enqueue(JobRequest(JobMaintenance.probeKind), deps: app.meander.dependencies, on: app.db)
            }
            try await sql.raw("UPDATE jobs SET created_at = \(bind: tied)").run()
            let root = try await IdentityFixtures.signedIn(app, email: "root@walk.test", roles: [(.platformAdmin, nil)])
            return Built(request: MatrixRequest(query: "kind=probe"), caller: root)
        case "listMyNotifications":
            let caller = try await IdentityFixtures.signedIn(app, email: "inbox@walk.test", roles: [])
            for _ in 0..<4 {
                try await Notifier.notify(
                    caller.user.requireID(), .init(.activityRejected, values: ["link": "x"]), deps: app.meander.dependencies,
                    on: app.db)
            }
            try await sql.raw("UPDATE notifications SET created_at = \(bind: tied)").run()
            return Built(request: MatrixRequest(), caller: caller)
        case "listMyDevices":
            let caller = try await IdentityFixtures.signedIn(app, email: "devices@walk.test", roles: [])
            for index in 0..<8 {
                try await NotificationDevice(
                    userID: caller.user.requireID(), platform: index % 2 == 0 ? .ios : .android, token: "walk-token-\(index)"
                ).create(on: app.db)
            }
            try await sql.raw("UPDATE notification_devices SET created_at = \(bind: tied)").run()
            return Built(request: MatrixRequest(), caller: caller)
        default:
            Issue.record("no walk case for \(operationID)")
            return Built(request: MatrixRequest(), caller: nil)
        }
    }

    /// `count` registered group meetings of the world's mentor in chapter A1, in 2025.
    static func activities(_ app: Application, _ world: World, count: Int) async throws -> [Activity] {
        let type = try #require(
            try await ActivityType.query(on: app.db).filter(\.$key == "group_meeting").filter(\.$organization.$id == nil).first())
        var made: [Activity] = []
        for index in 0..<count {
            let activity = Activity(
                organizationID: try world.tree.chapterA1.requireID(), mentorID: try world.mentor.requireID(),
                activityTypeID: try type.requireID(), occurredAt: Date(timeIntervalSince1970: 1_741_946_400 + Double(index) * 60),
                durationMinutes: 90, participantCount: 4)
            try await activity.create(on: app.db)
            made.append(activity)
        }
        return made
    }
}

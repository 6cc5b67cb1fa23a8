import Fluent
import FluentSQL
import Foundation
import Testing
import Vapor
import VaporTesting

@testable import Meander

/// `GET /api/v1/admin/audit` and `GET /api/v1/admin/audit/verify`.
@Suite("Audit API")
struct AuditAPITests {
    struct Page: Decodable {
        struct Item: Decodable {
            var id: UUID
            var sequence: Int64
            var createdAt: String
            var actorUserId: UUID?
            var sessionId: UUID?
            var organizationId: UUID?
            var action: String
            var targetType: String?
            var targetId: UUID?
            var outcome: String
            var client: String
            var ip: String?
            var userAgent: String?
            var hash: String
            var previousHash: String
        }
        var items: [Item]
        var nextCursor: String?
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }

    struct Verification: Decodable {
        var valid: Bool
        var entryCount: Int64
        var headHash: String?
        var firstBadSequence: Int64?
        var problem: String?
    }

    /// Two tenants, one entry in every organisation and one platform-wide entry, and a caller per role.
    struct World {
        let tree: OrganizationTreeFixture
        let orgAdminA: SignedIn
        let nationalAdmin: SignedIn
        let platformAdmin: SignedIn
        let peerMentor: SignedIn
        let coordinator: SignedIn

        var organizations: [Organization] {
            [
                tree.national, tree.regionA, tree.chapterA1, tree.chapterA2, tree.regionB, tree.chapterB1, tree.other,
                tree.otherRegion, tree.otherChapter,
            ]
        }

        static func make(_ app: Application) async throws -> World {
            let tree = try await IdentityFixtures.tree(app)
            let world = World(
                tree: tree,
                orgAdminA: try await IdentityFixtures.signedIn(
                    app, email: "org-admin@example.no", roles: [(.orgAdmin, tree.regionA)]),
                nationalAdmin: try await IdentityFixtures.signedIn(
                    app, email: "national-admin@example.no", roles: [(.nationalAdmin, tree.national)]),
                platformAdmin: try await IdentityFixtures.signedIn(
                    app, email: "platform-admin@example.no", roles: [(.platformAdmin, nil)]),
                peerMentor: try await IdentityFixtures.signedIn(
                    app, email: "mentor@example.no", roles: [(.peerMentor, tree.chapterA1)]),
                coordinator: try await IdentityFixtures.signedIn(
                    app, email: "coordinator@example.no", roles: [(.coordinator, tree.regionA)]))
            for organization in world.organizations {
                try await AuditLog.append(
                    AuditEvent("organization.updated", organizationID: try organization.requireID()), on: app.db)
            }
            try await AuditLog.append(AuditEvent("organization.created"), on: app.db)
            return world
        }
    }

    private func page(
        _ app: Application, _ query: String = "", as caller: SignedIn, status: HTTPStatus = .ok
    ) async throws -> Page? {
        var result: Page?
        try await app.testing().test(.GET, "/api/v1/admin/audit" + query, headers: caller.headers) { response in
            #expect(response.status == status, "\(query): \(response.body.string)")
            if response.status == .ok {
                result = try Self.decoder.decode(Page.self, from: Data(buffer: response.body))
            }
        }
        return result
    }

    private func organizations(_ page: Page?) -> Set<UUID?> {
        Set((page?.items ?? []).map(\.organizationId))
    }

    // MARK: - Reach

    @Test("an org admin sees the entries of their region and its chapters, nothing sideways, up or elsewhere")
    func orgAdminSeesTheirSubtree() async throws {
        try await withTestApp { app in
            // given
            let world = try await World.make(app)
            let tree = world.tree

            // when
            let page = try await page(app, "?limit=200", as: world.orgAdminA)

            // then
            #expect(
                organizations(page) == [tree.regionA.id, tree.chapterA1.id, tree.chapterA2.id],
                "regionB, the national level, the other tenant and platform-wide entries stay hidden")
            #expect(page?.nextCursor == nil)
        }
    }

    @Test("a national admin sees their whole tenant, but not the other tenant or platform-wide entries")
    func nationalAdminSeesTheirTenant() async throws {
        try await withTestApp { app in
            // given
            let world = try await World.make(app)
            let tree = world.tree

            // when
            let page = try await page(app, "?limit=200", as: world.nationalAdmin)

            // then
            #expect(
                organizations(page)
                    == [
                        tree.national.id, tree.regionA.id, tree.chapterA1.id, tree.chapterA2.id, tree.regionB.id,
                        tree.chapterB1.id,
                    ])
        }
    }

    @Test("a platform admin sees every entry, platform-wide ones included")
    func platformAdminSeesEverything() async throws {
        try await withTestApp { app in
            // given
            let world = try await World.make(app)

            // when
            let page = try await page(app, "?limit=200", as: world.platformAdmin)

            // then
            #expect(organizations(page) == Set(world.organizations.map(\.id) + [nil]))
            #expect(page?.items.count == 10)
        }
    }

    @Test("roles without audit.read get 403, and an anonymous caller 401")
    func deniedCallers() async throws {
        try await withTestApp { app in
            // given
            let world = try await World.make(app)

            // when / then
            _ = try await page(app, as: world.peerMentor, status: .forbidden)
            _ = try await page(app, as: world.coordinator, status: .forbidden)
            _ = try await page(app, "?cursor=not-a-cursor", as: world.peerMentor, status: .forbidden)
            // naming an organisation: 403 inside the caller's reach, 404 outside it
            let tree = world.tree
            _ = try await page(app, "?organization_id=\(tree.chapterA1.id!)", as: world.peerMentor, status: .forbidden)
            _ = try await page(app, "?organization_id=\(tree.regionA.id!)", as: world.peerMentor, status: .notFound)
            _ = try await page(app, "?organization_id=\(tree.other.id!)", as: world.peerMentor, status: .notFound)
            _ = try await page(app, "?organization_id=\(tree.regionA.id!)", as: world.coordinator, status: .forbidden)
            _ = try await page(app, "?organization_id=\(tree.chapterB1.id!)", as: world.coordinator, status: .notFound)
            try await app.testing().test(.GET, "/api/v1/admin/audit") { response in
                #expect(response.status == .unauthorized)
            }
            try await app.testing().test(.GET, "/api/v1/admin/audit/verify") { response in
                #expect(response.status == .unauthorized)
            }
        }
    }

    // MARK: - Filters

    @Test("organization_id narrows to that organisation's subtree, and answers 404 outside reach")
    func organizationFilter() async throws {
        try await withTestApp { app in
            // given
            let world = try await World.make(app)
            let tree = world.tree

            // when
            let chapter = try await page(app, "?organization_id=\(tree.chapterA1.id!)", as: world.orgAdminA)
            let region = try await page(app, "?organization_id=\(tree.regionA.id!)", as: world.orgAdminA)
            let otherTenant = try await page(app, "?organization_id=\(tree.other.id!)", as: world.platformAdmin)

            // then
            #expect(organizations(chapter) == [tree.chapterA1.id])
            #expect(organizations(region) == [tree.regionA.id, tree.chapterA1.id, tree.chapterA2.id])
            #expect(organizations(otherTenant) == [tree.other.id, tree.otherRegion.id, tree.otherChapter.id])
            for outside in [tree.regionB.id!, tree.national.id!, tree.other.id!, tree.otherChapter.id!, UUID()] {
                _ = try await page(app, "?organization_id=\(outside)", as: world.orgAdminA, status: .notFound)
            }
            _ = try await page(app, "?organization_id=\(UUID())", as: world.platformAdmin, status: .notFound)
        }
    }

    @Test("action, actor, outcome and time filters combine, newest first")
    func fieldFilters() async throws {
        try await withTestApp { app in
            // given
            let world = try await World.make(app)
            let region = try world.tree.regionA.requireID()
            let (x, y) = (UUID(), UUID())
            let t0 = Date(timeIntervalSince1970: 1_767_261_600)  // 2026-01-01T10:00:00Z
            let events: [(String, AuditLogEntry.Outcome, UUID, TimeInterval)] = [
                ("auth.login", .success, x, 0), ("auth.login_failed", .failure, y, 3_600),
                ("auth.login", .success, y, 7_200), ("role.granted", .denied, x, 10_800),
            ]
            var appended: [AuditLogEntry] = []
            for (action, outcome, actor, offset) in events {
                appended.append(
                    try await AuditLog.append(
                        AuditEvent(action, outcome: outcome, actorUserID: actor, organizationID: region), on: app.db,
                        at: t0.addingTimeInterval(offset)))
            }
            let sequences = appended.map(\.sequence)

            // when
            func found(_ query: String) async throws -> [Int64] {
                try await page(app, query, as: world.orgAdminA)?.items.map(\.sequence) ?? []
            }

            // then
            #expect(try await found("?action=auth.login") == [sequences[2], sequences[0]])
            #expect(try await found("?actor_user_id=\(y)") == [sequences[2], sequences[1]])
            #expect(try await found("?outcome=failure") == [sequences[1]])
            #expect(try await found("?outcome=denied&actor_user_id=\(x)") == [sequences[3]])
            #expect(
                try await found("?from=2026-01-01T11:00:00Z&to=2026-01-01T13:00:00Z") == [sequences[2], sequences[1]])
            #expect(try await found("?action=auth.login&actor_user_id=\(y)") == [sequences[2]])
            #expect(try await found("?action=auth.login&organization_id=\(world.tree.chapterA1.id!)") == [])

            let item = try #require(try await page(app, "?outcome=denied", as: world.orgAdminA)?.items.first)
            #expect(item.id == appended[3].id)
            #expect(item.createdAt.hasPrefix("2026-01-01T13:00:00"))
            #expect(item.hash == appended[3].hash && item.previousHash == appended[2].hash)
            #expect(item.organizationId == region && item.actorUserId == x && item.client == "api")
        }
    }

    // MARK: - Pagination

    @Test("cursor pagination visits every entry once, newest first")
    func paginates() async throws {
        try await withTestApp { app in
            // given
            let world = try await World.make(app)
            try await AuditFixtures.chain(app, count: 7, organizationID: world.tree.chapterA2.id)
            let all = try #require(try await page(app, "?limit=200", as: world.orgAdminA)).items.map(\.sequence)

            // when
            var seen: [Int64] = []
            var cursor: String?
            var pages = 0
            repeat {
                let next = try #require(
                    try await page(app, "?limit=3" + (cursor.map { "&cursor=\($0)" } ?? ""), as: world.orgAdminA))
                #expect(next.items.count <= 3)
                seen += next.items.map(\.sequence)
                cursor = next.nextCursor
                pages += 1
            } while cursor != nil && pages < 10

            // then
            #expect(all.count == 10)
            #expect(seen == all)
            #expect(seen == seen.sorted(by: >))
            #expect(pages == 4)
        }
    }

    @Test("a cursor the API did not issue is refused")
    func refusesForeignCursor() async throws {
        try await withTestApp { app in
            // given
            let world = try await World.make(app)

            // when / then
            _ = try await page(app, "?cursor=not-a-cursor", as: world.orgAdminA, status: .badRequest)
            _ = try await page(app, "?limit=0", as: world.orgAdminA, status: .badRequest)
        }
    }

    // MARK: - Verification

    private func verification(
        _ app: Application, as caller: SignedIn, status: HTTPStatus = .ok
    ) async throws -> Verification? {
        var result: Verification?
        try await app.testing().test(.GET, "/api/v1/admin/audit/verify", headers: caller.headers) { response in
            #expect(response.status == status, "\(response.body.string)")
            if response.status == .ok {
                result = try Self.decoder.decode(Verification.self, from: Data(buffer: response.body))
            }
        }
        return result
    }

    @Test("national and platform admins verify the chain; org admins and mentors may not")
    func verifyAccess() async throws {
        try await withTestApp { app in
            // given
            let world = try await World.make(app)
            let head = try #require(try await AuditLogEntry.query(on: app.db).sort(\.$sequence, .descending).first())

            // when
            let national = try #require(try await verification(app, as: world.nationalAdmin))
            let platform = try #require(try await verification(app, as: world.platformAdmin))

            // then
            for result in [national, platform] {
                #expect(result.valid)
                #expect(result.entryCount == 10)
                #expect(result.headHash == head.hash)
                #expect(result.firstBadSequence == nil && result.problem == nil)
            }
            _ = try await verification(app, as: world.orgAdminA, status: .forbidden)
            _ = try await verification(app, as: world.peerMentor, status: .forbidden)
        }
    }

    @Test("verification over HTTP names the first bad sequence of a tampered chain")
    func verifyReportsTampering() async throws {
        try await withTestApp { app in
            // given
            let world = try await World.make(app)
            try await AuditFixtures.disableAppendOnly(app)
            try await AuditFixtures.sql(app).update(AuditLogEntry.schema).set("target_id", to: UUID())
                .where("sequence", .equal, 6).run()

            // when
            let result = try #require(try await verification(app, as: world.nationalAdmin))

            // then
            #expect(!result.valid)
            #expect(result.firstBadSequence == 6)
            #expect(result.problem == "hash mismatch: content changed")
            #expect(result.entryCount == 10)
            #expect(result.headHash == nil)
        }
    }
}

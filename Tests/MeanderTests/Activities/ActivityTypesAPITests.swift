import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

@testable import Meander

@Suite("GET /api/v1/activity-types")
struct ActivityTypesAPITests {
    struct Page: Decodable {
        struct Item: Decodable, Equatable {
            var id: UUID
            var key: String
            var bufdirCategory: String
            var reportable: Bool
            var requiresEvidence: Bool
            var active: Bool
            var sortOrder: Int
        }
        var items: [Item]
        var nextCursor: String?
    }

    private func page(_ app: Application, _ query: String) async throws -> Page {
        var result: Page?
        try await app.testing().test(.GET, "/api/v1/activity-types" + query) { response in
            #expect(response.status == .ok)
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            result = try decoder.decode(Page.self, from: Data(buffer: response.body))
        }
        return try #require(result)
    }

    @Test("lists the seeded global taxonomy in sort order")
    func lists() async throws {
        try await withTestApp { app in
            // when
            let page = try await page(app, "")

            // then
            let keys = page.items.map(\.key)
            #expect(keys.contains("home_visit"))
            #expect(keys.contains("group_meeting"))
            #expect(page.items.map(\.sortOrder) == page.items.map(\.sortOrder).sorted())
            #expect(page.items.allSatisfy { $0.active })
            #expect(page.nextCursor == nil)
        }
    }

    @Test("cursor pagination visits every type exactly once")
    func paginates() async throws {
        try await withTestApp { app in
            // given
            let all = try await page(app, "?limit=200&include_inactive=true").items

            // when
            var seen: [Page.Item] = []
            var cursor: String?
            repeat {
                let next = try await page(app, "?limit=3&include_inactive=true" + (cursor.map { "&cursor=\($0)" } ?? ""))
                #expect(next.items.count <= 3)
                seen += next.items
                cursor = next.nextCursor
            } while cursor != nil

            // then
            #expect(seen == all)
            #expect(all.count > 3)
        }
    }

    @Test("filters by category, reportable, evidence and activity")
    func filters() async throws {
        try await withTestApp { app in
            // given: one type deactivated
            let deactivated = try #require(try await ActivityType.query(on: app.db).filter(\.$key == "phone_call").first())
            deactivated.isActive = false
            try await deactivated.save(on: app.db)

            // when
            let group = try await page(app, "?bufdir_category=group").items
            let reportable = try await page(app, "?reportable=true").items
            let evidence = try await page(app, "?requires_evidence=true").items
            let active = try await page(app, "").items
            let everything = try await page(app, "?include_inactive=true").items

            // then
            #expect(!group.isEmpty && group.allSatisfy { $0.bufdirCategory == "group" })
            #expect(!reportable.isEmpty && reportable.allSatisfy { $0.reportable })
            #expect(!evidence.isEmpty && evidence.allSatisfy { $0.requiresEvidence })
            #expect(!active.map(\.key).contains("phone_call"))
            #expect(everything.map(\.key).contains("phone_call"))
            #expect(everything.count == active.count + 1)
        }
    }
}

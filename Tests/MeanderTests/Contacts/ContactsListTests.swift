import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

@testable import Meander

@Suite("Contacts API: listing")
struct ContactsListTests {
    typealias ContactView = Components.Schemas.Contact
    typealias Page = Components.Schemas.ContactPage

    /// Six live contacts in region A (five in chapter A1, one in chapter A2), one erased, one in another tenant.
    struct Seeded {
        let world: ContactWorld
        let byName: [String: ContactView]

        func id(_ last: String, _ first: String) -> String { byName["\(first) \(last)"]!.id }
    }

    static func seed(_ app: Application) async throws -> Seeded {
        let world = try await ContactWorld.make(app)
        var byName: [String: ContactView] = [:]
        func add(_ first: String, _ last: String, in organization: Organization, extra: String = "") async throws {
            let caller = organization.id == world.tree.chapterA1.id ? world.coordinator : world.regionAdmin
            byName["\(first) \(last)"] = try await ContactFixtures.create(
                app, as: caller, in: organization, first: first, last: last, extra: extra)
        }
        try await add("Ola", "Nordmann", in: world.tree.chapterA1, extra: #""needs": "Søvnvansker""#)
        try await add("Kari", "Nordmann", in: world.tree.chapterA1)
        try await add("Åse", "Ødegård", in: world.tree.chapterA1, extra: #""municipality_code": "5501""#)
        try await add("Per", "Østby", in: world.tree.chapterA1, extra: #""status": "inactive""#)
        try await add("Liv", "Aas", in: world.tree.chapterA1)
        try await add("Nils", "Berg", in: world.tree.chapterA2, extra: #""municipality_code": "1101""#)
        try await add("Erik", "Slettet", in: world.tree.chapterA1)
        let erase = try await API.send(
            app, .POST, "/api/v1/contacts/\(byName["Erik Slettet"]!.id)/erase", as: world.regionAdmin)
        try #require(erase.status == .ok, "\(erase.text)")
        _ = try await ContactFixtures.create(app, as: world.foreignCoordinator, in: world.tree.otherChapter, first: "Ola")
        return Seeded(world: world, byName: byName)
    }

    /// Every page of a listing, following `next_cursor`.
    static func all(
        _ app: Application, as caller: SignedIn, query: String = "", limit: Int = 2
    ) async throws -> [ContactView] {
        var items: [ContactView] = []
        var cursor: String?
        var pages = 0
        repeat {
            var path = "/api/v1/contacts?limit=\(limit)" + (query.isEmpty ? "" : "&" + query)
            if let cursor { path += "&cursor=\(cursor)" }
            let response = try await API.send(app, .GET, path, as: caller)
            try #require(response.status == .ok, "\(path): \(response.text)")
            let page = try response.decode(Page.self)
            items += page.items
            cursor = page.nextCursor
            pages += 1
        } while cursor != nil && pages < 50
        return items
    }

    @Test("pages visit every contact in reach once, by last name, first name and id; erased ones never")
    func paginates() async throws {
        try await withTestApp { app in
            // given
            let seeded = try await Self.seed(app)
            // namesakes: only the id orders them, across page boundaries
            for _ in 0..<3 {
                _ = try await ContactFixtures.create(
                    app, as: seeded.world.coordinator, in: seeded.world.tree.chapterA1, first: "Kari", last: "Nordmann")
            }

            // when
            let items = try await Self.all(app, as: seeded.world.regionAdmin, limit: 2)

            // then
            #expect(items.count == 9)
            #expect(Set(items.map(\.id)).count == 9, "no contact twice")
            #expect(!items.contains { $0.id == seeded.id("Slettet", "Erik") }, "erased contacts are not listed")
            #expect(items.first?.lastName == "Aas")
            let nordmann = items.filter { $0.lastName == "Nordmann" }.map(\.firstName)
            #expect(nordmann == ["Kari", "Kari", "Kari", "Kari", "Ola"])
            #expect(items.allSatisfy { $0.view == .full && $0.needs == nil && $0.notes == nil }, "lists carry no needs")
            #expect(try await AuditLogEntry.query(on: app.db).filter(\.$action == "contact.sensitive_read").count() == 0)
            let single = try await Self.all(app, as: seeded.world.regionAdmin, limit: 200)
            #expect(single.map(\.id) == items.map(\.id), "page size does not change the order")
        }
    }

    @Test("filters: organisation subtree, status, county, municipality, name (case-insensitive) and mentor")
    func filters() async throws {
        try await withTestApp { app in
            // given
            let seeded = try await Self.seed(app)
            let world = seeded.world
            try await ContactFixtures.assign(app, world.mentor, to: seeded.id("Nordmann", "Ola"), as: world.coordinator)
            func names(_ query: String, as caller: SignedIn? = nil) async throws -> Set<String> {
                Set(
                    try await Self.all(app, as: caller ?? world.regionAdmin, query: query, limit: 200).map {
                        "\($0.firstName ?? "") \($0.lastName ?? "")"
                    })
            }

            // when / then
            #expect(try await names("", as: world.coordinator).count == 5, "a chapter coordinator sees the chapter")
            #expect(try await names("organization_id=\(world.tree.chapterA2.apiID)") == ["Nils Berg"])
            #expect(try await names("organization_id=\(world.tree.regionA.apiID)").count == 6)
            #expect(try await names("status=inactive") == ["Per Østby"])
            #expect(try await names("status=active").count == 5)
            #expect(try await names("municipality_code=5501") == ["Åse Ødegård"])
            #expect(try await names("county_code=55") == ["Åse Ødegård"])
            #expect(try await names("county_code=11") == ["Nils Berg"])
            #expect(try await names("q=NORD") == ["Ola Nordmann", "Kari Nordmann"])
            #expect(try await names("q=%C3%B8DEG") == ["Åse Ødegård"], "ø matches Ø")
            #expect(try await names("q=%C3%85se") == ["Åse Ødegård"], "first names match too")
            #expect(try await names("q=100%25") == [], "wildcards are literal")
            #expect(try await names("mentor_id=\(world.mentor.user.id!.api)") == ["Ola Nordmann"])
            #expect(try await names("mentor_id=\(world.otherMentor.user.id!.api)") == [])
            #expect(try await names("q=nord&status=active&organization_id=\(world.tree.chapterA1.apiID)").count == 2)

            // out of reach or malformed
            let sibling = try await API.send(
                app, .GET, "/api/v1/contacts?organization_id=\(world.tree.chapterA2.apiID)", as: world.coordinator)
            #expect(sibling.status == .notFound)
            let foreign = try await API.send(
                app, .GET, "/api/v1/contacts?organization_id=\(world.tree.otherChapter.apiID)", as: world.regionAdmin)
            #expect(foreign.status == .notFound)
            let cursor = try await API.send(app, .GET, "/api/v1/contacts?cursor=bm9wZQ", as: world.regionAdmin)
            #expect(cursor.status == .badRequest)
            #expect(cursor.problemCode == "invalid_cursor")
            let limit = try await API.send(app, .GET, "/api/v1/contacts?limit=0", as: world.regionAdmin)
            #expect(limit.status == .badRequest)
            let county = try await API.send(app, .GET, "/api/v1/contacts?county_code=5", as: world.regionAdmin)
            #expect(county.status == .badRequest)
            #expect(county.problemCode == "invalid_parameter")
        }
    }

    @Test("a peer mentor's list holds only their assigned contacts, in the mentor view")
    func mentorList() async throws {
        try await withTestApp { app in
            // given
            let seeded = try await Self.seed(app)
            let world = seeded.world
            try await ContactFixtures.assign(app, world.mentor, to: seeded.id("Nordmann", "Ola"), as: world.coordinator)
            try await ContactFixtures.assign(app, world.mentor, to: seeded.id("Aas", "Liv"), as: world.coordinator)
            try await ContactFixtures.assign(app, world.otherMentor, to: seeded.id("Østby", "Per"), as: world.coordinator)

            // when
            let mine = try await Self.all(app, as: world.mentor, limit: 1)
            let sibling = try await Self.all(app, as: world.siblingMentor)

            // then
            #expect(mine.map(\.lastName) == ["Aas", "Nordmann"])
            #expect(mine.allSatisfy { $0.view == .mentor && $0.address == nil && $0.consent == nil && $0.notes == nil })
            #expect(sibling.isEmpty)
            // a mentor who is also coordinator elsewhere sees that chapter in full and their own contacts here
            let both = try await IdentityFixtures.signedIn(
                app, email: "both@test.no", roles: [(.peerMentor, world.tree.chapterA1), (.coordinator, world.tree.chapterA2)])
            try await ContactFixtures.assign(app, both, to: seeded.id("Ødegård", "Åse"), as: world.coordinator)
            let mixed = try await Self.all(app, as: both, limit: 200)
            #expect(Set(mixed.map { "\($0.lastName ?? ""):\($0.view.rawValue)" }) == ["Berg:full", "Ødegård:mentor"])
        }
    }
}

import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

@testable import Meander

@Suite("Admin sessions API")
struct AdminSessionsTests {
    typealias SessionPage = Components.Schemas.SessionPage

    @Test("lists the sessions of members in the organisation's tree, newest first")
    func lists() async throws {
        try await withTestApp { app in
            // given
            let tree = try await IdentityFixtures.tree(app)
            let admin = try await IdentityFixtures.signedIn(app, email: "admin@test.no", roles: [(.orgAdmin, tree.regionA)])
            let inChapter = try await IdentityFixtures.user(app, email: "a1@test.no", roles: [(.peerMentor, tree.chapterA1)])
            let sibling = try await IdentityFixtures.user(app, email: "b1@test.no", roles: [(.peerMentor, tree.chapterB1)])
            let foreign = try await IdentityFixtures.user(app, email: "o@test.no", roles: [(.peerMentor, tree.otherChapter)])
            let older = try await IdentityFixtures.signIn(app, inChapter)
            try await Task.sleep(for: .milliseconds(5))
            let newer = try await IdentityFixtures.signIn(app, inChapter)
            _ = try await IdentityFixtures.signIn(app, sibling)
            _ = try await IdentityFixtures.signIn(app, foreign)
            let revoked = try await IdentityFixtures.signIn(app, inChapter)
            try await Session.revoke(try #require(try await Session.find(revoked.sessionID, on: app.db)), reason: .logout, on: app.db)
            let path = "/api/v1/admin/sessions?organization_id=\(tree.regionA.apiID)"

            // when
            let response = try await API.send(app, .GET, path, as: admin)

            // then: the chapter member's live sessions and the admin's own (a member of region A), newest first
            #expect(response.status == .ok, "\(response.text)")
            let items = try response.decode(SessionPage.self).items
            #expect(items.map(\.id) == [newer.sessionID.api, older.sessionID.api, admin.sessionID.api])
            #expect(items.last?.current == true)
            #expect(items.dropLast().allSatisfy { !$0.current })

            // when: one user, with revoked sessions
            let one = try await API.send(
                app, .GET, path + "&user_id=\(try inChapter.requireID().api)&include_revoked=true", as: admin)

            // then
            let ids = try one.decode(SessionPage.self).items.map(\.id)
            #expect(ids == [revoked.sessionID.api, newer.sessionID.api, older.sessionID.api])
            // a user outside the tree: 404
            let outside = try await API.send(app, .GET, path + "&user_id=\(try sibling.requireID().api)", as: admin)
            #expect(outside.status == .notFound)

            // pagination visits every session once
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await API.send(
                    app, .GET, path + "&include_revoked=true&limit=1" + (cursor.map { "&cursor=\($0)" } ?? ""), as: admin
                ).decode(SessionPage.self)
                seen += page.items.map(\.id)
                cursor = page.nextCursor
            } while cursor != nil && seen.count < 100
            let all = try await API.send(app, .GET, path + "&include_revoked=true", as: admin).decode(SessionPage.self)
            #expect(seen == all.items.map(\.id))
            #expect(seen == [revoked.sessionID.api, newer.sessionID.api, older.sessionID.api, admin.sessionID.api])
            #expect(seen.count == 4)
            // a coordinator is refused (403), another tenant's admin sees nothing (404)
            let coordinator = try await IdentityFixtures.signedIn(app, email: "c@test.no", roles: [(.coordinator, tree.regionA)])
            #expect(try await API.send(app, .GET, path, as: coordinator).status == .forbidden)
            let other = try await IdentityFixtures.signedIn(app, email: "x@test.no", roles: [(.orgAdmin, tree.other)])
            #expect(try await API.send(app, .GET, path, as: other).status == .notFound)
        }
    }

    @Test("an admin revokes a member's session; the token stops working; it is audited")
    func revokes() async throws {
        try await withTestApp { app in
            // given
            let tree = try await IdentityFixtures.tree(app)
            let admin = try await IdentityFixtures.signedIn(app, email: "admin@test.no", roles: [(.orgAdmin, tree.regionA)])
            let member = try await IdentityFixtures.signedIn(app, email: "m@test.no", roles: [(.peerMentor, tree.chapterA1)])
            #expect(try await API.send(app, .GET, "/api/v1/organizations", as: member).status == .ok)

            // when
            let response = try await API.send(app, .DELETE, "/api/v1/admin/sessions/\(member.sessionID.api)", as: admin)

            // then
            #expect(response.status == .noContent, "\(response.text)")
            let session = try #require(try await Session.find(member.sessionID, on: app.db))
            #expect(session.revokedAt != nil)
            #expect(session.revokedReason == .revokedByAdmin)
            #expect(try await API.send(app, .GET, "/api/v1/organizations", as: member).status == .unauthorized)
            let audit = try #require(try await AuditLogEntry.query(on: app.db).filter(\.$action == "session.revoked").first())
            #expect(audit.targetID == member.sessionID)
            #expect(audit.actorUserID == admin.user.id)
            #expect(audit.organizationID == tree.chapterA1.id)
            // again: still 204, no second event
            #expect(try await API.send(app, .DELETE, "/api/v1/admin/sessions/\(member.sessionID.api)", as: admin).status == .noContent)
            #expect(try await AuditLogEntry.query(on: app.db).filter(\.$action == "session.revoked").count() == 1)
        }
    }

    @Test("sessions outside the caller's tree answer 404; inside it without the right, 403")
    func scope() async throws {
        try await withTestApp { app in
            // given
            let tree = try await IdentityFixtures.tree(app)
            let admin = try await IdentityFixtures.signedIn(app, email: "admin@test.no", roles: [(.orgAdmin, tree.regionA)])
            let coordinator = try await IdentityFixtures.signedIn(app, email: "c@test.no", roles: [(.coordinator, tree.regionA)])
            let platform = try await IdentityFixtures.signedIn(app, email: "p@test.no", roles: [(.platformAdmin, nil)])
            let sibling = try await IdentityFixtures.signedIn(app, email: "s@test.no", roles: [(.peerMentor, tree.chapterB1)])
            let foreign = try await IdentityFixtures.signedIn(app, email: "f@test.no", roles: [(.peerMentor, tree.otherChapter)])
            let member = try await IdentityFixtures.signedIn(app, email: "m@test.no", roles: [(.peerMentor, tree.chapterA2)])
            func revoke(_ session: SignedIn, as caller: SignedIn) async throws -> HTTPStatus {
                try await API.send(app, .DELETE, "/api/v1/admin/sessions/\(session.sessionID.api)", as: caller).status
            }

            // then
            #expect(try await revoke(sibling, as: admin) == .notFound)
            #expect(try await revoke(foreign, as: admin) == .notFound)
            #expect(try await revoke(member, as: coordinator) == .forbidden)
            // a platform admin manages tenants, not their members' sessions
            #expect(try await revoke(member, as: platform) == .notFound)
            #expect(
                try await API.send(app, .DELETE, "/api/v1/admin/sessions/\(UUID().api)", as: admin).status == .notFound)
            for session in [sibling, foreign, member] {
                #expect(try await Session.find(session.sessionID, on: app.db)?.revokedAt == nil)
            }
        }
    }
}

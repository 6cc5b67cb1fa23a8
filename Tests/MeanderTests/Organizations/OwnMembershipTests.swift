import Fluent
import Foundation
import Testing
import Vapor

@testable import Meander

@Suite("Own membership")
struct OwnMembershipTests {
    @Test("an admin cannot pause or end their own membership, nor revoke their own role; their session survives")
    func selfLockout() async throws {
        try await withTestApp(configure: { $0.passwordHashCost = 4 }) { app in
            // given: the national admin, found the way a client would (GET /me)
            let tree = try await IdentityFixtures.tree(app)
            let admin = try await IdentityFixtures.signedIn(app, email: "admin@example.no", roles: [(.nationalAdmin, tree.national)])
            let me = try await API.send(app, .GET, "/api/v1/me", as: admin).decode(Components.Schemas.Me.self)
            let own = try #require(me.memberships.first?.id)

            // when
            let end = try await API.send(app, .POST, "/api/v1/memberships/\(own)/end", as: admin)
            let pause = try await API.send(app, .POST, "/api/v1/memberships/\(own)/pause", as: admin, json: #"{"reason": "x"}"#)
            let revoke = try await API.send(app, .DELETE, "/api/v1/memberships/\(own)/roles/national_admin", as: admin)
            let after = try await API.send(app, .GET, "/api/v1/me", as: admin)

            // then
            #expect(end.status == .forbidden)
            #expect(pause.status == .forbidden)
            #expect(revoke.status == .forbidden)
            #expect(after.status == .ok)
        }
    }
}

import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

@testable import Meander

@Suite("Memberships and roles API")
struct MembershipsAPITests {
    typealias MembershipView = Components.Schemas.Membership

    /// The membership of `user` in `organization`.
    static func membership(_ app: Application, _ user: User, in organization: Organization) async throws
        -> OrganizationMembership
    {
        try #require(
            try await OrganizationMembership.query(on: app.db).filter(\.$user.$id == user.requireID())
                .filter(\.$organization.$id == organization.requireID()).first())
    }

    @Test("lists an organisation's members with filters and pagination")
    func lists() async throws {
        try await withTestApp { app in
            // given
            let tree = try await IdentityFixtures.tree(app)
            let coordinator = try await IdentityFixtures.signedIn(
                app, email: "coord@test.no", roles: [(.coordinator, tree.regionA)])
            let a = try await IdentityFixtures.user(app, email: "anne@test.no", roles: [(.peerMentor, tree.chapterA1)])
            a.firstName = "Åse"
            a.lastName = "Ødegård"
            try await a.save(on: app.db)
            try await IdentityFixtures.user(app, email: "bjorn@test.no", roles: [(.coordinator, tree.chapterA1)])
            try await IdentityFixtures.user(
                app, email: "carl@test.no", roles: [(.peerMentor, tree.chapterA1)], membershipStatus: .paused)
            try await IdentityFixtures.user(app, email: "dina@test.no", roles: [(.peerMentor, tree.chapterA2)])
            let path = "/api/v1/organizations/\(tree.chapterA1.apiID)/memberships"
            func emails(_ query: String = "") async throws -> [String] {
                let response = try await API.send(app, .GET, path + query, as: coordinator)
                #expect(response.status == .ok, "\(response.text)")
                return try response.decode(Components.Schemas.MembershipPage.self).items.map(\.user.email)
            }

            // then
            #expect(try await emails() == ["anne@test.no", "bjorn@test.no", "carl@test.no"])
            #expect(try await emails("?status=paused") == ["carl@test.no"])
            #expect(try await emails("?role=peer_mentor") == ["anne@test.no", "carl@test.no"])
            #expect(try await emails("?role=coordinator") == ["bjorn@test.no"])
            #expect(try await emails("?q=%C3%98DEG") == ["anne@test.no"])
            #expect(try await emails("?q=BJORN") == ["bjorn@test.no"])
            // pagination
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await API.send(
                    app, .GET, path + "?limit=1" + (cursor.map { "&cursor=\($0)" } ?? ""), as: coordinator
                ).decode(Components.Schemas.MembershipPage.self)
                seen += page.items.map(\.user.email)
                cursor = page.nextCursor
            } while cursor != nil && seen.count < 100
            #expect(seen == ["anne@test.no", "bjorn@test.no", "carl@test.no"])
            // the view carries roles and the organisation's name
            let first = try await API.send(app, .GET, path + "?q=bjorn", as: coordinator)
                .decode(Components.Schemas.MembershipPage.self).items.first
            #expect(first?.roles == [.coordinator])
            #expect(first?.organizationName == "Tromsø lokallag")
            // a peer mentor may not list (403); another tenant's admin gets 404
            let mentor = try await IdentityFixtures.signedIn(app, email: "m@test.no", roles: [(.peerMentor, tree.chapterA1)])
            #expect(try await API.send(app, .GET, path, as: mentor).status == .forbidden)
            let foreign = try await IdentityFixtures.signedIn(app, email: "f@test.no", roles: [(.orgAdmin, tree.other)])
            #expect(try await API.send(app, .GET, path, as: foreign).status == .notFound)
        }
    }

    @Test("pause keeps the reason out of storage and audit; resume; wrong states answer 409")
    func pauseAndResume() async throws {
        try await withTestApp { app in
            // given
            let tree = try await IdentityFixtures.tree(app)
            let admin = try await IdentityFixtures.signedIn(app, email: "admin@test.no", roles: [(.orgAdmin, tree.regionA)])
            let member = try await IdentityFixtures.user(app, email: "m@test.no", roles: [(.peerMentor, tree.chapterA1)])
            let membership = try await Self.membership(app, member, in: tree.chapterA1)
            let id = try membership.requireID().api
            let reason = "Sykmeldt etter operasjon"
            let until = Date().addingTimeInterval(30 * 86_400)

            // when: paused until a date
            let paused = try await API.send(
                app, .POST, "/api/v1/memberships/\(id)/pause", as: admin,
                json: #"{"reason": "\#(reason)", "paused_until": "\#(until.formatted(.iso8601))"}"#)

            // then
            #expect(paused.status == .ok, "\(paused.text)")
            let view = try paused.decode(MembershipView.self)
            #expect(view.status == .paused)
            #expect(view.pausedAt != nil)
            #expect(abs((view.pausedUntil ?? .distantPast).timeIntervalSince(until)) < 1)
            let stored = try #require(try await OrganizationMembership.find(membership.id, on: app.db))
            #expect(stored.status == .paused)
            #expect(stored.pausedReasonCiphertext == nil)
            let audit = try #require(
                try await AuditLogEntry.query(on: app.db).filter(\.$action == "membership.paused").first())
            #expect(audit.targetID == membership.id)
            #expect(audit.organizationID == tree.chapterA1.id)
            #expect(!audit.metadata.contains("Sykmeldt"))
            #expect(JSONText.decode([String: String].self, from: audit.metadata)?["reason_given"] == "true")
            // the reason is nowhere in the audit log
            let everything = try await AuditLogEntry.query(on: app.db).all()
            #expect(everything.allSatisfy { !$0.metadata.contains("operasjon") })
            // pausing again: 409; a paused member still holds the membership in their grants
            let again = try await API.send(
                app, .POST, "/api/v1/memberships/\(id)/pause", as: admin, json: #"{"reason": "x"}"#)
            #expect(again.status == .conflict)

            // when: resumed
            let resumed = try await API.send(app, .POST, "/api/v1/memberships/\(id)/resume", as: admin)
            let resumedAgain = try await API.send(app, .POST, "/api/v1/memberships/\(id)/resume", as: admin)

            // then
            #expect(resumed.status == .ok)
            #expect(try resumed.decode(MembershipView.self).status == .active)
            #expect(try resumed.decode(MembershipView.self).pausedUntil == nil)
            #expect(resumedAgain.status == .conflict)
            #expect(try await AuditLogEntry.query(on: app.db).filter(\.$action == "membership.resumed").count() == 1)
            // a pause that ends in the past is refused
            let past = try await API.send(
                app, .POST, "/api/v1/memberships/\(id)/pause", as: admin,
                json: #"{"reason": "x", "paused_until": "2020-01-01T00:00:00Z"}"#)
            #expect(past.status == .badRequest)
            #expect(past.problemFields == ["/paused_until"])
            // unknown membership: 404
            #expect(
                try await API.send(
                    app, .POST, "/api/v1/memberships/\(UUID().api)/pause", as: admin, json: #"{"reason": "x"}"#
                ).status == .notFound)
        }
    }

    @Test("ending a membership revokes the roles there and the person's sessions")
    func ends() async throws {
        try await withTestApp { app in
            // given
            let tree = try await IdentityFixtures.tree(app)
            let admin = try await IdentityFixtures.signedIn(app, email: "admin@test.no", roles: [(.orgAdmin, tree.regionA)])
            let member = try await IdentityFixtures.signedIn(
                app, email: "m@test.no", roles: [(.peerMentor, tree.chapterA1), (.coordinator, tree.chapterA1)])
            let membership = try await Self.membership(app, member.user, in: tree.chapterA1)
            let id = try membership.requireID().api
            #expect(try await API.send(app, .GET, "/api/v1/organizations", as: member).status == .ok)

            // when
            let ended = try await API.send(app, .POST, "/api/v1/memberships/\(id)/end", as: admin)

            // then
            #expect(ended.status == .ok, "\(ended.text)")
            let view = try ended.decode(MembershipView.self)
            #expect(view.status == .ended)
            #expect(view.endedAt != nil)
            #expect(view.roles == [])
            let roles = try await UserRole.query(on: app.db).filter(\.$user.$id == member.user.requireID()).all()
            #expect(roles.count == 2)
            #expect(roles.allSatisfy { $0.revokedAt != nil && $0.$revokedBy.id == admin.user.id })
            let session = try #require(try await Session.find(member.sessionID, on: app.db))
            #expect(session.revokedAt != nil)
            #expect(session.revokedReason == .membershipEnded)
            #expect(try await API.send(app, .GET, "/api/v1/organizations", as: member).status == .unauthorized)
            let principal = try await Principal.load(
                userID: member.user.requireID(), sessionID: member.sessionID, on: app.db)
            #expect(principal.grants.isEmpty)
            let audit = try #require(
                try await AuditLogEntry.query(on: app.db).filter(\.$action == "membership.ended").first())
            #expect(audit.metadata.contains("coordinator,peer_mentor") || audit.metadata.contains("peer_mentor,coordinator"))
            // ending twice: 409
            #expect(try await API.send(app, .POST, "/api/v1/memberships/\(id)/end", as: admin).status == .conflict)
        }
    }

    @Test("grants and revokes roles within the rank rule")
    func grantsAndRevokes() async throws {
        try await withTestApp { app in
            // given
            let tree = try await IdentityFixtures.tree(app)
            let admin = try await IdentityFixtures.signedIn(app, email: "admin@test.no", roles: [(.orgAdmin, tree.chapterA1)])
            let member = try await IdentityFixtures.user(app, email: "m@test.no", roles: [(.peerMentor, tree.chapterA1)])
            let membership = try await Self.membership(app, member, in: tree.chapterA1)
            let rolesPath = "/api/v1/memberships/\(try membership.requireID().api)/roles"

            // when: grant coordinator
            let granted = try await API.send(app, .POST, rolesPath, as: admin, json: #"{"role": "coordinator"}"#)

            // then
            #expect(granted.status == .ok, "\(granted.text)")
            #expect(try granted.decode(MembershipView.self).roles == [.peerMentor, .coordinator])
            let grant = try #require(
                try await UserRole.query(on: app.db).filter(\.$role == .coordinator)
                    .filter(\.$user.$id == member.requireID()).first())
            #expect(grant.$grantedBy.id == admin.user.id)
            #expect(grant.$organization.id == tree.chapterA1.id)
            // twice: 409; above the granter: 403; platform_admin: 400
            #expect(try await API.send(app, .POST, rolesPath, as: admin, json: #"{"role": "coordinator"}"#).status == .conflict)
            #expect(try await API.send(app, .POST, rolesPath, as: admin, json: #"{"role": "national_admin"}"#).status == .forbidden)
            let platform = try await API.send(app, .POST, rolesPath, as: admin, json: #"{"role": "platform_admin"}"#)
            #expect(platform.status == .badRequest)
            #expect(platform.problemFields == ["/role"])
            #expect(try await API.send(app, .POST, rolesPath, as: admin, json: #"{"role": "org_admin"}"#).status == .ok)

            // when: revoke
            let revoked = try await API.send(app, .DELETE, rolesPath + "/coordinator", as: admin)

            // then
            #expect(revoked.status == .ok)
            #expect(try revoked.decode(MembershipView.self).roles == [.peerMentor, .orgAdmin])
            #expect(try await API.send(app, .DELETE, rolesPath + "/coordinator", as: admin).status == .notFound)
            let actions = try await AuditLogEntry.query(on: app.db).sort(\.$sequence).all().map(\.action)
            #expect(actions.filter { $0 == "role.granted" }.count == 2)
            #expect(actions.filter { $0 == "role.revoked" }.count == 1)
            // re-granting after a revocation works (the live-grant index ignores revoked rows)
            #expect(try await API.send(app, .POST, rolesPath, as: admin, json: #"{"role": "coordinator"}"#).status == .ok)
        }
    }

    @Test("nobody takes away or manages someone ranked above them")
    func outranked() async throws {
        try await withTestApp { app in
            // given: a national admin who is also a member of a chapter, where an org admin works
            let tree = try await IdentityFixtures.tree(app)
            let orgAdmin = try await IdentityFixtures.signedIn(app, email: "org@test.no", roles: [(.orgAdmin, tree.chapterA1)])
            let boss = try await IdentityFixtures.user(app, email: "boss@test.no", roles: [(.nationalAdmin, tree.chapterA1)])
            let membership = try await Self.membership(app, boss, in: tree.chapterA1)
            let id = try membership.requireID().api

            // when / then
            #expect(try await API.send(app, .DELETE, "/api/v1/memberships/\(id)/roles/national_admin", as: orgAdmin).status == .forbidden)
            #expect(try await API.send(app, .POST, "/api/v1/memberships/\(id)/end", as: orgAdmin).status == .forbidden)
            #expect(
                try await API.send(app, .POST, "/api/v1/memberships/\(id)/pause", as: orgAdmin, json: #"{"reason": "x"}"#)
                    .status == .forbidden)
            #expect(try await Self.membership(app, boss, in: tree.chapterA1).status == .active)
        }
    }

    @Test("roles are granted only on active or paused memberships")
    func grantNeedsLiveMembership() async throws {
        try await withTestApp { app in
            // given
            let tree = try await IdentityFixtures.tree(app)
            let admin = try await IdentityFixtures.signedIn(app, email: "admin@test.no", roles: [(.orgAdmin, tree.chapterA1)])
            let invited = try await IdentityFixtures.user(
                app, email: "i@test.no", roles: [(.peerMentor, tree.chapterA1)], membershipStatus: .invited)
            let paused = try await IdentityFixtures.user(
                app, email: "p@test.no", roles: [(.peerMentor, tree.chapterA1)], membershipStatus: .paused)
            func grant(_ user: User) async throws -> HTTPStatus {
                let membership = try await Self.membership(app, user, in: tree.chapterA1)
                return try await API.send(
                    app, .POST, "/api/v1/memberships/\(membership.requireID().api)/roles", as: admin,
                    json: #"{"role": "coordinator"}"#
                ).status
            }

            // then
            #expect(try await grant(invited) == .conflict)
            #expect(try await grant(paused) == .ok)
        }
    }

    @Test("racing pauses of one membership: exactly one succeeds")
    func racingPauses() async throws {
        try await withTestApp { app in
            // given
            let tree = try await IdentityFixtures.tree(app)
            let admin = try await IdentityFixtures.signedIn(app, email: "admin@test.no", roles: [(.orgAdmin, tree.regionA)])
            let member = try await IdentityFixtures.user(app, email: "m@test.no", roles: [(.peerMentor, tree.chapterA1)])
            let id = try await Self.membership(app, member, in: tree.chapterA1).requireID().api
            try await app.server.start(address: .hostname("127.0.0.1", port: 0))
            let port = try #require(app.http.server.shared.localAddress?.port)

            // when
            let statuses = try await withThrowingTaskGroup(of: HTTPStatus.self) { group in
                for _ in 0..<12 {
                    group.addTask {
                        try await API.send(
                            app.client, port: port, .POST, "/api/v1/memberships/\(id)/pause", as: admin,
                            json: #"{"reason": "race"}"#
                        ).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            await app.server.shutdown()

            // then
            #expect(statuses.filter { $0 == .ok }.count == 1, "\(statuses)")
            #expect(statuses.filter { $0 == .conflict }.count == 11)
            #expect(try await AuditLogEntry.query(on: app.db).filter(\.$action == "membership.paused").count() == 1)
        }
    }
}

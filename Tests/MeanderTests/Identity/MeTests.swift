import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

@testable import Meander

@Suite("Me: account, password, sessions")
struct MeTests {
    static let fast: @Sendable (inout AppConfig) -> Void = { $0.passwordHashCost = 4 }
    static let newPassword = "a long and unusual passphrase 2026"

    /// Signs `user` in `count` times over HTTP, one session each, oldest first.
    private static func sessions(_ app: Application, _ user: User, count: Int) async throws -> [(AuthFlow.Tokens, SignedIn)] {
        var result: [(AuthFlow.Tokens, SignedIn)] = []
        for _ in 0..<count {
            let tokens = try await AuthFlow.signIn(app, user.email)
            result.append((tokens, try AuthFlow.caller(tokens, user: user)))
        }
        return result
    }

    private static func changePassword(_ app: Application, as caller: SignedIn, current: String, new: String)
        async throws -> APIResult
    {
        try await API.send(
            app, .POST, "/api/v1/me/password", as: caller,
            json: #"{"current_password": \#(API.quote(current)), "new_password": \#(API.quote(new))}"#)
    }

    @Test("GET /me returns the user and each membership with its organisation and live roles")
    func me() async throws {
        try await withTestApp(configure: Self.fast) { app in
            // given
            let tree = try await IdentityFixtures.tree(app)
            let caller = try await IdentityFixtures.signedIn(
                app, email: "kari@example.no",
                roles: [(.peerMentor, tree.chapterA1), (.coordinator, tree.chapterA1), (.orgAdmin, tree.regionB)])
            let revoked = try #require(
                try await UserRole.query(on: app.db).filter(\.$role == .coordinator).first())
            revoked.revokedAt = Date()
            try await revoked.save(on: app.db)

            // when
            let response = try await API.send(app, .GET, "/api/v1/me", as: caller)

            // then
            #expect(response.status == .ok, "\(response.text)")
            let me = try response.decode(Components.Schemas.Me.self)
            #expect(me.user.email == "kari@example.no")
            #expect(me.user.id == caller.user.id?.api)
            #expect(me.memberships.count == 2)
            let chapter = try #require(me.memberships.first { $0.organizationId == tree.chapterA1.apiID })
            #expect(chapter.organizationName == "Tromsø lokallag")
            #expect(chapter.roles == [.peerMentor])
            let region = try #require(me.memberships.first { $0.organizationId == tree.regionB.apiID })
            #expect(region.roles == [.orgAdmin])
            #expect(me.platformRoles.isEmpty)
            #expect(!response.text.contains("password"))
            #expect(response.headers.first(name: .cacheControl) == "no-store")
            #expect(try await API.send(app, .GET, "/api/v1/me").status == .unauthorized)
        }
    }

    @Test("GET /me lists platform-wide roles apart from the memberships, and drops revoked ones")
    func mePlatformRoles() async throws {
        try await withTestApp(configure: Self.fast) { app in
            // given
            let admin = try await IdentityFixtures.signedIn(app, email: "ops@example.no", roles: [(.platformAdmin, nil)])
            let mentor = try await IdentityFixtures.signedIn(app, email: "ola@example.no", roles: [(.platformAdmin, nil)])
            let grant = try #require(
                try await UserRole.query(on: app.db).filter(\.$user.$id == mentor.user.requireID()).first())
            grant.revokedAt = Date()
            try await grant.save(on: app.db)

            // when
            let adminMe = try await API.send(app, .GET, "/api/v1/me", as: admin).decode(Components.Schemas.Me.self)
            let revokedMe = try await API.send(app, .GET, "/api/v1/me", as: mentor).decode(Components.Schemas.Me.self)

            // then
            #expect(adminMe.platformRoles == [.platformAdmin])
            #expect(adminMe.memberships.isEmpty)
            #expect(revokedMe.platformRoles.isEmpty)
        }
    }

    @Test("changing the password needs the current one, follows the policy and revokes every other session")
    func changePassword() async throws {
        try await withTestApp(configure: Self.fast) { app in
            // given
            let user = try await IdentityFixtures.user(app, email: "kari@example.no")
            let signedIn = try await Self.sessions(app, user, count: 3)
            let (_, current) = signedIn[0]

            // when: wrong current password, then a common new one, then right
            let wrong = try await Self.changePassword(app, as: current, current: "not my password", new: Self.newPassword)
            let common = try await Self.changePassword(
                app, as: current, current: IdentityFixtures.password, new: "Password123")
            let changed = try await Self.changePassword(
                app, as: current, current: IdentityFixtures.password, new: Self.newPassword)

            // then
            #expect(wrong.status == .badRequest)
            #expect(wrong.problemFields == ["/current_password"])
            #expect(common.status == .badRequest)
            #expect(common.problemFields == ["/new_password"])
            #expect(common.text.contains("too_common"))
            #expect(changed.status == .noContent, "\(changed.text)")
            // the caller's session lives on; the others are revoked, access and refresh alike
            #expect(try await API.send(app, .GET, "/api/v1/me", as: current).status == .ok)
            for (tokens, other) in signedIn.dropFirst() {
                #expect(try await API.send(app, .GET, "/api/v1/me", as: other).status == .unauthorized)
                #expect(try await AuthFlow.refresh(app, tokens.refreshToken).status == .unauthorized)
                let session = try #require(try await Session.find(other.sessionID, on: app.db))
                #expect(session.revokedReason == .passwordChanged)
            }
            #expect(try await AuthFlow.refresh(app, signedIn[0].0.refreshToken).status == .ok)
            // the new password signs in, the old one does not
            #expect(try await AuthFlow.login(app, "kari@example.no").status == .unauthorized)
            _ = try await AuthFlow.signIn(app, "kari@example.no", Self.newPassword)
            let reloaded = try #require(try await User.find(user.id, on: app.db))
            #expect(reloaded.passwordChangedAt != nil)
            let audit = try await AuditLogEntry.query(on: app.db).filter(\.$action == "auth.password_changed")
                .sort(\.$sequence).all()
            #expect(audit.map(\.outcome) == [.failure, .success])
        }
    }

    @Test("the stored hash has the configured cost (default 12)")
    func storedCost() async throws {
        try await withTestApp { app in
            // given
            #expect(app.meander.config.passwordHashCost == 12)
            let user = try await IdentityFixtures.user(app, email: "kari@example.no")
            let caller = try await IdentityFixtures.signIn(app, user)

            // when
            let changed = try await Self.changePassword(
                app, as: caller, current: IdentityFixtures.password, new: Self.newPassword)

            // then
            #expect(changed.status == .noContent, "\(changed.text)")
            let reloaded = try #require(try await User.find(user.id, on: app.db))
            #expect(reloaded.passwordHash?.hasPrefix("$2b$12$") == true, "\(reloaded.passwordHash ?? "")")
        }
    }

    @Test("GET /me/sessions lists live sessions newest first, marks the current one, and pages")
    func listsSessions() async throws {
        try await withTestApp(configure: Self.fast) { app in
            // given
            let user = try await IdentityFixtures.user(app, email: "kari@example.no")
            let other = try await IdentityFixtures.user(app, email: "ola@example.no")
            _ = try await AuthFlow.signIn(app, "ola@example.no")
            let signedIn = try await Self.sessions(app, user, count: 4)
            let caller = signedIn[3].1
            let ended = try #require(try await Session.find(signedIn[1].1.sessionID, on: app.db))
            try await Session.revoke(ended, reason: .logout, on: app.db)

            // when
            let live = try await API.send(app, .GET, "/api/v1/me/sessions", as: caller)
            let all = try await API.send(app, .GET, "/api/v1/me/sessions?include_revoked=true", as: caller)

            // then
            #expect(live.status == .ok, "\(live.text)")
            let livePage = try live.decode(Components.Schemas.SessionPage.self)
            #expect(livePage.items.map(\.id) == [3, 2, 0].map { signedIn[$0].1.sessionID.api })
            #expect(livePage.items.map(\.current) == [true, false, false])
            #expect(livePage.items.allSatisfy { $0.userId == user.id?.api && $0.authMethod == "password" })
            #expect(livePage.nextCursor == nil)
            let allPage = try all.decode(Components.Schemas.SessionPage.self)
            #expect(allPage.items.map(\.id) == [3, 2, 1, 0].map { signedIn[$0].1.sessionID.api })
            #expect(allPage.items[2].revokedReason == "logout")
            #expect(allPage.items[2].revokedAt != nil)
            #expect(!allPage.items.contains { $0.userId == other.id?.api })

            // pages of one visit every session once
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await API.send(
                    app, .GET, "/api/v1/me/sessions?include_revoked=true&limit=1" + (cursor.map { "&cursor=\($0)" } ?? ""),
                    as: caller
                ).decode(Components.Schemas.SessionPage.self)
                seen += page.items.map(\.id)
                cursor = page.nextCursor
            } while cursor != nil
            #expect(seen == allPage.items.map(\.id))
            #expect(
                try await API.send(app, .GET, "/api/v1/me/sessions?cursor=bm90LWEtY3Vyc29y", as: caller).status
                    == .badRequest)
        }
    }

    @Test("a user revokes one of their own sessions; another user's session answers 404")
    func revokesOwnSession() async throws {
        try await withTestApp(configure: Self.fast) { app in
            // given
            let user = try await IdentityFixtures.user(app, email: "kari@example.no")
            let signedIn = try await Self.sessions(app, user, count: 2)
            let (phoneTokens, phone) = signedIn[0]
            let laptop = signedIn[1].1
            let stranger = try await IdentityFixtures.signIn(app, try await IdentityFixtures.user(app, email: "ola@example.no"))

            // when
            let revoked = try await API.send(app, .DELETE, "/api/v1/me/sessions/\(phone.sessionID.api)", as: laptop)
            let foreign = try await API.send(app, .DELETE, "/api/v1/me/sessions/\(stranger.sessionID.api)", as: laptop)
            let missing = try await API.send(app, .DELETE, "/api/v1/me/sessions/\(UUID().api)", as: laptop)
            let current = try await API.send(app, .DELETE, "/api/v1/me/sessions/\(laptop.sessionID.api)", as: laptop)

            // then
            #expect(revoked.status == .noContent)
            #expect(try await API.send(app, .GET, "/api/v1/me", as: phone).status == .unauthorized)
            #expect(try await AuthFlow.refresh(app, phoneTokens.refreshToken).status == .unauthorized)
            #expect(try await API.send(app, .GET, "/api/v1/me", as: laptop).status == .ok)
            let session = try #require(try await Session.find(phone.sessionID, on: app.db))
            #expect(session.revokedReason == .revokedByUser)
            #expect(foreign.status == .notFound)
            #expect(missing.status == .notFound)
            #expect(current.status == .conflict, "the current session ends with logout, not from the list")
            #expect(try await API.send(app, .GET, "/api/v1/me", as: laptop).status == .ok)
            #expect(try await API.send(app, .GET, "/api/v1/me", as: stranger).status == .ok)
            let audit = try await AuditLogEntry.query(on: app.db).filter(\.$action == "session.revoked").all()
            #expect(audit.count == 1)
            #expect(audit.first?.targetID == phone.sessionID)
            #expect(audit.first?.actorUserID == user.id)
        }
    }
}

import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

@testable import Meander

@Suite("Refresh-token rotation")
struct RefreshRotationTests {
    static let fast: @Sendable (inout AppConfig) -> Void = { $0.passwordHashCost = 4 }

    static func row(_ app: Application, _ token: String) async throws -> RefreshToken {
        try #require(try await RefreshToken.query(on: app.db).filter(\.$tokenHash == TokenService.hash(token)).first())
    }

    @Test("a refresh spends the token and issues a child that points to it")
    func rotates() async throws {
        try await withTestApp(configure: Self.fast) { app in
            // given
            let user = try await IdentityFixtures.user(app, email: "kari@example.no")
            let first = try await AuthFlow.signIn(app, "kari@example.no")

            // when
            let response = try await AuthFlow.refresh(app, first.refreshToken)

            // then
            #expect(response.status == .ok, "\(response.text)")
            let second = try response.decode(AuthFlow.Tokens.self)
            #expect(second.refreshToken != first.refreshToken)
            #expect(second.tokenType == .bearer)
            let parent = try await Self.row(app, first.refreshToken)
            let child = try await Self.row(app, second.refreshToken)
            #expect(child.$parent.id == parent.id)
            #expect(parent.usedAt != nil)
            #expect(parent.$replacedBy.id == child.id)
            #expect(child.$session.id == parent.$session.id)
            #expect(child.expiresAt == parent.expiresAt)
            #expect(try AuthFlow.claims(of: second.accessToken)["sid"] as? String == parent.$session.id.api)
            #expect(try await AuthFlow.auditCount(app, "auth.refresh") == 1)
            let me = try await API.send(app, .GET, "/api/v1/me", as: try AuthFlow.caller(second, user: user))
            #expect(me.status == .ok)
            // the child rotates in turn
            #expect(try await AuthFlow.refresh(app, second.refreshToken).status == .ok)
        }
    }

    @Test("an unknown refresh token answers 401")
    func unknown() async throws {
        try await withTestApp(configure: Self.fast) { app in
            // when
            let response = try await AuthFlow.refresh(app, TokenService.newRefreshToken())

            // then
            #expect(response.status == .unauthorized)
            #expect(response.problemCode == "unauthorized")
        }
    }

    @Test("Racing refresh: 200 concurrent refreshes with one token over real HTTP make exactly one child, 0 5xx")
    func racingRefresh() async throws {
        try await withTestApp(configure: Self.fast) { app in
            // given
            try await IdentityFixtures.user(app, email: "kari@example.no")
            let tokens = try await AuthFlow.signIn(app, "kari@example.no")
            let parent = try await Self.row(app, tokens.refreshToken)
            app.http.client.configuration.connectionPool = .init(
                idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
            try await app.server.start(address: .hostname("127.0.0.1", port: 0))
            let port = try #require(app.http.server.shared.localAddress?.port)
            let body = AuthFlow.refreshJSON(tokens.refreshToken)

            // when
            let results = try await withThrowingTaskGroup(of: APIResult.self) { group in
                for _ in 0..<200 {
                    group.addTask {
                        try await API.send(app.client, port: port, .POST, "/api/v1/auth/refresh", json: body)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            await app.server.shutdown()

            // then
            #expect(results.count == 200)
            #expect(results.filter { $0.status.code >= 500 }.isEmpty)
            #expect(results.allSatisfy { $0.status == .ok }, "\(Set(results.map(\.status.code)))")
            let pairs = Set(try results.filter { $0.status == .ok }.map { try $0.decode(AuthFlow.Tokens.self) })
            #expect(Set(pairs.map(\.refreshToken)).count == 1)
            #expect(pairs.count == 1, "every response carries the same pair, access token included")
            let children = try await RefreshToken.query(on: app.db).filter(\.$parent.$id == parent.requireID()).all()
            #expect(children.count == 1)
            #expect(children.first?.tokenHash == pairs.first.map { TokenService.hash($0.refreshToken) })
            #expect(try await RefreshToken.query(on: app.db).count() == 2)
            #expect(try await AuthFlow.auditCount(app, "auth.refresh") == 1)
            #expect(try await AuthFlow.auditCount(app, "auth.refresh_reuse") == 0)
            let session = try #require(try await Session.find(parent.$session.id, on: app.db))
            #expect(session.revokedAt == nil)
        }
    }

    /// Each call has its own `RefreshRotation` and in-flight lock, as if on 50 app nodes: nothing in-process
    /// orders them, so the conditional update alone decides the race. 50, not 200: each call holds a pooled
    /// connection while PostgreSQL queues it on the row lock; the 200-way race runs over real HTTP above.
    @Test("50 concurrent calls of the rotation service, as if on 50 nodes: one rotates, the rest replay the same pair")
    func racingService() async throws {
        try await withTestApp(configure: Self.fast) { app in
            // given
            try await IdentityFixtures.user(app, email: "kari@example.no")
            let tokens = try await AuthFlow.signIn(app, "kari@example.no")

            // when
            let outcomes = try await withThrowingTaskGroup(of: (RefreshRotation.Pair, RefreshRotation.Outcome).self) {
                group in
                for _ in 0..<50 {
                    group.addTask {
                        let node = RefreshRotation(
                            tokens: app.meander.tokens, config: app.meander.config, inFlight: KeyedAsyncLock())
                        return try await node.rotate(tokens.refreshToken, on: app.db, audit: AuditEvent("auth.refresh"))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }

            // then
            #expect(outcomes.filter { $0.1 == .rotated }.count == 1)
            #expect(outcomes.filter { $0.1 == .replayed }.count == 49)
            #expect(Set(outcomes.map(\.0.refreshToken)).count == 1)
            #expect(Set(outcomes.map(\.0.accessToken)).count == 1)
            #expect(try await RefreshToken.query(on: app.db).count() == 2)
        }
    }

    @Test("Replay: within the grace window the same pair comes back; nothing new is minted")
    func replayWithinGrace() async throws {
        try await withTestApp(configure: Self.fast) { app in
            // given
            try await IdentityFixtures.user(app, email: "kari@example.no")
            let tokens = try await AuthFlow.signIn(app, "kari@example.no")
            let first = try await AuthFlow.refresh(app, tokens.refreshToken)

            // when: the client lost the response and retries, a second later
            try await Task.sleep(for: .milliseconds(1100))
            let second = try await AuthFlow.refresh(app, tokens.refreshToken)

            // then
            #expect(first.status == .ok)
            #expect(second.status == .ok)
            #expect(try first.decode(AuthFlow.Tokens.self) == second.decode(AuthFlow.Tokens.self))
            #expect(try await RefreshToken.query(on: app.db).count() == 2)
            #expect(try await AuthFlow.auditCount(app, "auth.refresh_reuse") == 0)
        }
    }

    @Test("Replay: a spent token after the grace window revokes the session; the newest token then fails too")
    func replayAfterGrace() async throws {
        try await withTestApp(configure: {
            $0.passwordHashCost = 4
            $0.refreshGracePeriod = 1
        }) { app in
            // given
            let user = try await IdentityFixtures.user(app, email: "kari@example.no")
            let stolen = try await AuthFlow.signIn(app, "kari@example.no")
            let legitimate = try await AuthFlow.refresh(app, stolen.refreshToken).decode(AuthFlow.Tokens.self)
            let newest = try await AuthFlow.refresh(app, legitimate.refreshToken).decode(AuthFlow.Tokens.self)
            try await Task.sleep(for: .milliseconds(1500))

            // when: the thief replays the first token
            let replay = try await AuthFlow.refresh(app, stolen.refreshToken)

            // then
            #expect(replay.status == .unauthorized)
            #expect(replay.problemCode == "unauthorized")
            let sessionID = try await Self.row(app, stolen.refreshToken).$session.id
            let session = try #require(try await Session.find(sessionID, on: app.db))
            #expect(session.revokedAt != nil)
            #expect(session.revokedReason == .refreshTokenReuse)
            let live = try await RefreshToken.query(on: app.db).filter(\.$session.$id == sessionID)
                .filter(\.$revokedAt == nil).count()
            #expect(live == 0)
            #expect(try await AuthFlow.refresh(app, newest.refreshToken).status == .unauthorized)
            let me = try await API.send(app, .GET, "/api/v1/me", as: try AuthFlow.caller(newest, user: user))
            #expect(me.status == .unauthorized)
            let reuse = try await AuditLogEntry.query(on: app.db).filter(\.$action == "auth.refresh_reuse").all()
            #expect(reuse.count == 1)
            #expect(reuse.first?.outcome == .failure)
            #expect(reuse.first?.sessionID == sessionID)
            // no child was minted for the replay
            #expect(try await RefreshToken.query(on: app.db).count() == 3)
        }
    }

    @Test("a replayed pair is signed deterministically: one key, one time, one token, on any app instance")
    func deterministicAccessToken() async throws {
        // given
        let key = SecretKey(bytes: Array(repeating: 7, count: 32))
        let userID = UUID(uuidString: "00000000-0000-4000-8000-000000000001")!
        let sessionID = UUID(uuidString: "00000000-0000-4000-8000-000000000002")!
        let issuedAt = Date(timeIntervalSince1970: 1_800_000_000)

        // when: 50 signings on 5 instances (other app nodes), at various fractions of the same second
        let tokens = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<50 {
                group.addTask {
                    try await TokenService(signingKey: key, accessTokenLifetime: 900).accessToken(
                        userID: userID, sessionID: sessionID, issuedAt: issuedAt.addingTimeInterval(Double(index % 5) / 10))
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }

        // then: one token, its header and claims serialised in a fixed (sorted) key order, as every node must
        #expect(tokens.count == 1, "JWT header and claims must serialise in a fixed key order")
        let one = try #require(tokens.first)
        for part in one.split(separator: ".").prefix(2) {
            let json = String(decoding: try #require(Data(base64Encoded: AuthFlow.base64(part))), as: UTF8.self)
            let keys = json.matches(of: /"([a-z]+)":/).map { String($0.output.1) }
            #expect(keys == keys.sorted(), "\(json)")
        }
        #expect(try AuthFlow.claims(of: one)["iat"] as? Double == 1_800_000_000)
        let parent = "mrt_parent"
        #expect(
            await TokenService(signingKey: key, accessTokenLifetime: 900).childRefreshToken(of: parent)
                == TokenService(signingKey: key, accessTokenLifetime: 900).childRefreshToken(of: parent))
    }
}

@Suite("Session lifetimes")
struct SessionLifetimeTests {
    @Test("logout ends the session: its access and refresh tokens stop working")
    func logout() async throws {
        try await withTestApp(configure: { $0.passwordHashCost = 4 }) { app in
            // given
            let user = try await IdentityFixtures.user(app, email: "kari@example.no")
            let tokens = try await AuthFlow.signIn(app, "kari@example.no")
            let caller = try AuthFlow.caller(tokens, user: user)

            // when
            let response = try await API.send(app, .POST, "/api/v1/auth/logout", as: caller)

            // then
            #expect(response.status == .noContent)
            let session = try #require(try await Session.find(caller.sessionID, on: app.db))
            #expect(session.revokedReason == .logout)
            #expect(try await API.send(app, .GET, "/api/v1/me", as: caller).status == .unauthorized)
            #expect(try await AuthFlow.refresh(app, tokens.refreshToken).status == .unauthorized)
            #expect(try await API.send(app, .POST, "/api/v1/auth/logout", as: caller).status == .unauthorized)
            #expect(try await AuthFlow.auditCount(app, "auth.logout") == 1)
        }
    }

    @Test("an idle session ends: refresh and access answer 401")
    func idleTimeout() async throws {
        try await withTestApp(configure: {
            $0.passwordHashCost = 4
            $0.sessionIdleTimeout = 1
        }) { app in
            // given
            let user = try await IdentityFixtures.user(app, email: "kari@example.no")
            let tokens = try await AuthFlow.signIn(app, "kari@example.no")

            // when
            try await Task.sleep(for: .milliseconds(1300))

            // then
            #expect(try await AuthFlow.refresh(app, tokens.refreshToken).status == .unauthorized)
            #expect(
                try await API.send(app, .GET, "/api/v1/me", as: try AuthFlow.caller(tokens, user: user)).status
                    == .unauthorized)
        }
    }

    @Test("refreshing keeps a session alive, but never past its absolute lifetime (14-day idle, 90-day maximum)")
    func absoluteLifetime() async throws {
        try await withTestApp(configure: RefreshRotationTests.fast) { app in
            // given: the default limits; time passes by moving the session's clock readings into the past
            try await IdentityFixtures.user(app, email: "kari@example.no")
            var refreshToken = try await AuthFlow.signIn(app, "kari@example.no").refreshToken
            let sessionID = try await RefreshRotationTests.row(app, refreshToken).$session.id

            // when: refreshed every 10 days, so it never idles for 14 days
            for step in 1...8 {
                try await Self.age(app, sessionID: sessionID, by: 10 * 86_400)
                let refreshed = try await AuthFlow.refresh(app, refreshToken)
                #expect(refreshed.status == .ok, "\(step * 10) days after sign-in, last used 10 days ago")
                refreshToken = try refreshed.decode(AuthFlow.Tokens.self).refreshToken
            }
            try await Self.age(app, sessionID: sessionID, by: 11 * 86_400)

            // then: 91 days after sign-in the session is over, though it was used 11 days ago
            #expect(try await AuthFlow.refresh(app, refreshToken).status == .unauthorized)
            let row = try await RefreshRotationTests.row(app, refreshToken)
            let session = try #require(try await Session.find(sessionID, on: app.db))
            #expect(row.expiresAt == session.expiresAt, "a refresh never extends the session's end")
        }
    }

    /// Moves every time of a session and its refresh tokens `seconds` into the past, as if that much time had passed.
    private static func age(_ app: Application, sessionID: UUID, by seconds: TimeInterval) async throws {
        let session = try #require(try await Session.find(sessionID, on: app.db))
        session.lastSeenAt -= seconds
        session.expiresAt -= seconds
        try await session.save(on: app.db)
        for token in try await RefreshToken.query(on: app.db).filter(\.$session.$id == sessionID).all() {
            token.issuedAt -= seconds
            token.expiresAt -= seconds
            token.usedAt = token.usedAt.map { $0 - seconds }
            try await token.save(on: app.db)
        }
    }
}

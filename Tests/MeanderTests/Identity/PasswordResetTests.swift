import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

@testable import Meander

@Suite("Password reset")
struct PasswordResetTests {
    static let fast: @Sendable (inout AppConfig) -> Void = { $0.passwordHashCost = 4 }
    static let newPassword = "a brand new passphrase 2026"

    static func request(_ app: Application, _ email: String) async throws -> APIResult {
        try await API.send(app, .POST, "/api/v1/auth/password-reset", json: #"{"email": \#(API.quote(email))}"#)
    }

    static func confirm(_ app: Application, token: String, password: String = newPassword) async throws -> APIResult {
        try await API.send(
            app, .POST, "/api/v1/auth/password-reset/confirm",
            json: #"{"token": \#(API.quote(token)), "new_password": \#(API.quote(password))}"#)
    }

    /// The token in the link of the newest reset e-mail queued for `email`.
    static func token(_ app: Application, for email: String) async throws -> String {
        let user = try #require(try await User.query(on: app.db).filter(\.$email == email).first())
        let notification = try #require(
            try await Notification.query(on: app.db).filter(\.$user.$id == user.requireID())
                .filter(\.$scenario == .passwordReset).sort(\.$createdAt, .descending).first())
        let data = try #require(JSONText.decode([String: String].self, from: notification.data))
        let link = try #require(data["link"])
        return try #require(URLComponents(string: link)?.queryItems?.first { $0.name == "token" }?.value)
    }

    @Test("known and unknown addresses get the same 202; only the known one gets an e-mail with a 1-hour link")
    func sameAnswer() async throws {
        try await withTestApp(configure: {
            $0.passwordHashCost = 4
            $0.publicURL = "https://app.meander.test"
        }) { app in
            // given
            let user = try await IdentityFixtures.user(app, email: "kari@example.no")

            // when
            let known = try await Self.request(app, "Kari@Example.no")
            let unknown = try await Self.request(app, "nobody@example.no")

            // then
            #expect(known.status == .accepted)
            #expect(unknown.status == .accepted)
            #expect(known.body == unknown.body)
            let notifications = try await Notification.query(on: app.db).all()
            #expect(notifications.count == 1)
            let notification = try #require(notifications.first)
            #expect(notification.$user.id == user.id)
            #expect(notification.channel == .email)
            #expect(notification.scenario == .passwordReset)
            #expect(notification.status == .pending)
            let token = try await Self.token(app, for: "kari@example.no")
            let values = try #require(JSONText.decode([String: String].self, from: notification.data))
            #expect(values["link"] == "https://app.meander.test/password-reset?token=\(token)")
            #expect(
                try notification.scenario.render(language: .nb, values: values).emailText.contains(
                    "https://app.meander.test/password-reset?token=\(token)"))
            #expect(notification.isUrgent)
            let action = try #require(try await ActionToken.query(on: app.db).first())
            #expect(action.kind == .passwordReset)
            #expect(action.tokenHash == TokenService.hash(token))
            #expect(abs(action.expiresAt.timeIntervalSinceNow - 3600) < 60)
            #expect(try await ActionToken.query(on: app.db).filter(\.$tokenHash == token).count() == 0)
            let audit = try await AuditLogEntry.query(on: app.db).filter(\.$action == "auth.password_reset_requested")
                .sort(\.$sequence).all()
            #expect(audit.map(\.outcome) == [.success, .failure])
            #expect(!audit.contains { $0.metadata.contains("nobody") })
        }
    }

    @Test("confirming sets the password, revokes every session and spends the token once")
    func confirms() async throws {
        try await withTestApp(configure: Self.fast) { app in
            // given
            let user = try await IdentityFixtures.user(app, email: "kari@example.no")
            let before = try await AuthFlow.signIn(app, "kari@example.no")
            let other = try await IdentityFixtures.signIn(app, user)
            _ = try await Self.request(app, "kari@example.no")
            let token = try await Self.token(app, for: "kari@example.no")

            // when
            let confirmed = try await Self.confirm(app, token: token)
            let again = try await Self.confirm(app, token: token, password: "yet another passphrase 2026")

            // then
            #expect(confirmed.status == .noContent, "\(confirmed.text)")
            #expect(again.status == .badRequest)
            #expect(again.problemFields == ["/token"])
            #expect(try await AuthFlow.refresh(app, before.refreshToken).status == .unauthorized)
            #expect(try await API.send(app, .GET, "/api/v1/me", as: other).status == .unauthorized)
            let live = try await Session.query(on: app.db).filter(\.$revokedAt == nil).count()
            #expect(live == 0)
            #expect(try await AuthFlow.login(app, "kari@example.no").status == .unauthorized)
            _ = try await AuthFlow.signIn(app, "kari@example.no", Self.newPassword)
            #expect(try await AuthFlow.auditCount(app, "auth.password_reset") == 1)
        }
    }

    @Test("an expired or unknown token is refused on /token")
    func expired() async throws {
        try await withTestApp(configure: Self.fast) { app in
            // given
            try await IdentityFixtures.user(app, email: "kari@example.no")
            _ = try await Self.request(app, "kari@example.no")
            let token = try await Self.token(app, for: "kari@example.no")
            let action = try #require(try await ActionToken.query(on: app.db).first())
            action.expiresAt = Date().addingTimeInterval(-1)
            try await action.save(on: app.db)

            // when
            let late = try await Self.confirm(app, token: token)
            let unknown = try await Self.confirm(app, token: TokenService.newLinkToken())

            // then
            #expect(late.status == .badRequest)
            #expect(late.problemFields == ["/token"])
            #expect(late.problemCode == "validation_failed")
            #expect(unknown.status == .badRequest)
            #expect(unknown.problemFields == ["/token"])
            _ = try await AuthFlow.signIn(app, "kari@example.no")
        }
    }

    @Test("a refused new password does not spend the token")
    func weakPasswordKeepsToken() async throws {
        try await withTestApp(configure: Self.fast) { app in
            // given
            try await IdentityFixtures.user(app, email: "kari@example.no")
            _ = try await Self.request(app, "kari@example.no")
            let token = try await Self.token(app, for: "kari@example.no")

            // when
            let weak = try await Self.confirm(app, token: token, password: "iloveyou")
            let own = try await Self.confirm(app, token: token, password: "KARI@example.no")
            let strong = try await Self.confirm(app, token: token)

            // then
            #expect(weak.status == .badRequest)
            #expect(weak.problemFields == ["/new_password"])
            #expect(weak.text.contains("too_common"))
            #expect(own.text.contains("contains_email"))
            #expect(strong.status == .noContent)
        }
    }

    @Test("racing confirmations of one token: exactly one succeeds")
    func racingConfirm() async throws {
        try await withTestApp(configure: Self.fast) { app in
            // given
            try await IdentityFixtures.user(app, email: "kari@example.no")
            _ = try await Self.request(app, "kari@example.no")
            let token = try await Self.token(app, for: "kari@example.no")

            // when
            let statuses = try await withThrowingTaskGroup(of: HTTPStatus.self) { group in
                for index in 0..<10 {
                    group.addTask { try await Self.confirm(app, token: token, password: "new passphrase number \(index)").status }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }

            // then
            #expect(statuses.filter { $0 == .noContent }.count == 1, "\(statuses)")
            #expect(statuses.filter { $0 == .badRequest }.count == 9)
            #expect(try await AuthFlow.auditCount(app, "auth.password_reset") == 1)
        }
    }

    @Test("reset requests are throttled per address, known or not")
    func throttled() async throws {
        try await withTestApp(configure: Self.fast) { app in
            // given
            try await IdentityFixtures.user(app, email: "kari@example.no")
            for _ in 0..<3 {
                #expect(try await Self.request(app, "kari@example.no").status == .accepted)
                #expect(try await Self.request(app, "nobody@example.no").status == .accepted)
            }

            // when
            let known = try await app.testing().sendRequest(
                .POST, "/api/v1/auth/password-reset", headers: ["Content-Type": "application/json"],
                body: ByteBuffer(string: #"{"email": "kari@example.no"}"#))
            let unknown = try await Self.request(app, "nobody@example.no")

            // then
            #expect(known.status == .tooManyRequests)
            #expect(known.headers.first(name: "Retry-After").flatMap(Int.init) ?? 0 >= 1)
            #expect(unknown.status == .tooManyRequests)
            #expect(try await Notification.query(on: app.db).count() == 3)
        }
    }
}

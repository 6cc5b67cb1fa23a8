import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

@testable import Meander

/// Sign-in, refresh and the token response, for the identity suites.
enum AuthFlow {
    typealias Tokens = Components.Schemas.TokenResponse

    static func loginJSON(_ email: String, _ password: String) -> String {
        #"{"email": \#(API.quote(email)), "password": \#(API.quote(password))}"#
    }

    static func refreshJSON(_ refreshToken: String) -> String {
        #"{"refresh_token": \#(API.quote(refreshToken))}"#
    }

    static func login(_ app: Application, _ email: String, _ password: String = IdentityFixtures.password)
        async throws -> APIResult
    {
        try await API.send(app, .POST, "/api/v1/auth/login", json: loginJSON(email, password))
    }

    /// Signs in and returns the token pair; fails the test unless it is a 200.
    static func signIn(_ app: Application, _ email: String, _ password: String = IdentityFixtures.password)
        async throws -> Tokens
    {
        let response = try await login(app, email, password)
        try #require(response.status == .ok, "\(response.text)")
        return try response.decode(Tokens.self)
    }

    static func refresh(_ app: Application, _ refreshToken: String) async throws -> APIResult {
        try await API.send(app, .POST, "/api/v1/auth/refresh", json: refreshJSON(refreshToken))
    }

    /// A caller for `API.send` from a token pair.
    static func caller(_ tokens: Tokens, user: User) throws -> SignedIn {
        let claims = try claims(of: tokens.accessToken)
        return SignedIn(
            user: user, sessionID: try #require(UUID(uuidString: claims["sid"] as? String ?? "")),
            accessToken: tokens.accessToken)
    }

    /// The decoded parts of a JWT (no verification).
    static func header(of jwt: String) throws -> [String: Any] { try part(jwt, 0) }
    static func claims(of jwt: String) throws -> [String: Any] { try part(jwt, 1) }

    private static func part(_ jwt: String, _ index: Int) throws -> [String: Any] {
        let parts = jwt.split(separator: ".")
        try #require(parts.count == 3)
        var base64 = String(parts[index]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        let data = try #require(Data(base64Encoded: base64))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The problem document without the parts that differ per request.
    static func stableProblem(_ response: APIResult) throws -> [String: String] {
        let object = try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: Any])
        return object.filter { $0.key != "request_id" }.mapValues { "\($0)" }
    }

    /// The `Retry-After` of a response sent through the in-process app.
    static func loginWithHeaders(_ app: Application, _ email: String, _ password: String) async throws
        -> (HTTPStatus, HTTPHeaders, Data)
    {
        let response = try await app.testing().sendRequest(
            .POST, "/api/v1/auth/login", headers: ["Content-Type": "application/json"],
            body: ByteBuffer(string: loginJSON(email, password)))
        return (response.status, response.headers, Data(buffer: response.body))
    }

    static func auditCount(_ app: Application, _ action: String) async throws -> Int {
        try await AuditLogEntry.query(on: app.db).filter(\.$action == action).count()
    }
}

extension AuthFlow {
    /// Standard base64 of a base64url text.
    static func base64(_ base64URL: Substring) -> String {
        var text = base64URL.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        text += String(repeating: "=", count: (4 - text.count % 4) % 4)
        return text
    }
}

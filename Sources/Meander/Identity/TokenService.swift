import Crypto
import Foundation
import JWTKit

/// The claims of an access token: who, which session, when. Nothing sensitive goes in.
struct AccessTokenClaims: JWTPayload, Equatable {
    var sub: SubjectClaim
    var sid: String
    var iat: IssuedAtClaim
    var exp: ExpirationClaim

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}

/// Signs and verifies access tokens (HS256 JWTs with a `kid`), and makes and hashes opaque refresh tokens.
final class TokenService: Sendable {
    /// The access token lifetime, at most 15 minutes.
    let accessTokenLifetime: TimeInterval
    /// The key id in the JWT header: a fingerprint of the signing key, never the key.
    let keyID: String
    private let keys: JWTKeyCollection
    private let derivationKey: SymmetricKey

    init(signingKey: SecretKey, accessTokenLifetime: TimeInterval) async {
        let key = SymmetricKey(data: signingKey.bytes)
        self.accessTokenLifetime = accessTokenLifetime
        keyID = "hs256-" + Digest.hex(SHA256.hash(data: Data("meander-kid".utf8) + Data(signingKey.bytes)).prefix(6))
        // Sorted keys make the same claims sign to the same text, so that a replayed refresh returns the same pair.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .secondsSince1970
        keys = await JWTKeyCollection().add(
            hmac: HMACKey(key: key), digestAlgorithm: .sha256, kid: JWKIdentifier(string: keyID),
            serializer: DefaultJWTSerializer(jsonEncoder: encoder))
        // Refresh-token derivation uses its own key, separated from the JWT key by HKDF.
        derivationKey = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: key, info: Data("meander refresh-token derivation".utf8), outputByteCount: 32)
    }

    /// An access token for a session, issued at a given time (so that a replayed refresh returns the same token).
    func accessToken(userID: UUID, sessionID: UUID, issuedAt: Date) async throws -> String {
        let issued = Date(timeIntervalSince1970: issuedAt.timeIntervalSince1970.rounded(.down))
        let claims = AccessTokenClaims(
            sub: SubjectClaim(value: userID.uuidString.lowercased()),
            sid: sessionID.uuidString.lowercased(),
            iat: IssuedAtClaim(value: issued),
            exp: ExpirationClaim(value: issued.addingTimeInterval(accessTokenLifetime)))
        return try await keys.sign(claims, kid: JWKIdentifier(string: keyID))
    }

    /// Verifies signature and expiry.
    func verifyAccessToken(_ token: String) async throws -> AccessTokenClaims {
        try await keys.verify(token, as: AccessTokenClaims.self)
    }

    /// A new opaque refresh token: 256 bits from the system's secure generator.
    static func newRefreshToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return "mrt_" + base64URL(Data(bytes))
    }

    /// The refresh token that replaces `parent`, derived (HMAC) so that a client retrying a lost response within
    /// the grace window gets the very same token back, without the server ever storing a token in clear.
    func childRefreshToken(of parent: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(("child|" + parent).utf8), using: derivationKey)
        return "mrt_" + Self.base64URL(Data(mac))
    }

    /// The stored form of any opaque token: SHA-256, hex.
    static func hash(_ token: String) -> String {
        Digest.sha256Hex(Data(token.utf8))
    }

    /// A random single-use token for links (invitations, password resets).
    static func newLinkToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return base64URL(Data((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }))
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

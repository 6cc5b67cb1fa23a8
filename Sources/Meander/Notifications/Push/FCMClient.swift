import AsyncHTTPClient
import Foundation
import JWTKit
import Logging
import NIOCore

/// Sends pushes to Android devices through FCM HTTP v1, with an OAuth 2.0 access token that the service account's
/// signed assertion (RS256) buys from its `token_uri`; the token is reused until a minute before it expires, and bought
/// anew once when FCM answers 401.
///
/// Device tokens, message texts and credentials are never logged nor put in errors. Call `shutdown()` when done.
final class FCMClient: PushProvider {
    /// The only scope the access token gets.
    static let scope = "https://www.googleapis.com/auth/firebase.messaging"
    /// How long an assertion is valid; Google takes at most an hour.
    static let assertionLifetime: TimeInterval = 3600
    /// An access token is replaced this long before it expires, so that none expires on its way.
    static let renewalMargin: TimeInterval = 60
    /// FCM refuses larger messages.
    static let maxMessageBytes = 4096
    /// FCM keeps a message at most 28 days.
    static let maxTimeToLive: TimeInterval = 28 * 86_400

    let configuration: PushConfiguration.FCM
    private let httpClient: HTTPClient
    private let tokens: PushCredentialCache
    private let clock: @Sendable () -> Date
    private let logger: Logger

    /// - Parameter clock: the time that assertions are issued at and access tokens aged by: the app's (`dependencies.clock.now`).
    init(
        configuration: PushConfiguration.FCM, logger: Logger, clock: @escaping @Sendable () -> Date,
        eventLoopGroup: any EventLoopGroup = HTTPClient.defaultEventLoopGroup
    ) throws(PushError) {
        let key: JWTKit.Insecure.RSA.PrivateKey
        do {
            key = try JWTKit.Insecure.RSA.PrivateKey(pem: configuration.serviceAccount.privateKey.pem)
        } catch {
            throw .configuration(provider: .fcm, detail: "the service account's private_key is not an RSA private key")
        }
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        let httpClient = try PushTransport.makeHTTPClient(
            trustRootsFile: configuration.trustRootsFile, provider: .fcm, eventLoopGroup: eventLoopGroup, logger: logger)
        self.httpClient = httpClient
        let account = configuration.serviceAccount
        let timeout = configuration.timeout
        tokens = PushCredentialCache(provider: .googleOAuth, clock: clock) {
            (now: Date) async throws(PushError) -> PushCredentialCache.Credential in
            let credential = try await Self.accessToken(
                account: account, key: key, issuedAt: now, client: httpClient, timeout: timeout, clock: clock)
            logger.debug("fcm: new access token", metadata: ["renew_at": "\(credential.renewAt)"])
            return credential
        }
    }

    /// Closes the connections. The client cannot send afterwards.
    func shutdown() async throws {
        try await httpClient.shutdown()
    }

    func send(_ message: PushMessage, to device: PushDevice) async throws(PushError) -> PushOutcome {
        guard device.platform == .android else {
            throw .invalidMessage(provider: .fcm, detail: "an \(device.platform.rawValue) device is reached through APNs")
        }
        guard PushTransport.isWellFormedToken(device.token) else {
            throw .invalidMessage(provider: .fcm, detail: "the device token has characters FCM never issues")
        }
        let body = try Self.body(message, token: device.token)
        var logger = logger
        logger[metadataKey: "push.provider"] = "fcm"
        logger[metadataKey: "push.device"] = "\(device.fingerprint)"
        let started = ContinuousClock.now
        do {
            let outcome = try await deliver(body, device: device, logger: logger)
            switch outcome {
            case .delivered(let name):
                logger.info("push: delivered", metadata: ["fcm_name": "\(name ?? "")", "duration": "\(ContinuousClock.now - started)"])
            case .unregistered:
                logger.notice("push: the device is no longer registered")
            }
            return outcome
        } catch {
            logger.warning("push: not delivered", metadata: ["error": "\(error)", "transient": "\(error.isTransient)"])
            throw error
        }
    }

    private func deliver(_ body: Data, device: PushDevice, logger: Logger) async throws(PushError) -> PushOutcome {
        var renewed = false
        while true {
            let accessToken = try await tokens.value()
            var request = HTTPClientRequest(
                url: "\(configuration.url)/v1/projects/\(configuration.serviceAccount.projectID)/messages:send")
            request.method = .POST
            request.headers.add(name: "authorization", value: "Bearer \(accessToken)")
            request.headers.add(name: "content-type", value: "application/json; charset=utf-8")
            request.body = .bytes(ByteBuffer(bytes: body))
            let response = try await PushTransport.execute(
                request, client: httpClient, timeout: configuration.timeout, provider: .fcm, secrets: [device.token])
            if response.status == 200 {
                struct Sent: Decodable { var name: String? }
                return .delivered(providerID: (try? JSONDecoder().decode(Sent.self, from: response.body))?.name)
            }
            let error = Self.error(response.body)
            if error.errorCode == "UNREGISTERED" || response.status == 404 { return .unregistered }
            if response.status == 401 && !renewed {
                // Revoked or expired early: buy a new token once, at once.
                logger.notice("fcm: access token refused; renewing it")
                await tokens.invalidate(accessToken)
                renewed = true
                continue
            }
            throw .rejected(
                provider: .fcm, status: response.status, reason: error.errorCode ?? error.status ?? "no reason",
                retryAfter: PushTransport.retryAfter(response.headers["retry-after"], now: clock()))
        }
    }

    /// The `messages:send` body: `{"message":{"token","notification","data","android":{"priority","collapse_key","ttl"}}}`,
    /// checked for what FCM refuses.
    static func body(_ message: PushMessage, token: String) throws(PushError) -> Data {
        let reserved: Set<String> = ["from", "message_type", "notification"]
        if let key = message.data.keys.sorted().first(where: { reserved.contains($0) || $0.hasPrefix("google.") || $0.hasPrefix("gcm.") }) {
            throw .invalidMessage(provider: .fcm, detail: "'\(key)' is reserved by FCM and cannot be a data key")
        }
        if let collapseID = message.collapseID, collapseID.isEmpty || collapseID.utf8.count > 64 {
            throw .invalidMessage(provider: .fcm, detail: "the collapse id must be 1 to 64 bytes")
        }
        let ttl = Int(min(max(message.timeToLive, 0), maxTimeToLive))
        let request = FCMSendRequest(
            message: .init(
                token: token, notification: .init(title: message.title, body: message.body),
                data: message.data.isEmpty ? nil : message.data,
                android: .init(priority: message.isUrgent ? "high" : "normal", collapseKey: message.collapseID, ttl: "\(ttl)s")))
        let data: Data
        do {
            data = try PushTransport.json(request)
        } catch {
            throw .invalidMessage(provider: .fcm, detail: "the message cannot be encoded")
        }
        guard data.count <= maxMessageBytes else {
            throw .invalidMessage(provider: .fcm, detail: "the message is \(data.count) bytes; FCM takes \(maxMessageBytes)")
        }
        return data
    }

    /// Buys an access token with a signed assertion (RFC 7523 JWT bearer grant), to be renewed `renewalMargin` before
    /// it expires.
    static func accessToken(
        account: PushConfiguration.ServiceAccount, key: JWTKit.Insecure.RSA.PrivateKey, issuedAt: Date,
        client: HTTPClient, timeout: TimeInterval, clock: @Sendable () -> Date
    ) async throws(PushError) -> PushCredentialCache.Credential {
        let assertion = try await Self.assertion(
            claims: ServiceAccountAssertionClaims(account: account, issuedAt: issuedAt), keyID: account.privateKeyID, key: key)
        var request = HTTPClientRequest(url: account.tokenURI)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
        // The assertion is base64url and dots: nothing in it needs escaping.
        let form = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=\(assertion)"
        request.body = .bytes(ByteBuffer(string: form))
        let response = try await PushTransport.execute(request, client: client, timeout: timeout, provider: .googleOAuth)
        guard response.status == 200 else {
            struct Refusal: Decodable { var error: String? }
            let code = PushTransport.reasonCode((try? JSONDecoder().decode(Refusal.self, from: response.body))?.error)
            throw .rejected(
                provider: .googleOAuth, status: response.status, reason: code ?? "no error code",
                retryAfter: PushTransport.retryAfter(response.headers["retry-after"], now: clock()))
        }
        struct Grant: Decodable {
            var accessToken: String
            var expiresIn: Double
            enum CodingKeys: String, CodingKey {
                case accessToken = "access_token"
                case expiresIn = "expires_in"
            }
        }
        guard let grant = try? JSONDecoder().decode(Grant.self, from: response.body), !grant.accessToken.isEmpty,
            grant.expiresIn > 0
        else {
            throw .unexpectedResponse(provider: .googleOAuth, detail: "the token answer has no access_token and expires_in")
        }
        return .init(value: grant.accessToken, renewAt: issuedAt.addingTimeInterval(grant.expiresIn - renewalMargin))
    }

    /// The RS256 assertion: header `alg`, `kid` = `private_key_id` (and `typ`), claims `iss`, `scope`, `aud`, `iat`,
    /// `exp`.
    static func assertion(claims: ServiceAccountAssertionClaims, keyID: String?, key: JWTKit.Insecure.RSA.PrivateKey)
        async throws(PushError) -> String
    {
        let kid = keyID.map { JWKIdentifier(string: $0) }
        let keys = await JWTKeyCollection().add(rsa: key, digestAlgorithm: .sha256, kid: kid)
        do {
            return try await keys.sign(claims, kid: kid)
        } catch {
            throw .configuration(provider: .googleOAuth, detail: "cannot sign the assertion: \(error)")
        }
    }

    /// The code words of an FCM error answer (`{"error":{"status","details":[{"errorCode"}]}}`).
    static func error(_ body: Data) -> (status: String?, errorCode: String?) {
        struct Answer: Decodable {
            struct Failure: Decodable {
                struct Detail: Decodable { var errorCode: String? }
                var status: String?
                var details: [Detail]?
            }
            var error: Failure?
        }
        guard let failure = (try? JSONDecoder().decode(Answer.self, from: body))?.error else { return (nil, nil) }
        let code = failure.details?.lazy.compactMap(\.errorCode).first
        return (PushTransport.reasonCode(failure.status), PushTransport.reasonCode(code))
    }
}

/// The claims of a service account's assertion for Google's token endpoint.
struct ServiceAccountAssertionClaims: JWTPayload, Equatable {
    var iss: String
    var scope: String
    var aud: String
    var iat: Int
    var exp: Int

    init(account: PushConfiguration.ServiceAccount, issuedAt: Date) {
        iss = account.clientEmail
        scope = FCMClient.scope
        aud = account.tokenURI
        iat = Int(issuedAt.timeIntervalSince1970.rounded(.down))
        exp = iat + Int(FCMClient.assertionLifetime)
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// The body of FCM's `messages:send`.
struct FCMSendRequest: Encodable {
    struct Message: Encodable {
        var token: String
        var notification: Notification
        var data: [String: String]?
        var android: Android
    }

    struct Notification: Encodable {
        var title: String
        var body: String
    }

    struct Android: Encodable {
        /// `high` or `normal`.
        var priority: String
        var collapseKey: String?
        /// Seconds, as a protobuf Duration: `86400s`.
        var ttl: String

        enum CodingKeys: String, CodingKey {
            case priority
            case collapseKey = "collapse_key"
            case ttl
        }
    }

    var message: Message
}

import AsyncHTTPClient
import Foundation
import JWTKit
import Logging
import NIOCore

/// Sends pushes to iOS devices through APNs: HTTP/2 with token authentication (an ES256 provider token signed with the
/// team's `.p8` key, renewed before it is 50 minutes old and once more when APNs calls it expired).
///
/// Device tokens and message texts are never logged nor put in errors. Call `shutdown()` when done.
final class APNsClient: PushProvider {
    /// A provider token is renewed once it is this old: APNs refuses tokens older than an hour, and renewals more
    /// often than every 20 minutes.
    static let tokenRenewalAge: TimeInterval = 50 * 60
    /// APNs refuses larger payloads (413 PayloadTooLarge).
    static let maxPayloadBytes = 4096

    let configuration: PushConfiguration.APNs
    private let httpClient: HTTPClient
    private let tokens: PushCredentialCache
    private let clock: @Sendable () -> Date
    private let logger: Logger

    /// - Parameter clock: the time that provider tokens are issued at and aged by: the app's (`dependencies.clock.now`).
    init(
        configuration: PushConfiguration.APNs, logger: Logger, clock: @escaping @Sendable () -> Date,
        eventLoopGroup: any EventLoopGroup = HTTPClient.defaultEventLoopGroup
    ) throws(PushError) {
        let signingKey: ES256PrivateKey
        do {
            signingKey = try ES256PrivateKey(pem: configuration.signingKey.pem)
        } catch {
            throw .configuration(provider: .apns, detail: "the signing key (APNS_KEY_FILE) is not a P-256 private key")
        }
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        httpClient = try PushTransport.makeHTTPClient(
            trustRootsFile: configuration.trustRootsFile, provider: .apns, eventLoopGroup: eventLoopGroup, logger: logger)
        let keyID = configuration.keyID
        let teamID = configuration.teamID
        tokens = PushCredentialCache(provider: .apns, clock: clock) {
            (now: Date) async throws(PushError) -> PushCredentialCache.Credential in
            let token = try await Self.providerToken(
                claims: APNsProviderTokenClaims(teamID: teamID, issuedAt: now), keyID: keyID, key: signingKey)
            logger.debug("apns: new provider token", metadata: ["iat": "\(Int(now.timeIntervalSince1970))"])
            return .init(value: token, renewAt: now.addingTimeInterval(Self.tokenRenewalAge))
        }
    }

    /// Closes the connections. The client cannot send afterwards.
    func shutdown() async throws {
        try await httpClient.shutdown()
    }

    func send(_ message: PushMessage, to device: PushDevice) async throws(PushError) -> PushOutcome {
        guard device.platform == .ios else {
            throw .invalidMessage(provider: .apns, detail: "an \(device.platform.rawValue) device is reached through FCM")
        }
        guard PushTransport.isWellFormedToken(device.token) else {
            throw .invalidMessage(provider: .apns, detail: "the device token has characters APNs never issues")
        }
        let payload = try Self.payload(message)
        var logger = logger
        logger[metadataKey: "push.provider"] = "apns"
        logger[metadataKey: "push.device"] = "\(device.fingerprint)"
        let started = ContinuousClock.now
        do {
            let outcome = try await deliver(payload, message: message, device: device, logger: logger)
            switch outcome {
            case .delivered(let id):
                logger.info("push: delivered", metadata: ["apns_id": "\(id ?? "")", "duration": "\(ContinuousClock.now - started)"])
            case .unregistered:
                logger.notice("push: the device is no longer registered")
            }
            return outcome
        } catch {
            logger.warning("push: not delivered", metadata: ["error": "\(error)", "transient": "\(error.isTransient)"])
            throw error
        }
    }

    private func deliver(_ payload: Data, message: PushMessage, device: PushDevice, logger: Logger) async throws(PushError)
        -> PushOutcome
    {
        var renewed = false
        while true {
            let token = try await tokens.value()
            let request = request(payload, message: message, device: device, providerToken: token)
            let response = try await PushTransport.execute(
                request, client: httpClient, timeout: configuration.timeout, provider: .apns, secrets: [device.token])
            let reason = Self.reason(response.body)
            switch (response.status, reason) {
            case (200, _):
                return .delivered(providerID: response.headers["apns-id"])
            case (410, _), (400, "BadDeviceToken"):
                return .unregistered
            case (403, "ExpiredProviderToken") where !renewed:
                // Apple thinks the token expired before we did (a clock off, a revoked key): renew once, at once.
                logger.notice("apns: provider token refused as expired; renewing it")
                await tokens.invalidate(token)
                renewed = true
            default:
                throw .rejected(
                    provider: .apns, status: response.status, reason: reason ?? "no reason",
                    retryAfter: PushTransport.retryAfter(response.headers["retry-after"], now: clock()))
            }
        }
    }

    /// The request of one push: `POST /3/device/{token}` with the provider token and the `apns-*` headers.
    func request(_ payload: Data, message: PushMessage, device: PushDevice, providerToken: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: configuration.url + "/3/device/" + device.token)
        request.method = .POST
        request.headers.add(name: "authorization", value: "bearer \(providerToken)")
        request.headers.add(name: "apns-topic", value: configuration.topic)
        request.headers.add(name: "apns-push-type", value: "alert")
        request.headers.add(name: "apns-priority", value: message.isUrgent ? "10" : "5")
        // 0: deliver now or never; else a UNIX time until which APNs keeps trying.
        let expiration = message.timeToLive <= 0 ? 0 : Int(clock().addingTimeInterval(message.timeToLive).timeIntervalSince1970)
        request.headers.add(name: "apns-expiration", value: String(expiration))
        if let collapseID = message.collapseID { request.headers.add(name: "apns-collapse-id", value: collapseID) }
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: payload))
        return request
    }

    /// The JSON APNs shows: `{"aps":{"alert":{"title","body"},"sound":"default"}, …data}`, checked for what APNs
    /// refuses.
    static func payload(_ message: PushMessage) throws(PushError) -> Data {
        if message.data["aps"] != nil { throw .invalidMessage(provider: .apns, detail: "'aps' cannot be a data key") }
        if let collapseID = message.collapseID {
            guard collapseID.utf8.count <= 64, !collapseID.isEmpty,
                !collapseID.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
            else {
                throw .invalidMessage(provider: .apns, detail: "the collapse id must be 1 to 64 bytes without control characters")
            }
        }
        let data: Data
        do {
            data = try PushTransport.json(APNsPayload(title: message.title, body: message.body, data: message.data))
        } catch {
            throw .invalidMessage(provider: .apns, detail: "the payload cannot be encoded")
        }
        guard data.count <= maxPayloadBytes else {
            throw .invalidMessage(provider: .apns, detail: "the payload is \(data.count) bytes; APNs takes \(maxPayloadBytes)")
        }
        return data
    }

    /// An ES256 provider token: header `alg`, `kid` (and `typ`), claims `iss` and `iat`.
    static func providerToken(claims: APNsProviderTokenClaims, keyID: String, key: ES256PrivateKey) async throws(PushError)
        -> String
    {
        let kid = JWKIdentifier(string: keyID)
        let keys = await JWTKeyCollection().add(ecdsa: key, kid: kid)
        do {
            return try await keys.sign(claims, kid: kid)
        } catch {
            throw .configuration(provider: .apns, detail: "cannot sign the provider token: \(error)")
        }
    }

    /// The `reason` of an APNs error answer, when it is a code word.
    static func reason(_ body: Data) -> String? {
        struct Answer: Decodable { var reason: String? }
        return PushTransport.reasonCode((try? JSONDecoder().decode(Answer.self, from: body))?.reason)
    }
}

/// The claims of an APNs provider token: the team, and when the token was made (whole seconds, as Apple requires).
struct APNsProviderTokenClaims: JWTPayload, Equatable {
    var iss: String
    var iat: Int

    init(teamID: String, issuedAt: Date) {
        iss = teamID
        iat = Int(issuedAt.timeIntervalSince1970.rounded(.down))
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// The APNs payload: `aps` with the alert, the message's data beside it.
struct APNsPayload: Encodable {
    var title: String
    var body: String
    var data: [String: String]

    private struct APS: Encodable {
        struct Alert: Encodable {
            var title: String
            var body: String
        }
        var alert: Alert
        var sound = "default"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: PushDataKey.self)
        try container.encode(APS(alert: .init(title: title, body: body)), forKey: PushDataKey("aps"))
        for (key, value) in data { try container.encode(value, forKey: PushDataKey(key)) }
    }
}

/// A JSON key taken from the message's data.
struct PushDataKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }

    init(_ key: String) { stringValue = key }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

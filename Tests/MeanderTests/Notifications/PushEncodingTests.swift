import Crypto
import Foundation
import JWTKit
import Logging
import NIOConcurrencyHelpers
import Testing

@testable import Meander

@Suite("Push: provider tokens, payloads, errors and the credential cache (no network)")
struct PushEncodingTests {
    // MARK: JWTs

    @Test("APNs provider token: ES256, kid = key id, claims exactly iss = team and a whole-second iat; it verifies")
    func apnsProviderToken() async throws {
        // given
        let issued = Date(timeIntervalSince1970: 1_796_000_000.75)
        let claims = APNsProviderTokenClaims(teamID: "TEAM123456", issuedAt: issued)

        // when
        let token = try await APNsClient.providerToken(
            claims: claims, keyID: "KEY1234567", key: try ES256PrivateKey(pem: PushTestKeys.apnsKey.pemRepresentation))

        // then
        #expect(claims == APNsProviderTokenClaims(teamID: "TEAM123456", issuedAt: Date(timeIntervalSince1970: 1_796_000_000)))
        let (header, body) = try Self.decode(token)
        #expect(header["alg"] == .string("ES256"))
        #expect(header["kid"] == .string("KEY1234567"))
        #expect(body == ["iss": .string("TEAM123456"), "iat": .integer(1_796_000_000)])
        let publicKey = try ES256PublicKey(pem: PushTestKeys.apnsKey.publicKey.pemRepresentation)
        let keys = await JWTKeyCollection().add(ecdsa: publicKey, kid: JWKIdentifier(string: "KEY1234567"))
        let verified = try await keys.verify(token, as: APNsProviderTokenClaims.self)
        #expect(verified == claims)
        // another key does not verify it
        let otherKey = try ES256PublicKey(pem: P256.Signing.PrivateKey().publicKey.pemRepresentation)
        let others = await JWTKeyCollection().add(ecdsa: otherKey, kid: JWKIdentifier(string: "KEY1234567"))
        await #expect(throws: (any Error).self) { try await others.verify(token, as: APNsProviderTokenClaims.self) }
    }

    @Test("FCM assertion: RS256, kid = private_key_id, iss, scope, aud = token_uri, iat and exp an hour apart; it verifies")
    func serviceAccountAssertion() async throws {
        // given
        let account = PushTestKeys.serviceAccount
        let claims = ServiceAccountAssertionClaims(account: account, issuedAt: Date(timeIntervalSince1970: 1_796_000_000.2))
        let key = try JWTKit.Insecure.RSA.PrivateKey(pem: account.privateKey.pem)

        // when
        let assertion = try await FCMClient.assertion(claims: claims, keyID: account.privateKeyID, key: key)

        // then
        let (header, body) = try Self.decode(assertion)
        #expect(header["alg"] == .string("RS256"))
        #expect(header["kid"] == .string("unit-key-1"))
        #expect(
            body == [
                "iss": .string("push@meander-unit.iam.gserviceaccount.com"),
                "scope": .string("https://www.googleapis.com/auth/firebase.messaging"),
                "aud": .string("https://oauth2.example.test/token"), "iat": .integer(1_796_000_000),
                "exp": .integer(1_796_003_600),
            ])
        let keys = await JWTKeyCollection().add(rsa: key.publicKey, digestAlgorithm: .sha256, kid: JWKIdentifier(string: "unit-key-1"))
        #expect(try await keys.verify(assertion, as: ServiceAccountAssertionClaims.self) == claims)
    }

    // MARK: payloads

    @Test("APNs payload: aps with alert and sound, the data beside it, keys sorted")
    func apnsPayload() throws {
        // when
        let data = try APNsClient.payload(PushTestPeer.message(title: "Hei «Åse»", body: "Linje 1\nLinje 2 \"sitat\""))

        // then
        #expect(
            String(decoding: data, as: UTF8.self)
                == #"{"activity":"5f1c","aps":{"alert":{"body":"Linje 1\nLinje 2 \"sitat\"","title":"Hei «Åse»"},"sound":"default"},"url":"meander://activities/5f1c"}"#
        )
    }

    @Test("APNs payload: 'aps' as a data key, more than 4096 bytes or a long collapse id cannot be sent")
    func apnsPayloadRefused() {
        let aps = #expect(throws: PushError.self) { try APNsClient.payload(PushTestPeer.message(data: ["aps": "x"])) }
        #expect(aps?.isTransient == false)
        let large = #expect(throws: PushError.self) {
            try APNsClient.payload(PushTestPeer.message(body: String(repeating: "æ", count: 2100)))
        }
        #expect(large?.description.contains("APNs takes 4096") == true)
        #expect(large?.description.contains("æ") == false)
        #expect(throws: PushError.self) {
            try APNsClient.payload(PushTestPeer.message(collapseID: String(repeating: "c", count: 65)))
        }
        #expect(throws: PushError.self) { try APNsClient.payload(PushTestPeer.message(collapseID: "a\r\nb: c")) }
    }

    @Test("FCM body: token, notification, data and android priority, collapse key and ttl; keys sorted")
    func fcmBody() throws {
        // given
        var quiet = PushTestPeer.message(data: [:], isUrgent: false, collapseID: nil)
        quiet.timeToLive = 90 * 86_400

        // when
        let urgent = try FCMClient.body(PushTestPeer.message(), token: "tok:APA91b-x_y")
        let normal = try FCMClient.body(quiet, token: "tok")

        // then
        #expect(
            String(decoding: urgent, as: UTF8.self)
                == #"{"message":{"android":{"collapse_key":"activity-5f1c","priority":"high","ttl":"86400s"},"data":{"activity":"5f1c","url":"meander://activities/5f1c"},"notification":{"body":"Ærlig talt: møtet er klokken 18 på kontoret.","title":"Påminnelse: Åse møter i morgen"},"token":"tok:APA91b-x_y"}}"#
        )
        #expect(
            String(decoding: normal, as: UTF8.self)
                == #"{"message":{"android":{"priority":"normal","ttl":"2419200s"},"notification":{"body":"Ærlig talt: møtet er klokken 18 på kontoret.","title":"Påminnelse: Åse møter i morgen"},"token":"tok"}}"#
        )
    }

    @Test("FCM body: reserved data keys cannot be sent", arguments: ["from", "message_type", "notification", "google.x", "gcm.y"])
    func fcmReserved(_ key: String) {
        let error = #expect(throws: PushError.self) { try FCMClient.body(PushTestPeer.message(data: [key: "v"]), token: "t") }
        #expect(error?.isTransient == false)
    }

    @Test("device tokens: only the characters the providers issue go into a URL")
    func deviceTokens() {
        #expect(PushTransport.isWellFormedToken(PushTestPeer.deviceToken()))
        #expect(PushTransport.isWellFormedToken("fcm:APA91bH-x_y.z"))
        for bad in ["", "a/b", "../3/device/x", "a b", "a%2F", "tok\r\n", "ø"] {
            #expect(!PushTransport.isWellFormedToken(bad), "\(bad)")
        }
    }

    // MARK: errors

    @Test("Retry-After: seconds or an HTTP date, never negative; nil when unreadable")
    func retryAfter() {
        let now = Date(timeIntervalSince1970: 1_796_000_000)
        #expect(PushTransport.retryAfter("7", now: now) == 7)
        #expect(PushTransport.retryAfter(" 120 ", now: now) == 120)
        #expect(PushTransport.retryAfter("-3", now: now) == nil)
        #expect(PushTransport.retryAfter("soon", now: now) == nil)
        #expect(PushTransport.retryAfter(nil, now: now) == nil)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        #expect(PushTransport.retryAfter(formatter.string(from: now.addingTimeInterval(90)), now: now) == 90)
        #expect(PushTransport.retryAfter(formatter.string(from: now.addingTimeInterval(-90)), now: now) == 0)
    }

    @Test("errors: 429 and 5xx, lost and slow connections are transient; other refusals, TLS and bad messages are not")
    func transience() {
        #expect(PushError.rejected(provider: .apns, status: 429, reason: "TooManyRequests", retryAfter: 7).isTransient)
        #expect(PushError.rejected(provider: .fcm, status: 503, reason: "UNAVAILABLE", retryAfter: nil).isTransient)
        #expect(PushError.rejected(provider: .googleOAuth, status: 500, reason: "x", retryAfter: nil).isTransient)
        #expect(!PushError.rejected(provider: .apns, status: 403, reason: "InvalidProviderToken", retryAfter: nil).isTransient)
        #expect(!PushError.rejected(provider: .googleOAuth, status: 400, reason: "invalid_grant", retryAfter: nil).isTransient)
        #expect(PushError.connectionFailed(provider: .apns, detail: "refused").isTransient)
        #expect(PushError.timedOut(provider: .fcm).isTransient)
        #expect(!PushError.tls(provider: .apns, detail: "bad certificate").isTransient)
        #expect(!PushError.invalidMessage(provider: .fcm, detail: "too large").isTransient)
        #expect(PushError.rejected(provider: .apns, status: 429, reason: "TooManyRequests", retryAfter: 7).retryAfter == 7)
        #expect(PushError.timedOut(provider: .apns).retryAfter == nil)
    }

    @Test("reason codes: code words pass, free text (which may quote the request) does not")
    func reasonCodes() {
        #expect(PushTransport.reasonCode("ExpiredProviderToken") == "ExpiredProviderToken")
        #expect(PushTransport.reasonCode("QUOTA_EXCEEDED") == "QUOTA_EXCEEDED")
        #expect(PushTransport.reasonCode("Invalid value at 'message.token' (abc)") == nil)
        #expect(PushTransport.reasonCode(String(repeating: "A", count: 65)) == nil)
        #expect(
            FCMClient.error(
                Data(
                    #"{"error":{"code":404,"message":"token abc not found","status":"NOT_FOUND","details":[{"@type":"x","errorCode":"UNREGISTERED"}]}}"#
                        .utf8)) == ("NOT_FOUND", "UNREGISTERED"))
        #expect(APNsClient.reason(Data(#"{"reason":"BadDeviceToken"}"#.utf8)) == "BadDeviceToken")
        #expect(APNsClient.reason(Data("<html>".utf8)) == nil)
    }

    @Test("a device shows its fingerprint, not its token")
    func deviceDescription() {
        let device = PushDevice(platform: .ios, token: PushTestPeer.deviceToken())
        #expect(!device.description.contains(device.token))
        #expect(device.description.hasSuffix(device.fingerprint))
        #expect(device.fingerprint.count == 12)
        #expect(device.fingerprint == PushDevice(platform: .android, token: device.token).fingerprint)
    }

    @Test("a device of the other platform is refused before anything is sent")
    func wrongPlatform() async throws {
        // given
        let apns = try APNsClient(configuration: PushTestKeys.apns, logger: Logger(label: "push-test"), clock: AppClock.live.now)
        var fcmConfiguration = PushConfiguration.FCM(serviceAccount: PushTestKeys.serviceAccount)
        fcmConfiguration.url = "https://127.0.0.1:9"
        let fcm = try FCMClient(configuration: fcmConfiguration, logger: Logger(label: "push-test"), clock: AppClock.live.now)

        // when
        let toAndroid = await #expect(throws: PushError.self) {
            try await apns.send(PushTestPeer.message(), to: PushDevice(platform: .android, token: "t"))
        }
        let toIOS = await #expect(throws: PushError.self) {
            try await fcm.send(PushTestPeer.message(), to: PushDevice(platform: .ios, token: "t"))
        }
        try await apns.shutdown()
        try await fcm.shutdown()

        // then
        #expect(toAndroid?.isTransient == false)
        #expect(toIOS?.isTransient == false)
        guard case .invalidMessage(.apns, _) = toAndroid else {
            Issue.record("\(String(describing: toAndroid))")
            return
        }
        guard case .invalidMessage(.fcm, _) = toIOS else {
            Issue.record("\(String(describing: toIOS))")
            return
        }
    }

    @Test("a provider that cannot be reached: a transient connection failure, the token not in the message")
    func unreachable() async throws {
        // given: a port that was free a moment ago
        var configuration = PushTestKeys.apns
        configuration.url = "https://127.0.0.1:1"
        configuration.timeout = 3
        let client = try APNsClient(configuration: configuration, logger: Logger(label: "push-test"), clock: AppClock.live.now)
        let token = PushTestPeer.deviceToken()

        // when
        let error = await #expect(throws: PushError.self) {
            try await client.send(PushTestPeer.message(), to: PushDevice(platform: .ios, token: token))
        }
        try await client.shutdown()

        // then
        #expect(error?.isTransient == true)
        #expect(error?.description.contains(token) == false)
    }

    // MARK: the credential cache

    @Test("credential cache: callers racing for a missing credential share one; it is reused until due, then renewed")
    func credentialCache() async throws {
        // given
        let clock = TestClock(Date(timeIntervalSince1970: 1_796_000_000))
        let made = NIOLockedValueBox(0)
        let cache = PushCredentialCache(provider: .apns, clock: clock.clock.now) {
            (now: Date) async throws(PushError) -> PushCredentialCache.Credential in
            let number = made.withLockedValue {
                $0 += 1
                return $0
            }
            try? await Task.sleep(for: .milliseconds(50))
            return .init(value: "credential-\(number)", renewAt: now.addingTimeInterval(100))
        }

        // when: 20 callers at once
        let values = await withTaskGroup(of: String?.self) { group in
            for _ in 0..<20 { group.addTask { try? await cache.value() } }
            return await group.reduce(into: [String?]()) { $0.append($1) }
        }
        clock.set(Date(timeIntervalSince1970: 1_796_000_099))
        let reused = try await cache.value()
        clock.set(Date(timeIntervalSince1970: 1_796_000_100))
        let renewed = try await cache.value()
        await cache.invalidate("credential-1")  // no longer current: no effect
        let kept = try await cache.value()
        await cache.invalidate(kept)
        let replaced = try await cache.value()

        // then
        #expect(values == Array(repeating: "credential-1", count: 20))
        #expect(reused == "credential-1")
        #expect(renewed == "credential-2")
        #expect(kept == "credential-2")
        #expect(replaced == "credential-3")
        #expect(made.withLockedValue { $0 } == 3)
    }

    @Test("credential cache: a failure reaches every waiting caller and is not kept")
    func credentialCacheFailure() async throws {
        // given
        let attempts = NIOLockedValueBox(0)
        let cache = PushCredentialCache(provider: .googleOAuth, clock: { Date() }) {
            (now: Date) async throws(PushError) -> PushCredentialCache.Credential in
            let attempt = attempts.withLockedValue {
                $0 += 1
                return $0
            }
            try? await Task.sleep(for: .milliseconds(50))
            guard attempt > 1 else {
                throw .rejected(provider: .googleOAuth, status: 503, reason: "unavailable", retryAfter: nil)
            }
            return .init(value: "ok", renewAt: now.addingTimeInterval(3600))
        }

        // when
        let failures = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<5 {
                group.addTask {
                    do {
                        _ = try await cache.value()
                        return false
                    } catch {
                        return (error as? PushError)?.isTransient == true
                    }
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        let later = try await cache.value()

        // then
        #expect(failures == Array(repeating: true, count: 5))
        #expect(later == "ok")
        #expect(attempts.withLockedValue { $0 } == 2)
    }

    /// The decoded header and claims of a compact JWS.
    static func decode(_ token: String) throws -> (header: [String: JSONValue], claims: [String: JSONValue]) {
        let parts = token.split(separator: ".").map(String.init)
        try #require(parts.count == 3)
        func json(_ part: String) throws -> [String: JSONValue] {
            var base64 = part.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
            return try JSONDecoder().decode([String: JSONValue].self, from: try #require(Data(base64Encoded: base64)))
        }
        return (try json(parts[0]), try json(parts[1]))
    }
}

import Foundation
import Logging
import Testing

@testable import Meander

@Suite("Push: the fake providers are there when required")
struct PushPeerRequiredTests {
    @Test("scripts/test provides the fake push providers (MEANDER_TEST_PUSH_REQUIRED=1): the push suites may not skip there")
    func peerProvided() {
        let required = PushTestPeer.environment["MEANDER_TEST_PUSH_REQUIRED"] == "1"
        #expect(!required || PushTestPeer.isRunning, "MEANDER_TEST_PUSH_REQUIRED=1 but MEANDER_TEST_APNS_URL is not set")
    }
}

/// Runs `body` with a client of the fake, and shuts the client down however `body` ends.
private func withClient<Client: PushProvider, T>(
    _ client: Client, shutdown: (Client) async throws -> Void, _ body: (Client) async throws -> T
) async throws -> T {
    do {
        let result = try await body(client)
        try await shutdown(client)
        return result
    } catch {
        try? await shutdown(client)
        throw error
    }
}

private func withAPNs<T>(
    clock: TestClock = TestClock(Date()), logs: CapturedLogs = CapturedLogs(),
    _ adjust: (inout PushConfiguration.APNs) -> Void = { _ in }, _ body: (APNsClient) async throws -> T
) async throws -> T {
    var configuration = try PushTestPeer.apns()
    adjust(&configuration)
    let client = try APNsClient(configuration: configuration, logger: logs.logger(), clock: clock.clock.now)
    return try await withClient(client, shutdown: { try await $0.shutdown() }, body)
}

private func withFCM<T>(
    accountName: String? = nil, clock: TestClock = TestClock(Date()), logs: CapturedLogs = CapturedLogs(),
    _ body: (FCMClient) async throws -> T
) async throws -> T {
    let client = try FCMClient(configuration: PushTestPeer.fcm(accountName: accountName), logger: logs.logger(), clock: clock.clock.now)
    return try await withClient(client, shutdown: { try await $0.shutdown() }, body)
}

/// A whole-second time: what a token's `iat` holds.
private func wholeSeconds(_ date: Date) -> Date { Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)) }

@Suite(
    "Push: APNs against the fake (HTTP/2 over TLS, ES256 provider tokens checked)",
    .enabled(if: PushTestPeer.isRunning, "run under scripts/with-push (MEANDER_TEST_APNS_URL is not set)"))
struct APNsPushTests {
    @Test("a push arrives over HTTP/2 with its headers, payload and a valid token; the next reuses the token; nothing secret logged")
    func delivers() async throws {
        // given
        let clock = TestClock(wholeSeconds(Date()))
        let logs = CapturedLogs()
        let device = PushDevice(platform: .ios, token: PushTestPeer.deviceToken())
        let message = PushTestPeer.message()
        var quiet = PushTestPeer.message(title: "Stille", body: "Ingen hast", data: [:], isUrgent: false, collapseID: nil)
        quiet.timeToLive = 0

        // when
        let (first, second) = try await withAPNs(clock: clock, logs: logs) { client in
            (try await client.send(message, to: device), try await client.send(quiet, to: device))
        }

        // then
        let apns = try PushTestPeer.apns()
        let records = try PushTestPeer.records(device: device.token)
        try #require(records.count == 2)
        let (urgent, normal) = (records[0], records[1])
        #expect(urgent.status == 200)
        #expect(urgent.httpVersion == "2")
        let (urgentID, normalID) = (try #require(urgent.apnsID), try #require(normal.apnsID))
        #expect(first == .delivered(providerID: urgentID))
        #expect(second == .delivered(providerID: normalID))
        #expect(
            urgent.headers == [
                "apns-topic": apns.topic, "apns-push-type": "alert", "apns-priority": "10", "apns-collapse-id": "activity-5f1c",
                "apns-expiration": String(Int(clock.now.timeIntervalSince1970) + 86_400), "content-type": "application/json",
            ])
        #expect(
            urgent.payload
                == .object([
                    "aps": .object([
                        "alert": .object(["title": .string(message.title), "body": .string(message.body)]), "sound": .string("default"),
                    ]),
                    "url": .string("meander://activities/5f1c"), "activity": .string("5f1c"),
                ]))
        let jwt = try #require(urgent.jwt)
        #expect(jwt.verified == true)
        #expect(jwt.header["alg"] == .string("ES256"))
        #expect(jwt.header["kid"] == .string(apns.keyID))
        #expect(jwt.claims == ["iss": .string(apns.teamID), "iat": .integer(Int64(clock.now.timeIntervalSince1970))])
        #expect(
            normal.headers == [
                "apns-topic": apns.topic, "apns-push-type": "alert", "apns-priority": "5", "apns-expiration": "0",
                "content-type": "application/json",
            ])
        #expect(
            normal.payload
                == .object([
                    "aps": .object([
                        "alert": .object(["title": .string("Stille"), "body": .string("Ingen hast")]), "sound": .string("default"),
                    ])
                ]))
        #expect(normal.jwt?.sha256 == jwt.sha256, "the provider token is reused")
        #expect(logs.text.contains("push: delivered"))
        for secret in [device.token, message.title, message.body, quiet.body] { #expect(!logs.text.contains(secret)) }
    }

    @Test("the provider token is reused for 50 minutes of the injected clock, then renewed")
    func renewsAfterFiftyMinutes() async throws {
        // given: a clock 55 minutes behind, so that every token is younger than an hour by the fake's clock
        let start = wholeSeconds(Date().addingTimeInterval(-55 * 60))
        let clock = TestClock(start)
        let device = PushDevice(platform: .ios, token: PushTestPeer.deviceToken())

        // when
        try await withAPNs(clock: clock) { client in
            _ = try await client.send(PushTestPeer.message(), to: device)
            clock.set(start.addingTimeInterval(49 * 60 + 59))
            _ = try await client.send(PushTestPeer.message(), to: device)
            clock.set(start.addingTimeInterval(50 * 60))
            _ = try await client.send(PushTestPeer.message(), to: device)
            clock.set(start.addingTimeInterval(51 * 60))
            _ = try await client.send(PushTestPeer.message(), to: device)
        }

        // then
        let tokens = try PushTestPeer.records(device: device.token).map { try #require($0.jwt) }
        try #require(tokens.count == 4)
        #expect(tokens.allSatisfy { $0.verified == true })
        #expect(tokens[0].sha256 == tokens[1].sha256)
        #expect(tokens[2].sha256 != tokens[1].sha256)
        #expect(tokens[3].sha256 == tokens[2].sha256)
        #expect(tokens[0].claims["iat"] == .integer(Int64(start.timeIntervalSince1970)))
        #expect(tokens[2].claims["iat"] == .integer(Int64(start.timeIntervalSince1970) + 50 * 60))
    }

    @Test("ExpiredProviderToken: the token is renewed and the push sent again at once")
    func renewsWhenExpired() async throws {
        // given: a token made 45 minutes ago, which the client would keep 5 more minutes; `stale-` devices take 20
        let now = wholeSeconds(Date())
        let clock = TestClock(now.addingTimeInterval(-45 * 60))
        let warmUp = PushDevice(platform: .ios, token: PushTestPeer.deviceToken())
        let device = PushDevice(platform: .ios, token: PushTestPeer.deviceToken("stale-"))

        // when
        let outcome = try await withAPNs(clock: clock) { client in
            _ = try await client.send(PushTestPeer.message(), to: warmUp)
            clock.set(now)
            return try await client.send(PushTestPeer.message(), to: device)
        }

        // then
        let first = try #require(try PushTestPeer.records(device: warmUp.token).first?.jwt)
        let records = try PushTestPeer.records(device: device.token)
        try #require(records.count == 2)
        #expect(records[0].status == 403)
        #expect(records[0].reason == "ExpiredProviderToken")
        #expect(records[0].jwt?.sha256 == first.sha256)
        #expect(records[1].status == 200)
        #expect(records[1].jwt?.sha256 != first.sha256)
        #expect(records[1].jwt?.claims["iat"] == .integer(Int64(now.timeIntervalSince1970)))
        #expect(outcome == .delivered(providerID: records[1].apnsID))
    }

    @Test("ExpiredProviderToken again after renewing: one renewal only, then a permanent error")
    func renewsOnce() async throws {
        // given: a clock 45 minutes behind the fake's, so that every token is too old for a `stale-` device
        let clock = TestClock(Date().addingTimeInterval(-45 * 60))
        let device = PushDevice(platform: .ios, token: PushTestPeer.deviceToken("stale-"))

        // when
        let error = try await withAPNs(clock: clock) { client in
            await #expect(throws: PushError.self) { try await client.send(PushTestPeer.message(), to: device) }
        }

        // then
        #expect(error == .rejected(provider: .apns, status: 403, reason: "ExpiredProviderToken", retryAfter: nil))
        #expect(error?.isTransient == false)
        let records = try PushTestPeer.records(device: device.token)
        #expect(records.map(\.reason) == ["ExpiredProviderToken", "ExpiredProviderToken"])
        #expect(records.count == 2 && records[0].jwt?.sha256 != records[1].jwt?.sha256)
    }

    @Test("a device that is gone (410 Unregistered, 400 BadDeviceToken): unregistered", arguments: ["gone-", "bad-"])
    func unregistered(_ prefix: String) async throws {
        // given
        let device = PushDevice(platform: .ios, token: PushTestPeer.deviceToken(prefix))

        // when
        let outcome = try await withAPNs { try await $0.send(PushTestPeer.message(), to: device) }

        // then
        #expect(outcome == .unregistered)
        #expect(try PushTestPeer.records(device: device.token).map(\.status) == [prefix == "gone-" ? 410 : 400])
    }

    @Test("429: a transient error with Retry-After, neither token nor text in it; the next try is delivered")
    func tooManyRequests() async throws {
        // given
        let logs = CapturedLogs()
        let device = PushDevice(platform: .ios, token: PushTestPeer.deviceToken("busy-"))
        let message = PushTestPeer.message()

        // when
        let (error, retried) = try await withAPNs(logs: logs) { client in
            let error = await #expect(throws: PushError.self) { try await client.send(message, to: device) }
            return (error, try await client.send(message, to: device))
        }

        // then
        #expect(error == .rejected(provider: .apns, status: 429, reason: "TooManyRequests", retryAfter: 7))
        #expect(error?.isTransient == true)
        #expect(error?.retryAfter == 7)
        let description = try #require(error?.description)
        #expect(description == "APNs: refused with 429 TooManyRequests, retry after 7 s")
        for secret in [device.token, message.title, message.body, "meander://activities"] {
            #expect(!description.contains(secret))
            #expect(!logs.text.contains(secret))
        }
        guard case .delivered = retried else {
            Issue.record("the retry was not delivered: \(retried)")
            return
        }
    }

    @Test("503: a transient error without Retry-After")
    func unavailable() async throws {
        // given
        let device = PushDevice(platform: .ios, token: PushTestPeer.deviceToken("fail5xx-"))

        // when
        let error = try await withAPNs { client in
            await #expect(throws: PushError.self) { try await client.send(PushTestPeer.message(), to: device) }
        }

        // then
        #expect(error == .rejected(provider: .apns, status: 503, reason: "ServiceUnavailable", retryAfter: nil))
        #expect(error?.isTransient == true)
        #expect(error?.description.contains(device.token) == false)
    }

    @Test("a server whose certificate the trust roots do not hold: a TLS error, not transient, nothing sent")
    func untrusted() async throws {
        // given: the system's roots, which do not hold the fake's self-signed certificate
        let device = PushDevice(platform: .ios, token: PushTestPeer.deviceToken())

        // when
        let error = try await withAPNs({
            $0.trustRootsFile = nil
            $0.timeout = 3
        }) { client in
            await #expect(throws: PushError.self) { try await client.send(PushTestPeer.message(), to: device) }
        }

        // then
        guard case .tls(.apns, _) = error else {
            Issue.record("expected a TLS error, got \(String(describing: error))")
            return
        }
        #expect(error?.isTransient == false)
        #expect(try PushTestPeer.records(device: device.token).isEmpty)
    }
}

@Suite(
    "Push: FCM against the fake (OAuth JWT-bearer exchange and RS256 assertions checked)",
    .enabled(if: PushTestPeer.isRunning, "run under scripts/with-push (MEANDER_TEST_FCM_URL is not set)"))
struct FCMPushTests {
    /// A service account name of this test's own, so that its token exchanges can be counted.
    static func accountName() -> String { "t-" + UUID().uuidString.prefix(8).lowercased() }

    @Test("a push arrives with its body and a bought access token; the assertion was valid; nothing secret logged")
    func delivers() async throws {
        // given
        let name = Self.accountName()
        let clock = TestClock(wholeSeconds(Date()))
        let logs = CapturedLogs()
        let device = PushDevice(platform: .android, token: PushTestPeer.deviceToken("fcm:"))
        let message = PushTestPeer.message()

        // when
        let outcome = try await withFCM(accountName: name, clock: clock, logs: logs) { try await $0.send(message, to: device) }

        // then
        let fcm = try PushTestPeer.fcm(accountName: name)
        let exchanges = try PushTestPeer.exchanges(accountName: name)
        try #require(exchanges.count == 1)
        let exchange = exchanges[0]
        #expect(exchange.status == 200)
        let assertion = try #require(exchange.jwt)
        #expect(assertion.verified == true)
        #expect(assertion.header["alg"] == .string("RS256"))
        #expect(assertion.header["kid"] == fcm.serviceAccount.privateKeyID.map { .string($0) })
        let issued = Int64(clock.now.timeIntervalSince1970)
        #expect(
            assertion.claims == [
                "iss": .string(fcm.serviceAccount.clientEmail), "scope": .string("https://www.googleapis.com/auth/firebase.messaging"),
                "aud": .string(fcm.serviceAccount.tokenURI), "iat": .integer(issued), "exp": .integer(issued + 3600),
            ])
        let records = try PushTestPeer.records(device: device.token)
        try #require(records.count == 1)
        #expect(records[0].status == 200)
        #expect(records[0].tokenNumber == exchange.tokenNumber)
        let messageName = try #require(records[0].name)
        #expect(outcome == .delivered(providerID: messageName))
        #expect(
            records[0].body
                == .object([
                    "message": .object([
                        "token": .string(device.token),
                        "notification": .object(["title": .string(message.title), "body": .string(message.body)]),
                        "data": .object(["url": .string("meander://activities/5f1c"), "activity": .string("5f1c")]),
                        "android": .object([
                            "priority": .string("high"), "collapse_key": .string("activity-5f1c"), "ttl": .string("86400s"),
                        ]),
                    ])
                ]))
        for secret in [device.token, message.title, message.body] { #expect(!logs.text.contains(secret)) }
        #expect(!logs.text.contains("ya29."), "no access token in the logs")
    }

    @Test("the access token is bought once, reused until a minute before it expires, then bought anew")
    func cachesAccessToken() async throws {
        // given: a clock 58 minutes behind; the fake's tokens live 3599 s, so the client renews from start + 3539 s
        let name = Self.accountName()
        let start = wholeSeconds(Date().addingTimeInterval(-58 * 60))
        let clock = TestClock(start)
        let devices = (0..<4).map { _ in PushDevice(platform: .android, token: PushTestPeer.deviceToken()) }

        // when
        try await withFCM(accountName: name, clock: clock) { client in
            _ = try await client.send(PushTestPeer.message(), to: devices[0])
            clock.set(start.addingTimeInterval(30 * 60))
            _ = try await client.send(PushTestPeer.message(), to: devices[1])
            clock.set(start.addingTimeInterval(3538))
            _ = try await client.send(PushTestPeer.message(), to: devices[2])
            clock.set(start.addingTimeInterval(3540))
            _ = try await client.send(PushTestPeer.message(), to: devices[3])
        }

        // then
        let exchanges = try PushTestPeer.exchanges(accountName: name)
        #expect(exchanges.map(\.status) == [200, 200], "two token exchanges for four pushes")
        try #require(exchanges.count == 2)
        #expect(exchanges[0].jwt?.claims["iat"] == .integer(Int64(start.timeIntervalSince1970)))
        #expect(exchanges[1].jwt?.claims["iat"] == .integer(Int64(start.timeIntervalSince1970) + 3540))
        let used = try devices.map { try #require(try PushTestPeer.records(device: $0.token).first?.tokenNumber) }
        #expect(used == [exchanges[0].tokenNumber, exchanges[0].tokenNumber, exchanges[0].tokenNumber, exchanges[1].tokenNumber])
    }

    @Test("401: the access token is bought anew once and the push sent again")
    func renewsOnUnauthenticated() async throws {
        // given
        let name = Self.accountName()
        let device = PushDevice(platform: .android, token: PushTestPeer.deviceToken("auth401-"))

        // when
        let outcome = try await withFCM(accountName: name) { try await $0.send(PushTestPeer.message(), to: device) }

        // then
        let exchanges = try PushTestPeer.exchanges(accountName: name)
        let records = try PushTestPeer.records(device: device.token)
        try #require(exchanges.count == 2 && records.count == 2)
        #expect(records.map(\.status) == [401, 200])
        #expect(records.map(\.tokenNumber) == exchanges.map(\.tokenNumber))
        #expect(outcome == .delivered(providerID: records[1].name))
    }

    @Test("UNREGISTERED (404): unregistered")
    func unregistered() async throws {
        // given
        let device = PushDevice(platform: .android, token: PushTestPeer.deviceToken("gone-"))

        // when
        let outcome = try await withFCM { try await $0.send(PushTestPeer.message(), to: device) }

        // then
        #expect(outcome == .unregistered)
        #expect(try PushTestPeer.records(device: device.token).map(\.reason) == ["UNREGISTERED"])
    }

    @Test("429 QUOTA_EXCEEDED: transient with Retry-After; 503 UNAVAILABLE: transient; 400 INVALID_ARGUMENT: not")
    func errors() async throws {
        // given
        let busy = PushDevice(platform: .android, token: PushTestPeer.deviceToken("busy-"))
        let failing = PushDevice(platform: .android, token: PushTestPeer.deviceToken("fail5xx-"))
        let bad = PushDevice(platform: .android, token: PushTestPeer.deviceToken("bad-"))
        let message = PushTestPeer.message()

        // when
        let (quota, unavailable, invalid, retried) = try await withFCM { client in
            (
                await #expect(throws: PushError.self) { try await client.send(message, to: busy) },
                await #expect(throws: PushError.self) { try await client.send(message, to: failing) },
                await #expect(throws: PushError.self) { try await client.send(message, to: bad) },
                try await client.send(message, to: busy)
            )
        }

        // then
        #expect(quota == .rejected(provider: .fcm, status: 429, reason: "QUOTA_EXCEEDED", retryAfter: 7))
        #expect(quota?.isTransient == true)
        #expect(unavailable == .rejected(provider: .fcm, status: 503, reason: "UNAVAILABLE", retryAfter: nil))
        #expect(unavailable?.isTransient == true)
        #expect(invalid == .rejected(provider: .fcm, status: 400, reason: "INVALID_ARGUMENT", retryAfter: nil))
        #expect(invalid?.isTransient == false)
        for (error, device) in [(quota, busy), (unavailable, failing), (invalid, bad)] {
            let description = try #require(error?.description)
            for secret in [device.token, message.title, message.body] { #expect(!description.contains(secret)) }
        }
        guard case .delivered = retried else {
            Issue.record("the retry was not delivered: \(retried)")
            return
        }
    }

    @Test("a service account the token endpoint refuses: a permanent error naming the OAuth error, no push sent")
    func refusedAccount() async throws {
        // given: an account of another project, which the fake (as Google) does not know
        var configuration = try PushTestPeer.fcm()
        configuration.serviceAccount.clientEmail = "intruder@another-project.iam.gserviceaccount.com"
        let client = try FCMClient(configuration: configuration, logger: Logger(label: "push-test"), clock: AppClock.live.now)
        let device = PushDevice(platform: .android, token: PushTestPeer.deviceToken())

        // when
        let error = try await withClient(client, shutdown: { try await $0.shutdown() }) { client in
            await #expect(throws: PushError.self) { try await client.send(PushTestPeer.message(), to: device) }
        }

        // then
        #expect(error == .rejected(provider: .googleOAuth, status: 400, reason: "invalid_grant", retryAfter: nil))
        #expect(error?.isTransient == false)
        #expect(try PushTestPeer.records(device: device.token).isEmpty)
    }
}

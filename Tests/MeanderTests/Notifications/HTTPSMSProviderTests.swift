import Foundation
import Logging
import NIOHTTP1
import Testing

@testable import Meander

@Suite("SMS: the HTTP provider against a fake provider on loopback")
struct HTTPSMSProviderTests {
    static let password = "s3cret-pässword"
    static let token = "tok_5f4e3d2c1b0a"
    static let basic = "Basic " + Data("meander:\(password)".utf8).base64EncodedString()
    static let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

    static func provider(
        _ fake: SMSFakeProvider, logs: CapturedLogs, token: String? = nil, password: String = password,
        timeout: TimeInterval = 15
    ) throws -> HTTPSMSProvider {
        var environment = ["SMS_FROM": "Meander"]
        if let token {
            environment["SMS_URL"] = fake.url()
            environment["SMS_TOKEN"] = token
        } else {
            environment["SMS_URL"] = fake.url(
                user: "meander", password: password.addingPercentEncoding(withAllowedCharacters: Self.unreserved))
        }
        var configuration = try #require(try SMSConfiguration.parse(environment: environment))
        configuration.timeout = timeout
        return try HTTPSMSProvider(configuration: configuration, logger: logs.logger())
    }

    @Test("messages with æøå arrive exactly as sent, under HTTP Basic; the logs hold neither number, text nor password")
    func delivers() async throws {
        try await SMSFakeProvider.with(authorization: Self.basic) { fake in
            // given
            let logs = CapturedLogs()
            let provider = try Self.provider(fake, logs: logs)
            let first = "Hei Åse! Du har fått et nytt oppdrag i Meander. Logg inn for å lese det: https://app.meander.no/l/x"
            let second = "Påminnelse: «Sommerfest» starter 12. juni kl. 18.00 – velkommen! 🎉"

            // when
            let one = try await provider.send(first, to: try #require(PhoneNumber("912 34 567")))
            let two = try await provider.send(second, to: try #require(PhoneNumber("+46 70 123 45 67")))

            // then
            #expect(one == SMSReceipt(providerID: "msg-1", parts: 1))
            #expect(two == SMSReceipt(providerID: "msg-2", parts: 1))
            #expect(
                fake.received == [
                    .init(to: "+4791234567", from: "Meander", text: first),
                    .init(to: "+46701234567", from: "Meander", text: second),
                ])
            #expect(fake.unauthorized == 0)
            #expect(logs.text.contains("sms: message accepted"))
            #expect(logs.text.contains("msg-2"))
            for secret in ["91234567", "701234567", "Åse", "Sommerfest", Self.password] {
                #expect(!logs.text.contains(secret), "the log holds \(secret)")
            }
        }
    }

    @Test("SMS_TOKEN is sent as a Bearer token; a wrong token is a permanent 401")
    func bearer() async throws {
        try await SMSFakeProvider.with(authorization: "Bearer \(Self.token)") { fake in
            // given
            let logs = CapturedLogs()
            let right = try Self.provider(fake, logs: logs, token: Self.token)
            let wrong = try Self.provider(fake, logs: logs, token: "tok_wrong")
            let number = try #require(PhoneNumber("+4791234567"))

            // when
            let receipt = try await right.send("Hei", to: number)
            let error = await #expect(throws: SMSError.self) { try await wrong.send("Hei igjen", to: number) }

            // then
            #expect(receipt.providerID == "msg-1")
            #expect(fake.received == [.init(to: "+4791234567", from: "Meander", text: "Hei")])
            #expect(error == .rejected(status: 401, code: "unauthorized"))
            #expect(error?.isTransient == false)
            #expect(fake.unauthorized == 1)
            #expect(!logs.text.contains(Self.token) && !logs.text.contains("tok_wrong"))
        }
    }

    @Test("a wrong password is refused and nothing is recorded")
    func wrongPassword() async throws {
        try await SMSFakeProvider.with(authorization: Self.basic) { fake in
            // given
            let provider = try Self.provider(fake, logs: CapturedLogs(), password: "not-the-password")

            // when
            let error = await #expect(throws: SMSError.self) {
                try await provider.send("Hei", to: try #require(PhoneNumber("+4791234567")))
            }

            // then
            #expect(error == .rejected(status: 401, code: "unauthorized"))
            #expect(fake.received.isEmpty)
            #expect(fake.unauthorized == 1)
        }
    }

    struct Failure: Sendable, CustomTestStringConvertible {
        var number: String
        var expected: @Sendable (SMSError) -> Bool
        var transient: Bool
        var testDescription: String { number }
    }

    @Test(
        "429 and 5xx are transient (with Retry-After), other 4xx and a 2xx without an id are permanent",
        arguments: [
            Failure(number: "+4791230429", expected: { $0 == .rateLimited(retryAfter: 7) && $0.retryAfter == 7 }, transient: true),
            Failure(
                number: "+4791230503",
                expected: {
                    guard case .unavailable(503, let after?) = $0 else { return false }
                    return (20...31).contains(after)
                }, transient: true),
            Failure(number: "+4791230500", expected: { $0 == .unavailable(status: 500, retryAfter: nil) }, transient: true),
            Failure(number: "+4791230400", expected: { $0 == .rejected(status: 400, code: "invalid_number") }, transient: false),
            // The provider's error repeats the number and the text: it is not taken as a code.
            Failure(number: "+4791230422", expected: { $0 == .rejected(status: 422, code: nil) }, transient: false),
            Failure(
                number: "+4791230200", expected: { $0 == .invalidResponse("a 200 answer without a message id") }, transient: false),
        ])
    func failures(_ given: Failure) async throws {
        try await SMSFakeProvider.with(authorization: Self.basic) { fake in
            // given
            let logs = CapturedLogs()
            let provider = try Self.provider(fake, logs: logs)
            let text = "Ditt oppdrag hos Åse Ødegård"

            // when
            let error = await #expect(throws: SMSError.self) {
                try await provider.send(text, to: try #require(PhoneNumber(given.number)))
            }

            // then
            let failure = try #require(error)
            #expect(given.expected(failure), "\(failure)")
            #expect(failure.isTransient == given.transient)
            #expect(fake.received.isEmpty)
            let digits = String(given.number.dropFirst(3))
            for shown in ["\(failure)", logs.text] {
                #expect(!shown.contains(digits) && !shown.contains("Ødegård"), "\(shown)")
            }
            #expect(logs.text.contains("transient: \(given.transient)") || logs.text.contains("\"transient\": \(given.transient)"))
        }
    }

    @Test("a provider that does not answer in time: timed out, transient")
    func timeout() async throws {
        try await SMSFakeProvider.with(authorization: Self.basic) { fake in
            // given
            let provider = try Self.provider(fake, logs: CapturedLogs(), timeout: 0.5)

            // when
            let started = ContinuousClock.now
            let error = await #expect(throws: SMSError.self) {
                try await provider.send("Hei", to: try #require(PhoneNumber("+4791230408")))
            }

            // then
            #expect(error == .timedOut)
            #expect(error?.isTransient == true)
            #expect(ContinuousClock.now - started < .seconds(3))
        }
    }

    @Test("a provider that is not there: connection failed, transient")
    func connectionRefused() async throws {
        // given: a port that was just free
        let fake = try await SMSFakeProvider.start(authorization: Self.basic)
        await fake.shutdown()
        let provider = try Self.provider(fake, logs: CapturedLogs(), timeout: 1)

        // when
        let error = await #expect(throws: SMSError.self) {
            try await provider.send("Hei", to: try #require(PhoneNumber("+4791234567")))
        }

        // then
        guard case .connectFailed = error else {
            Issue.record("expected connectFailed, got \(String(describing: error))")
            return
        }
        #expect(error?.isTransient == true)
        #expect(!"\(error!)".contains("91234567"))
    }

    @Test("an empty text or one of more than 10 parts is refused before anything is sent")
    func invalidMessages() async throws {
        try await SMSFakeProvider.with(authorization: Self.basic) { fake in
            // given
            let provider = try Self.provider(fake, logs: CapturedLogs())
            let number = try #require(PhoneNumber("+4791234567"))

            // when
            let empty = await #expect(throws: SMSError.self) { try await provider.send(" \n", to: number) }
            let long = await #expect(throws: SMSError.self) {
                try await provider.send(String(repeating: "a", count: 153 * 10 + 1), to: number)
            }
            let longest = try await provider.send(String(repeating: "a", count: 153 * 10), to: number)

            // then
            #expect(empty == .invalidMessage("the text is empty"))
            #expect(long == .invalidMessage("the text needs 11 parts; at most 10 are sent"))
            #expect(longest.parts == 10)
            #expect(fake.received.count == 1)
        }
    }

    @Test("SMS_CA_FILE that cannot be read: the provider is not made, and says which file")
    func unreadableTrustRoots() throws {
        // given
        var configuration = try #require(
            try SMSConfiguration.parse(environment: [
                "SMS_URL": "https://u:hunter2@sms.example.no/v1/messages", "SMS_FROM": "Meander",
                "SMS_CA_FILE": "/no/such/sms-ca.pem",
            ]))
        configuration.timeout = 1

        // when
        let error = #expect(throws: SMSError.self) {
            try HTTPSMSProvider(configuration: configuration, logger: Logger(label: "sms-test"))
        }

        // then
        guard case .tls(let detail) = error else {
            Issue.record("expected a TLS error, got \(String(describing: error))")
            return
        }
        #expect(detail.contains("/no/such/sms-ca.pem"))
        #expect(!detail.contains("hunter2"))
        #expect(error?.isTransient == false)
    }

    /// A self-signed certificate for 127.0.0.1 and its key, made by openssl in a new directory.
    static func selfSignedCertificate() throws -> (certificate: String, key: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("meander-sms-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let certificate = folder.appendingPathComponent("cert.pem").path
        let key = folder.appendingPathComponent("key.pem").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(opensslPath))
        process.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certificate,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "openssl could not make a certificate")
        return (certificate, key)
    }

    static let opensslPath = ["/usr/bin/openssl", "/usr/local/bin/openssl", "/opt/homebrew/bin/openssl"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    @Test(
        "SMS_CA_FILE: a provider with its own certificate is trusted through it, and refused (permanently) without it",
        .enabled(if: HTTPSMSProviderTests.opensslPath != nil, "needs openssl to make a certificate"))
    func trustRoots() async throws {
        let tls = try Self.selfSignedCertificate()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: tls.certificate).deletingLastPathComponent().path) }
        try await SMSFakeProvider.with(authorization: Self.basic, tls: tls) { fake in
            // given
            let url = fake.url(user: "meander", password: Self.password.addingPercentEncoding(withAllowedCharacters: Self.unreserved))
            #expect(url.hasPrefix("https://"))
            var trusting = try #require(
                try SMSConfiguration.parse(environment: ["SMS_URL": url, "SMS_FROM": "Meander", "SMS_CA_FILE": tls.certificate]))
            trusting.timeout = 5
            var untrusting = trusting
            untrusting.trustRootsFile = nil
            untrusting.timeout = 1
            let number = try #require(PhoneNumber("+4791234567"))

            // when
            let receipt = try await HTTPSMSProvider(configuration: trusting, logger: Logger(label: "sms-test")).send("Hei", to: number)
            let error = await #expect(throws: SMSError.self) {
                try await HTTPSMSProvider(configuration: untrusting, logger: Logger(label: "sms-test")).send("Hei igjen", to: number)
            }

            // then
            #expect(receipt.providerID == "msg-1")
            #expect(fake.received == [.init(to: "+4791234567", from: "Meander", text: "Hei")])
            guard case .tls = error else {
                Issue.record("expected a TLS error, got \(String(describing: error))")
                return
            }
            #expect(error?.isTransient == false)
        }
    }

    @Test(
        "Retry-After: seconds or an HTTP date, at most a day",
        arguments: [
            ("120", 120.0), ("0", 0), ("999999", 86_400), ("Thu, 01 Jan 2026 00:01:30 GMT", 90), ("Wed, 31 Dec 2025 23:00:00 GMT", 0),
        ])
    func retryAfter(_ header: String, _ expected: TimeInterval) {
        let now = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01 00:00:00 UTC
        #expect(HTTPSMSProvider.retryAfter(HTTPHeaders([("Retry-After", header)]), now: now) == expected)
    }

    @Test("Retry-After that is neither: ignored", arguments: ["soon", "-5", "1.5", ""])
    func retryAfterIgnored(_ header: String) {
        #expect(HTTPSMSProvider.retryAfter(HTTPHeaders([("Retry-After", header)]), now: Date()) == nil)
        #expect(HTTPSMSProvider.retryAfter(HTTPHeaders(), now: Date()) == nil)
    }

    @Test("the provider's error code is taken only when it looks like a code")
    func errorCodes() {
        #expect(HTTPSMSProvider.errorCode(["error": "invalid_number"]) == "invalid_number")
        #expect(HTTPSMSProvider.errorCode(["code": "E.42-x"]) == "E.42-x")
        #expect(HTTPSMSProvider.errorCode(["error": ["code": "NO_CREDIT", "message": "Top up"]]) == "NO_CREDIT")
        #expect(HTTPSMSProvider.errorCode(["error": "+4791234567 is not reachable"]) == nil)
        #expect(HTTPSMSProvider.errorCode(["error": String(repeating: "x", count: 65)]) == nil)
        #expect(HTTPSMSProvider.errorCode(["message": "bad"]) == nil)
    }

    @Test("descriptions of errors say what happened and whether to wait")
    func descriptions() {
        #expect("\(SMSError.rateLimited(retryAfter: 6.2))" == "SMS: the provider is rate limiting (429), retry after 7 s")
        #expect("\(SMSError.unavailable(status: 502, retryAfter: nil))" == "SMS: the provider failed (502)")
        #expect(
            "\(SMSError.rejected(status: 400, code: "invalid_number"))" == "SMS: the provider refused the message (400, invalid_number)")
        #expect(SMSError.timedOut.isTransient && SMSError.connectFailed("x").isTransient)
        #expect(SMSError.rateLimited(retryAfter: nil).isTransient && SMSError.unavailable(status: 500, retryAfter: nil).isTransient)
        #expect(!SMSError.rejected(status: 403, code: nil).isTransient)
    }
}

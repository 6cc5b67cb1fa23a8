import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import Meander

/// The SMTP servers that `scripts/with-smtp` starts and describes in `MEANDER_TEST_SMTP_*`.
enum SMTPTestServer {
    static let environment = ProcessInfo.processInfo.environment
    static let isRunning = !(environment["MEANDER_TEST_SMTP_URL"] ?? "").isEmpty
    static let sender = "Meander Ærlig <noreply@meander.example>"

    /// The URL of one of the servers (`URL`, `LOGIN_URL`, `FLAKY_URL`, `PLAIN_URL`), changed by `adjust`.
    static func configuration(
        _ variable: String = "URL", trusted: Bool = true, _ adjust: (inout SMTPConfiguration) -> Void = { _ in }
    ) throws -> SMTPConfiguration {
        let url = try #require(environment["MEANDER_TEST_SMTP_\(variable)"])
        var configuration = try SMTPConfiguration.parse(
            url: url, from: sender, caFile: trusted ? environment["MEANDER_TEST_SMTP_CA"] : nil)
        adjust(&configuration)
        return configuration
    }

    static var password: String { environment["MEANDER_TEST_SMTP_PASSWORD"] ?? "" }

    /// A message as the server's handler wrote it down (scripts/smtp_server.py).
    struct Delivered: Decodable {
        var mailFrom: String
        var recipients: [String]
        var messageID: String
        var subject: String
        var from: String
        var to: String
        var text: String?
        var html: String?
        var tls: Bool
        var authenticated: Bool
        /// The client's address and port as the server saw them: one per connection.
        var peer: String?
        var raw: Data?
    }

    /// Every message delivered to `recipient`, with its raw bytes.
    static func delivered(to recipient: String) throws -> [Delivered] {
        let folder = URL(fileURLWithPath: try #require(environment["MEANDER_TEST_SMTP_MAILDIR"]))
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter {
            $0.hasSuffix(".json") && !$0.hasPrefix(".")
        }
        return try names.sorted().compactMap { name -> Delivered? in
            var message = try JSONDecoder().decode(Delivered.self, from: Data(contentsOf: folder.appendingPathComponent(name)))
            guard message.recipients.contains(recipient) else { return nil }
            message.raw = try Data(contentsOf: folder.appendingPathComponent(name.replacingOccurrences(of: ".json", with: ".eml")))
            return message
        }
    }

    static func message(
        to recipient: String = "mottaker-\(UUID().uuidString.lowercased())@meander.example",
        subject: String = "Påminnelse: møte på kontoret – ærlig talt, Åse kommer også",
        text: String = "Hei Åse!\nVi møtes i morgen klokken 18.\n.\nHilsen Meander",
        html: String? = "<p>Hei <b>Åse</b>!</p><p>Vi møtes i morgen klokken 18.</p>"
    ) -> MailMessage {
        MailMessage(
            from: .init(email: "noreply@meander.example", name: "Meander Ærlig"),
            to: .init(email: recipient, name: "Åse Ødegård"), subject: subject, text: text, html: html,
            messageID: "<\(UUID().uuidString.lowercased())@meander.example>",
            date: Date(timeIntervalSince1970: 1_796_000_000))
    }
}

/// Log lines, kept to check what they hold.
final class CapturedLogs: Sendable {
    private let lines = NIOLockedValueBox<[String]>([])

    var text: String { lines.withLockedValue { $0.joined(separator: "\n") } }

    func logger() -> Logger {
        Logger(label: "smtp-test") { _ in Handler(logs: self) }
    }

    struct Handler: LogHandler {
        let logs: CapturedLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { _, new in new }
            logs.lines.withLockedValue { $0.append("\(event.level) \(event.message) \(all)") }
        }
    }
}

@Suite("SMTP: replies, capabilities, errors and timeouts")
struct SMTPProtocolTests {
    @Test("replies: one line, multi-line, split across reads, bare LF")
    func replies() throws {
        // given
        var parser = SMTPReplyParser()

        // when
        let first = try parser.feed(Array("220 mail.example ESMTP\r\n250-mail.example\r\n250-STARTTLS\r".utf8))
        let second = try parser.feed(Array("\n250 AUTH PLAIN LOGIN\r\n354 go\n".utf8))

        // then
        #expect(first == [SMTPReply(code: 220, lines: ["mail.example ESMTP"])])
        #expect(
            second == [
                SMTPReply(code: 250, lines: ["mail.example", "STARTTLS", "AUTH PLAIN LOGIN"]), SMTPReply(code: 354, lines: ["go"]),
            ])
        #expect(!parser.hasPartialInput)
        #expect(try parser.feed(Array("250".utf8)) == [])
        #expect(parser.hasPartialInput)
        #expect(try parser.feed(Array("\r\n".utf8)) == [SMTPReply(code: 250, lines: [""])])
    }

    @Test(
        "replies that break the protocol are refused",
        arguments: ["hello\r\n", "250-a\r\n251 b\r\n", "25\r\n", "250_x\r\n", "999 no\r\n", String(repeating: "2", count: 5000)])
    func badReplies(_ input: String) {
        var parser = SMTPReplyParser()
        #expect(throws: SMTPError.self) { _ = try parser.feed(Array(input.utf8)) }
    }

    @Test("EHLO capabilities: STARTTLS, AUTH mechanisms (also the old AUTH= form)")
    func capabilities() {
        let modern = SMTPCapabilities(ehlo: SMTPReply(code: 250, lines: ["mx", "SIZE 100", "STARTTLS", "AUTH PLAIN login"]))
        let old = SMTPCapabilities(ehlo: SMTPReply(code: 250, lines: ["mx", "AUTH=LOGIN"]))
        #expect(modern.startTLS)
        #expect(modern.authMechanisms == ["PLAIN", "LOGIN"])
        #expect(!old.startTLS)
        #expect(old.authMechanisms == ["LOGIN"])
    }

    @Test("errors: 4xx and lost connections are transient, 5xx and TLS problems permanent")
    func transience() {
        #expect(SMTPError.rejected(step: "RCPT TO", code: 451, message: "later").isTransient)
        #expect(!SMTPError.rejected(step: "AUTH PLAIN", code: 535, message: "no").isTransient)
        #expect(SMTPError.connectionLost(step: "message").isTransient)
        #expect(SMTPError.timedOut(step: "greeting").isTransient)
        #expect(!SMTPError.startTLSUnavailable.isTransient)
        #expect(!SMTPError.tls("bad certificate").isTransient)
    }

    @Test("scripts/test provides the SMTP servers (MEANDER_TEST_SMTP_REQUIRED=1): the SMTP suite may not skip there")
    func serversProvided() {
        let required = SMTPTestServer.environment["MEANDER_TEST_SMTP_REQUIRED"] == "1"
        #expect(!required || SMTPTestServer.isRunning, "MEANDER_TEST_SMTP_REQUIRED=1 but MEANDER_TEST_SMTP_URL is not set")
    }

    @Test("the MIME boundary comes from the Message-ID, so a retry sends the same bytes")
    func boundary() {
        let boundary = SMTPClient.boundary(messageID: "<a@meander.example>")
        #expect(boundary == SMTPClient.boundary(messageID: "<a@meander.example>"))
        #expect(boundary != SMTPClient.boundary(messageID: "<b@meander.example>"))
        #expect(boundary.hasPrefix("=_meander_") && boundary.count == 34)
    }

    @Test("a server that never answers: the greeting times out, transient")
    func timeout() async throws {
        // given: a listener that accepts and says nothing
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(server.localAddress?.port)
        let configuration = try SMTPConfiguration.parse(
            url: "smtp://127.0.0.1:\(port)?starttls=never&timeout=0.5", from: "a@x.example")
        let client = try SMTPClient(configuration: configuration, logger: Logger(label: "smtp-test"))

        // when
        let started = ContinuousClock.now
        let error = await #expect(throws: SMTPError.self) { try await client.send(SMTPTestServer.message()) }
        try await server.close()

        // then
        #expect(error == .timedOut(step: "greeting"))
        #expect(error?.isTransient == true)
        // well before the default timeout (60 s), also on a loaded machine
        #expect(ContinuousClock.now - started < .seconds(30))
    }
}

@Suite(
    "SMTP against real aiosmtpd servers (STARTTLS and AUTH required)",
    .enabled(if: SMTPTestServer.isRunning, "run under scripts/with-smtp (MEANDER_TEST_SMTP_URL is not set)"))
struct SMTPClientTests {
    @Test("a message with æøå and HTML arrives once, its headers decode, and nothing secret is logged")
    func delivers() async throws {
        // given
        let logs = CapturedLogs()
        let client = try SMTPClient(configuration: SMTPTestServer.configuration(), logger: logs.logger())
        let message = SMTPTestServer.message()

        // when
        try await client.send(message)

        // then
        let delivered = try SMTPTestServer.delivered(to: message.to.email)
        try #require(delivered.count == 1)
        let mail = delivered[0]
        #expect(mail.messageID == message.messageID)
        #expect(mail.subject == message.subject)
        #expect(mail.from == "Meander Ærlig <noreply@meander.example>")
        #expect(mail.to == "Åse Ødegård <\(message.to.email)>")
        #expect(mail.mailFrom == "noreply@meander.example")
        #expect(mail.text?.replacingOccurrences(of: "\r\n", with: "\n") == message.text)
        #expect(mail.html?.replacingOccurrences(of: "\r\n", with: "\n") == message.html)
        #expect(mail.tls && mail.authenticated)
        let raw = String(decoding: mail.raw ?? Data(), as: UTF8.self)
        #expect(raw.contains("Subject: =?UTF-8?B?"))
        #expect(raw.utf8.allSatisfy { $0 < 0x80 })

        let logged = logs.text
        #expect(logged.contains("message accepted"))
        #expect(!logged.contains(SMTPTestServer.password))
        #expect(!logged.contains("Vi møtes"))
        #expect(!logged.contains(MailMessage.base64Lines(message.text)[0]))
    }

    @Test("a server offering only AUTH LOGIN gets AUTH LOGIN")
    func login() async throws {
        let client = try SMTPClient(configuration: SMTPTestServer.configuration("LOGIN_URL"), logger: Logger(label: "smtp-test"))
        let message = SMTPTestServer.message(html: nil)

        try await client.send(message)

        let delivered = try SMTPTestServer.delivered(to: message.to.email)
        #expect(delivered.count == 1)
        #expect(delivered.first?.authenticated == true)
    }

    @Test("a wrong password is a permanent error that does not show it")
    func wrongPassword() async throws {
        // given
        let logs = CapturedLogs()
        let configuration = try SMTPTestServer.configuration { $0.password = "not-the-password-\(UUID())" }
        let client = try SMTPClient(configuration: configuration, logger: logs.logger())
        let message = SMTPTestServer.message()

        // when
        let error = await #expect(throws: SMTPError.self) { try await client.send(message) }

        // then
        guard case .rejected(let step, let code, _) = error else {
            Issue.record("expected a rejection, got \(String(describing: error))")
            return
        }
        #expect(step == "AUTH PLAIN")
        #expect(code == 535)
        #expect(error?.isTransient == false)
        #expect(!"\(error!)".contains(configuration.password!))
        #expect(!logs.text.contains(configuration.password!))
        #expect(try SMTPTestServer.delivered(to: message.to.email).isEmpty)
    }

    @Test("without STARTTLS on the server, starttls=required stops before AUTH: the password never goes in clear")
    func startTLSRequired() async throws {
        // given
        let authLog = try #require(SMTPTestServer.environment["MEANDER_TEST_SMTP_CLEARTEXT_AUTH_LOG"])
        let required = try SMTPClient(configuration: SMTPTestServer.configuration("PLAIN_URL"), logger: Logger(label: "t"))
        let optional = try SMTPClient(
            configuration: SMTPTestServer.configuration("PLAIN_URL") { $0.security = .startTLSOptional }, logger: Logger(label: "t"))
        let message = SMTPTestServer.message()

        // when
        let refused = await #expect(throws: SMTPError.self) { try await required.send(message) }
        let alsoRefused = await #expect(throws: SMTPError.self) { try await optional.send(message) }

        // then
        #expect(refused == .startTLSUnavailable)
        #expect(alsoRefused == .cleartextAuthRefused)
        #expect(refused?.isTransient == false)
        let attempts = (try? String(contentsOfFile: authLog, encoding: .utf8)) ?? ""
        #expect(attempts.isEmpty, "the plain server saw: \(attempts)")
        #expect(try SMTPTestServer.delivered(to: message.to.email).isEmpty)
    }

    @Test("a certificate the client does not trust is a permanent TLS error")
    func untrusted() async throws {
        let client = try SMTPClient(configuration: SMTPTestServer.configuration(trusted: false), logger: Logger(label: "t"))
        let message = SMTPTestServer.message()

        let error = await #expect(throws: SMTPError.self) { try await client.send(message) }

        guard case .tls = error else {
            Issue.record("expected a TLS error, got \(String(describing: error))")
            return
        }
        #expect(try SMTPTestServer.delivered(to: message.to.email).isEmpty)
    }

    @Test("dot-stuffing: lines that start with a dot, and a lone dot, arrive intact")
    func dots() async throws {
        // given: a message whose body is plain text, so its dots reach the wire as they are
        let client = try SMTPClient(configuration: SMTPTestServer.configuration(), logger: Logger(label: "t"))
        let recipient = "dots-\(UUID().uuidString.lowercased())@meander.example"
        let messageID = "<\(UUID().uuidString.lowercased())@meander.example>"
        let body = ".\r\n.leading dot\r\n..two dots\r\nmiddle . dot\r\n. \r\n.\r\nlast\r\n"
        let rendered =
            "From: <noreply@meander.example>\r\nTo: <\(recipient)>\r\nSubject: dots\r\nMessage-ID: \(messageID)\r\n\r\n" + body

        // when
        try await client.send(rendered: rendered, from: "noreply@meander.example", to: recipient, messageID: messageID)

        // then
        let delivered = try SMTPTestServer.delivered(to: recipient)
        try #require(delivered.count == 1)
        #expect(delivered[0].raw == Data(rendered.utf8))
    }

    @Test("a connection cut in the middle of DATA is transient; the retry delivers exactly one copy")
    func cutOff() async throws {
        // given: a server that cuts off the first DATA for each recipient
        let client = try SMTPClient(configuration: SMTPTestServer.configuration("FLAKY_URL"), logger: Logger(label: "t"))
        let message = SMTPTestServer.message(text: String(repeating: "En lang linje med æøå.\n", count: 200))

        // when
        let error = await #expect(throws: SMTPError.self) { try await client.send(message) }
        let afterFirst = try SMTPTestServer.delivered(to: message.to.email)
        try await client.send(message)

        // then
        #expect(error?.isTransient == true)
        #expect(error == .connectionLost(step: "message"))
        #expect(afterFirst.isEmpty)
        let delivered = try SMTPTestServer.delivered(to: message.to.email)
        #expect(delivered.count == 1)
        #expect(delivered.first?.messageID == message.messageID)
    }

    @Test("a connection is kept for the next message; one the server closed meanwhile is replaced before any data")
    func reusesConnections() async throws {
        // given
        let client = try SMTPClient(configuration: SMTPTestServer.configuration(), logger: Logger(label: "t"))
        let first = SMTPTestServer.message()
        let second = SMTPTestServer.message()
        let third = SMTPTestServer.message()

        // when: two messages, then the kept connection is cut (as a server ending an idle connection would), then one
        try await client.send(first)
        try await client.send(second)
        let kept = try #require(client.pool.take(idleFor: 60))
        kept.session.close()
        #expect(client.pool.put(kept.session, uses: kept.uses, limit: 16))
        try await client.send(third)
        await client.shutdown()

        // then
        let peers = try [first, second, third].map { try #require(SMTPTestServer.delivered(to: $0.to.email).first?.peer) }
        #expect(peers[0] == peers[1], "the second message reused the connection")
        #expect(peers[2] != peers[1], "the third went out on a new connection")
        for message in [first, second, third] {
            #expect(try SMTPTestServer.delivered(to: message.to.email).count == 1)
        }
    }

    @Test("pool=0: every message has its own connection")
    func noPool() async throws {
        let configuration = try SMTPTestServer.configuration { $0.poolSize = 0 }
        let client = try SMTPClient(configuration: configuration, logger: Logger(label: "t"))
        let first = SMTPTestServer.message()
        let second = SMTPTestServer.message()
        try await client.send(first)
        try await client.send(second)
        let peers = try [first, second].map { try #require(SMTPTestServer.delivered(to: $0.to.email).first?.peer) }
        #expect(peers[0] != peers[1])
        #expect(try SMTPConfiguration.parse(url: "smtp://h?pool=3", from: "a@b.no").poolSize == 3)
        #expect(throws: SMTPConfiguration.Problems.self) { try SMTPConfiguration.parse(url: "smtp://h?pool=x", from: "a@b.no") }
    }
}

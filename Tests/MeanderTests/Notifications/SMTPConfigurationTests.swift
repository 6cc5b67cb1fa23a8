import Foundation
import Testing

@testable import Meander

@Suite("SMTP: configuration (SMTP_URL, MAIL_FROM, SMTP_CA_FILE)")
struct SMTPConfigurationTests {
    struct URLCase: Sendable, CustomTestStringConvertible {
        var url: String
        var host: String
        var port: Int
        var security: SMTPConfiguration.Security
        var username: String?
        var password: String?
        var testDescription: String { url }
    }

    @Test(
        "SMTP_URL: schemes, default ports, STARTTLS modes and percent-decoded credentials",
        arguments: [
            URLCase(
                url: "smtp://user:p%40ss%3Aw0rd@mail.example.org", host: "mail.example.org", port: 587,
                security: .startTLSRequired, username: "user", password: "p@ss:w0rd"),
            URLCase(url: "smtp://mail.example.org", host: "mail.example.org", port: 587, security: .startTLSOptional),
            URLCase(url: "smtp://relay.local?starttls=never", host: "relay.local", port: 25, security: .plain),
            URLCase(
                url: "smtps://u%C3%A6:secret@mail.example.org", host: "mail.example.org", port: 465, security: .implicitTLS,
                username: "uæ", password: "secret"),
            URLCase(
                url: "smtp://u:p@127.0.0.1:2525?starttls=optional", host: "127.0.0.1", port: 2525, security: .startTLSOptional,
                username: "u", password: "p"),
            URLCase(url: "smtp://[::1]:2525?starttls=required", host: "::1", port: 2525, security: .startTLSRequired),
        ])
    func parsesURL(_ given: URLCase) throws {
        // when
        let configuration = try SMTPConfiguration.parseURL(given.url)

        // then
        #expect(configuration.host == given.host)
        #expect(configuration.port == given.port)
        #expect(configuration.security == given.security)
        #expect(configuration.username == given.username)
        #expect(configuration.password == given.password)
    }

    @Test("SMTP_URL: trust roots and timeouts")
    func options() throws {
        // when
        let configuration = try SMTPConfiguration.parse(
            url: "smtp://u:p@h?ca=/etc/meander/ca.pem&timeout=5&connect_timeout=2.5", from: "a@b.example",
            caFile: "/ignored.pem")
        let fromEnvironment = try SMTPConfiguration.parse(url: "smtp://h", from: "a@b.example", caFile: "/ca.pem")

        // then
        #expect(configuration.trustRootsFile == "/etc/meander/ca.pem")
        #expect(configuration.commandTimeout == 5)
        #expect(configuration.connectTimeout == 2.5)
        #expect(fromEnvironment.trustRootsFile == "/ca.pem")
        #expect(fromEnvironment.connectTimeout == 10)
        #expect(fromEnvironment.commandTimeout == 60)
    }

    @Test(
        "SMTP_URL: bad values are refused with a message that never shows the password",
        arguments: [
            ("http://u:hunter2@h", "unsupported scheme"),
            ("smtp://u:hunter2@", "no host"),
            ("smtp://u:hunter2@h?starttls=maybe", "not one of required, optional, never"),
            ("smtps://u:hunter2@h?starttls=required", "starttls is for smtp://"),
            ("smtp://u:hunter2@h?tls=1", "unknown option"),
            ("smtp://u@h", "without a password"),
            ("smtp://u:hunter2@h?timeout=0", "between 0 and 3600"),
            ("smtp://u:hunter2@h?ca=relative.pem", "absolute path"),
            ("smtp://u:hunter2@h/path", "has a path"),
            ("not a url u:hunter2@h", "not a URL"),
        ])
    func refusesURL(_ url: String, _ expected: String) {
        // when
        let problem = #expect(throws: SMTPConfiguration.Problem.self) { try SMTPConfiguration.parseURL(url) }

        // then
        #expect(problem?.message.contains(expected) == true, "\(problem?.message ?? "")")
        #expect(problem?.message.contains("hunter2") == false)
    }

    @Test("the description never shows the password")
    func description() throws {
        let configuration = try SMTPConfiguration.parseURL("smtp://user:hunter2@mail.example.org")
        #expect("\(configuration)" == "SMTP(smtp://user@mail.example.org:587, starttls: required)")
    }

    @Test("MAIL_FROM: a bare address, a name, a quoted name with æøå; bad ones refused")
    func sender() throws {
        #expect(try SMTPConfiguration.parseAddress("noreply@x.example") == .init(email: "noreply@x.example", name: nil))
        #expect(try SMTPConfiguration.parseAddress("Meander <noreply@x.example>") == .init(email: "noreply@x.example", name: "Meander"))
        #expect(try SMTPConfiguration.parseAddress("\"Ærlig Øst\" <a@x.example>") == .init(email: "a@x.example", name: "Ærlig Øst"))
        for bad in ["nope", "a@b@c", "Name <>", "a b@c.example", "<a@b.example>\r\nBcc: x@y", "a@b.example>"] {
            #expect(throws: SMTPConfiguration.Problem.self, "\(bad)") { try SMTPConfiguration.parseAddress(bad) }
        }
    }

    @Test("AppConfig: SMTP_URL and MAIL_FROM together, or neither; problems name the variable")
    func appConfig() throws {
        let cwd = FileManager.default.temporaryDirectory.appendingPathComponent("meander-config-\(UUID())").path
        let none = try AppConfig.load(from: [:], workingDirectory: cwd)
        let both = try AppConfig.load(
            from: ["SMTP_URL": "smtp://u:hunter2@mail.example.org", "MAIL_FROM": "Meander <a@x.example>"], workingDirectory: cwd)
        #expect(none.mail == nil)
        #expect(both.mail?.host == "mail.example.org")
        #expect(both.mail?.from == .init(email: "a@x.example", name: "Meander"))

        let error = #expect(throws: ConfigError.self) {
            try AppConfig.load(
                from: ["SMTP_URL": "smtp://u:hunter2@h?starttls=maybe", "MAIL_FROM": "nope", "SMTP_CA_FILE": "/no/such.pem"],
                workingDirectory: cwd)
        }
        let problems = error?.problems ?? []
        #expect(problems.contains { $0.hasPrefix("SMTP_URL: ") })
        #expect(problems.contains { $0.hasPrefix("MAIL_FROM: ") })
        #expect(!problems.joined().contains("hunter2"))
        let missing = #expect(throws: ConfigError.self) {
            try AppConfig.load(from: ["SMTP_URL": "smtp://h"], workingDirectory: cwd)
        }
        #expect(missing?.problems == ["MAIL_FROM: required when SMTP_URL is set"])
    }
}

import Foundation
import Testing

@testable import Meander

@Suite("SMS: configuration (SMS_URL, SMS_FROM, SMS_TOKEN, SMS_CA_FILE)")
struct SMSConfigurationTests {
    @Test("SMS_URL with a user and password: HTTP Basic, the endpoint without them, a description without the password")
    func basic() throws {
        // when
        let configuration = try #require(
            try SMSConfiguration.parse(environment: [
                "SMS_URL": "https://meander:p%40ss%3Aw0rd@sms.example.no/v1/messages", "SMS_FROM": "Meander",
                "SMS_CA_FILE": "/etc/meander/sms-ca.pem",
            ]))

        // then
        #expect(configuration.credentials == .basic(username: "meander", password: "p@ss:w0rd"))
        #expect(configuration.url.absoluteString == "https://sms.example.no/v1/messages")
        #expect(configuration.from == "Meander")
        #expect(configuration.trustRootsFile == "/etc/meander/sms-ca.pem")
        #expect(configuration.credentials.authorization == "Basic " + Data("meander:p@ss:w0rd".utf8).base64EncodedString())
        #expect(configuration.description == "SMS(https://meander@sms.example.no/v1/messages, from: Meander, auth: basic)")
        #expect(!"\(configuration)".contains("p@ss") && !"\(configuration)".contains("p%40ss"))
    }

    @Test("SMS_TOKEN: a Bearer token; the URL keeps its query and port; the description hides the token")
    func bearer() throws {
        // when
        let configuration = try #require(
            try SMSConfiguration.parse(environment: [
                "SMS_URL": "https://sms.example.no:8443/api/send?account=7", "SMS_FROM": "+4790000000",
                "SMS_TOKEN": " tok_9f8e7d6c5b4a ",
            ]))

        // then
        #expect(configuration.credentials == .bearer(token: "tok_9f8e7d6c5b4a"))
        #expect(configuration.credentials.authorization == "Bearer tok_9f8e7d6c5b4a")
        #expect(configuration.url.absoluteString == "https://sms.example.no:8443/api/send?account=7")
        #expect(configuration.trustRootsFile == nil)
        #expect(!"\(configuration)".contains("tok_9f8e7d6c5b4a"))
        #expect("\(configuration)".contains("auth: bearer"))
    }

    @Test("none of the variables set (or all blank): no SMS")
    func unset() throws {
        #expect(try SMSConfiguration.parse(environment: [:]) == nil)
        #expect(try SMSConfiguration.parse(environment: ["SMS_URL": " ", "SMS_FROM": "", "MAIL_FROM": "a@b.example"]) == nil)
    }

    @Test(
        "bad values: every problem at once, each starting with its variable, never a secret",
        arguments: [
            (["SMS_FROM": "Meander", "SMS_TOKEN": "hunter2"], ["SMS_URL: required when SMS_FROM, SMS_TOKEN is set"]),
            (["SMS_URL": "https://u:hunter2@sms.example.no/x"], ["SMS_FROM: required when SMS_URL is set"]),
            (
                ["SMS_URL": "http://u:hunter2@sms.example.no/x", "SMS_FROM": "Meander"],
                ["SMS_URL: http:// is allowed only for a loopback host; use https://"]
            ),
            (
                ["SMS_URL": "https://sms.example.no/x", "SMS_FROM": "Meander"],
                ["SMS_URL: no credentials; put user:password in the URL or set SMS_TOKEN"]
            ),
            (
                ["SMS_URL": "https://u:hunter2@sms.example.no/x", "SMS_FROM": "Meander", "SMS_TOKEN": "hunter3"],
                ["SMS_TOKEN: set beside credentials in SMS_URL; give either a user and password or a token"]
            ),
            (
                ["SMS_URL": "https://sms.example.no/x", "SMS_FROM": "Meander", "SMS_TOKEN": "hunter2 hunter3"],
                ["SMS_TOKEN: has spaces, control or non-ASCII characters; a Bearer token has none"]
            ),
            (
                ["SMS_URL": "ftp://u:hunter2@sms.example.no/x", "SMS_FROM": "Meander Ærlig AS", "SMS_CA_FILE": "ca.pem"],
                [
                    "SMS_URL: unsupported scheme 'ftp'; expected https://",
                    "SMS_FROM: 'Meander Ærlig AS' is not a sender id: at most 11 letters, digits or spaces with a letter (e.g. Meander), or a number of 3 to 15 digits",
                    "SMS_CA_FILE: 'ca.pem' is not an absolute path to a PEM file",
                ]
            ),
            (
                ["SMS_URL": "https://u@sms.example.no/x", "SMS_FROM": "12"],
                [
                    "SMS_URL: 'https://u@sms.example.no/x' gives a user without a password or a password without a user",
                    "SMS_FROM: '12' is not a sender id: at most 11 letters, digits or spaces with a letter (e.g. Meander), or a number of 3 to 15 digits",
                ]
            ),
            (
                ["SMS_URL": "https://u:hunter2@sms.example.no/x#frag", "SMS_FROM": "Meander"],
                ["SMS_URL: 'https://u:***@sms.example.no/x#frag' has a fragment (#…)"]
            ),
        ])
    func problems(_ environment: [String: String], _ expected: [String]) {
        // when
        let problems = #expect(throws: SMSConfiguration.Problems.self) { try SMSConfiguration.parse(environment: environment) }

        // then
        #expect(problems?.messages == expected)
        let shown = problems.map { "\($0)" } ?? ""
        #expect(!shown.isEmpty && !shown.contains("hunter"), "\(shown)")
    }

    @Test(
        "SMS_FROM: an alphanumeric sender of at most 11 characters with a letter, or a number",
        arguments: [
            ("Meander", true), ("NHF Trondhm", true), ("Meander2026", true), ("+4790000000", true), ("2270", true),
            ("MeanderNorge", false), ("Ærlig", false), ("12", false), ("Meander!", false), ("1234567890123456", false),
            ("+47 900 00 000", false),
        ])
    func senderID(_ sender: String, _ valid: Bool) {
        #expect(SMSConfiguration.isSenderID(sender) == valid)
    }
}

import Crypto
import Foundation
import Testing

@testable import Meander

@Suite("Push: configuration (APNS_*, FCM_*)")
struct PushConfigurationTests {
    /// A folder with an APNs key, a service account file and a CA file, removed when the test ends.
    final class Files: Sendable {
        let folder: URL
        let apnsKey: String
        let serviceAccount: String
        let certificate: String

        init(account: [String: String]? = nil) throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("meander-push-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            apnsKey = folder.appendingPathComponent("AuthKey_KEY1234567.p8").path
            try PushTestKeys.apnsKey.pemRepresentation.write(toFile: apnsKey, atomically: true, encoding: .utf8)
            serviceAccount = folder.appendingPathComponent("service-account.json").path
            let fields =
                account ?? [
                    "type": "service_account", "project_id": "meander-unit", "private_key_id": "unit-key-1",
                    "private_key": PushTestKeys.serviceAccountKey, "client_email": "push@meander-unit.iam.gserviceaccount.com",
                    "token_uri": "https://oauth2.googleapis.com/token",
                ]
            try JSONSerialization.data(withJSONObject: fields).write(to: URL(fileURLWithPath: serviceAccount))
            certificate = folder.appendingPathComponent("ca.pem").path
            try Self.certificatePEM.write(toFile: certificate, atomically: true, encoding: .utf8)
        }

        deinit { try? FileManager.default.removeItem(at: folder) }

        func write(_ name: String, _ text: String) throws -> String {
            let path = folder.appendingPathComponent(name).path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        var apnsEnvironment: [String: String] {
            ["APNS_KEY_FILE": apnsKey, "APNS_KEY_ID": "KEY1234567", "APNS_TEAM_ID": "TEAM123456", "APNS_TOPIC": "no.meander.app"]
        }

        /// Let's Encrypt's ISRG Root X1: any parseable certificate does.
        static let certificatePEM = """
            -----BEGIN CERTIFICATE-----
            MIIFazCCA1OgAwIBAgIRAIIQz7DSQONZRGPgu2OCiwAwDQYJKoZIhvcNAQELBQAw
            TzELMAkGA1UEBhMCVVMxKTAnBgNVBAoTIEludGVybmV0IFNlY3VyaXR5IFJlc2Vh
            cmNoIEdyb3VwMRUwEwYDVQQDEwxJU1JHIFJvb3QgWDEwHhcNMTUwNjA0MTEwNDM4
            WhcNMzUwNjA0MTEwNDM4WjBPMQswCQYDVQQGEwJVUzEpMCcGA1UEChMgSW50ZXJu
            ZXQgU2VjdXJpdHkgUmVzZWFyY2ggR3JvdXAxFTATBgNVBAMTDElTUkcgUm9vdCBY
            MTCCAiIwDQYJKoZIhvcNAQEBBQADggIPADCCAgoCggIBAK3oJHP0FDfzm54rVygc
            h77ct984kIxuPOZXoHj3dcKi/vVqbvYATyjb3miGbESTtrFj/RQSa78f0uoxmyF+
            0TM8ukj13Xnfs7j/EvEhmkvBioZxaUpmZmyPfjxwv60pIgbz5MDmgK7iS4+3mX6U
            A5/TR5d8mUgjU+g4rk8Kb4Mu0UlXjIB0ttov0DiNewNwIRt18jA8+o+u3dpjq+sW
            T8KOEUt+zwvo/7V3LvSye0rgTBIlDHCNAymg4VMk7BPZ7hm/ELNKjD+Jo2FR3qyH
            B5T0Y3HsLuJvW5iB4YlcNHlsdu87kGJ55tukmi8mxdAQ4Q7e2RCOFvu396j3x+UC
            B5iPNgiV5+I3lg02dZ77DnKxHZu8A/lJBdiB3QW0KtZB6awBdpUKD9jf1b0SHzUv
            KBds0pjBqAlkd25HN7rOrFleaJ1/ctaJxQZBKT5ZPt0m9STJEadao0xAH0ahmbWn
            OlFuhjuefXKnEgV4We0+UXgVCwOPjdAvBbI+e0ocS3MFEvzG6uBQE3xDk3SzynTn
            jh8BCNAw1FtxNrQHusEwMFxIt4I7mKZ9YIqioymCzLq9gwQbooMDQaHWBfEbwrbw
            qHyGO0aoSCqI3Haadr8faqU9GY/rOPNk3sgrDQoo//fb4hVC1CLQJ13hef4Y53CI
            rU7m2Ys6xt0nUW7/vGT1M0NPAgMBAAGjQjBAMA4GA1UdDwEB/wQEAwIBBjAPBgNV
            HRMBAf8EBTADAQH/MB0GA1UdDgQWBBR5tFnme7bl5AFzgAiIyBpY9umbbjANBgkq
            hkiG9w0BAQsFAAOCAgEAVR9YqbyyqFDQDLHYGmkgJykIrGF1XIpu+ILlaS/V9lZL
            ubhzEFnTIZd+50xx+7LSYK05qAvqFyFWhfFQDlnrzuBZ6brJFe+GnY+EgPbk6ZGQ
            3BebYhtF8GaV0nxvwuo77x/Py9auJ/GpsMiu/X1+mvoiBOv/2X/qkSsisRcOj/KK
            NFtY2PwByVS5uCbMiogziUwthDyC3+6WVwW6LLv3xLfHTjuCvjHIInNzktHCgKQ5
            ORAzI4JMPJ+GslWYHb4phowim57iaztXOoJwTdwJx4nLCgdNbOhdjsnvzqvHu7Ur
            TkXWStAmzOVyyghqpZXjFaH3pO3JLF+l+/+sKAIuvtd7u+Nxe5AW0wdeRlN8NwdC
            jNPElpzVmbUq4JUagEiuTDkHzsxHpFKVK7q4+63SM1N95R1NbdWhscdCb+ZAJzVc
            oyi3B43njTOQ5yOf+1CceWxG1bQVs5ZufpsMljq4Ui0/1lvh+wjChP4kqKOJ2qxq
            4RgqsahDYVvTH9w7jXbyLeiNdd8XM2w9U/t7y0Ff/9yi0GE44Za4rF2LN9d11TPA
            mRGunUHBcnWEvgJBQl9nJEiU0Zsnvgc/ubhPgXRR4Xq37Z0j4r7g1SgEEzwxA57d
            emyPxgcYxn/eR44/KJ4EBs+lVDR3veyJm+kXQ99b21/+jh5Xos1AnX5iItreGCc=
            -----END CERTIFICATE-----
            """
    }

    @Test("nothing set: both channels off")
    func off() throws {
        // when
        let configuration = try PushConfiguration.parse(environment: ["SMTP_URL": "smtp://h", "APNS_KEY_ID": "  "])

        // then
        #expect(configuration.apns == nil)
        #expect(configuration.fcm == nil)
        #expect(configuration.description == "Push(apns: off, fcm: off)")
    }

    @Test("APNs: the four variables, the production URL by default; the sandbox URL and trust roots when given")
    func apns() throws {
        // given
        let files = try Files()
        var environment = files.apnsEnvironment

        // when
        let production = try #require(try PushConfiguration.parse(environment: environment).apns)
        environment["APNS_URL"] = "https://api.sandbox.push.apple.com/"
        environment["APNS_CA_FILE"] = files.certificate
        let sandbox = try #require(try PushConfiguration.parse(environment: environment).apns)

        // then
        #expect(production.keyID == "KEY1234567")
        #expect(production.teamID == "TEAM123456")
        #expect(production.topic == "no.meander.app")
        #expect(production.url == "https://api.push.apple.com")
        #expect(production.trustRootsFile == nil)
        #expect(production.signingKey.pem == PushTestKeys.apnsKey.pemRepresentation)
        #expect(sandbox.url == "https://api.sandbox.push.apple.com")
        #expect(sandbox.trustRootsFile == files.certificate)
    }

    @Test("FCM: the service account file's fields, the default URL; FCM_URL and FCM_CA_FILE when given")
    func fcm() throws {
        // given
        let files = try Files()

        // when
        let plain = try #require(try PushConfiguration.parse(environment: ["FCM_SERVICE_ACCOUNT_FILE": files.serviceAccount]).fcm)
        let local = try #require(
            try PushConfiguration.parse(environment: [
                "FCM_SERVICE_ACCOUNT_FILE": files.serviceAccount, "FCM_URL": "https://127.0.0.1:8443",
                "FCM_CA_FILE": files.certificate,
            ]).fcm)

        // then
        #expect(plain.serviceAccount.projectID == "meander-unit")
        #expect(plain.serviceAccount.clientEmail == "push@meander-unit.iam.gserviceaccount.com")
        #expect(plain.serviceAccount.privateKeyID == "unit-key-1")
        #expect(plain.serviceAccount.tokenURI == "https://oauth2.googleapis.com/token")
        #expect(plain.url == "https://fcm.googleapis.com")
        #expect(plain.trustRootsFile == nil)
        #expect(local.url == "https://127.0.0.1:8443")
        #expect(local.trustRootsFile == files.certificate)
    }

    @Test("partly set: each missing variable is a problem naming what is set")
    func partial() {
        // when
        let problems = #expect(throws: PushConfiguration.Problems.self) {
            try PushConfiguration.parse(environment: [
                "APNS_KEY_ID": "KEY1234567", "APNS_URL": PushConfiguration.APNs.sandbox, "FCM_URL": "https://fcm.example",
            ])
        }

        // then
        #expect(
            problems?.messages == [
                "APNS_KEY_FILE: missing; APNs needs APNS_KEY_FILE, APNS_KEY_ID, APNS_TEAM_ID and APNS_TOPIC together (APNS_KEY_ID and APNS_URL are set)",
                "APNS_TEAM_ID: missing; APNs needs APNS_KEY_FILE, APNS_KEY_ID, APNS_TEAM_ID and APNS_TOPIC together (APNS_KEY_ID and APNS_URL are set)",
                "APNS_TOPIC: missing; APNs needs APNS_KEY_FILE, APNS_KEY_ID, APNS_TEAM_ID and APNS_TOPIC together (APNS_KEY_ID and APNS_URL are set)",
                "FCM_SERVICE_ACCOUNT_FILE: missing; FCM needs it (FCM_URL is set)",
            ])
    }

    @Test("bad values: every problem of both channels at once, each starting with its variable, no key in any")
    func badValues() throws {
        // given
        let files = try Files()
        let notAKey = try files.write("AuthKey_X.p8", "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")
        let environment = [
            "APNS_KEY_FILE": notAKey, "APNS_KEY_ID": "key1234567", "APNS_TEAM_ID": "TEAM12", "APNS_TOPIC": "no meander",
            "APNS_URL": "http://api.push.apple.com", "APNS_CA_FILE": files.apnsKey,
            "FCM_SERVICE_ACCOUNT_FILE": files.folder.appendingPathComponent("missing.json").path,
            "FCM_URL": "https://fcm.googleapis.com/v1", "FCM_CA_FILE": "relative.pem",
        ]

        // when
        let problems = try #require(
            #expect(throws: PushConfiguration.Problems.self) { try PushConfiguration.parse(environment: environment) })

        // then
        let prefixes = problems.messages.map { String($0.prefix(while: { $0 != ":" })) }
        #expect(
            prefixes == [
                "APNS_KEY_ID", "APNS_TEAM_ID", "APNS_TOPIC", "APNS_KEY_FILE", "APNS_URL", "APNS_CA_FILE", "FCM_SERVICE_ACCOUNT_FILE",
                "FCM_URL", "FCM_CA_FILE",
            ])
        #expect(problems.messages[3] == "APNS_KEY_FILE: \(notAKey) holds no P-256 private key in PEM (the AuthKey_KEYID.p8 file)")
        #expect(problems.messages[6].hasPrefix("FCM_SERVICE_ACCOUNT_FILE: cannot read "))
        #expect(!problems.description.contains("bm90IGEga2V5"))
        #expect(!problems.description.contains("BEGIN"))
    }

    struct AccountCase: Sendable, CustomTestStringConvertible {
        var change: @Sendable (inout [String: String]) -> Void
        var problem: String
        var testDescription: String { problem }
    }

    @Test(
        "the service account file: missing fields, a bad key or token_uri are problems that quote no key",
        arguments: [
            AccountCase(change: { $0["private_key"] = nil }, problem: "it has no private_key"),
            AccountCase(change: { $0["client_email"] = nil }, problem: "it has no client_email"),
            AccountCase(change: { $0["project_id"] = "a/b" }, problem: "project_id 'a/b' is not a project id"),
            AccountCase(change: { $0["client_email"] = "nobody" }, problem: "client_email 'nobody' is not an address"),
            AccountCase(
                change: { $0["private_key"] = PushTestKeys.apnsKey.pemRepresentation },
                problem: "private_key is not an RSA private key in PEM"),
            AccountCase(
                change: { $0["token_uri"] = "http://oauth2.googleapis.com/token" },
                problem: "token_uri 'http://oauth2.googleapis.com/token' is not an https URL"),
        ])
    func serviceAccount(_ given: AccountCase) throws {
        // given
        var fields = [
            "project_id": "meander-unit", "private_key_id": "k", "private_key": PushTestKeys.serviceAccountKey,
            "client_email": "push@meander-unit.iam.gserviceaccount.com", "token_uri": "https://oauth2.googleapis.com/token",
        ]
        given.change(&fields)
        let files = try Files(account: fields)

        // when
        let problems = #expect(throws: PushConfiguration.Problems.self) {
            try PushConfiguration.parse(environment: ["FCM_SERVICE_ACCOUNT_FILE": files.serviceAccount])
        }

        // then
        #expect(problems?.messages.count == 1)
        let message = try #require(problems?.messages.first)
        #expect(message.hasPrefix("FCM_SERVICE_ACCOUNT_FILE: "))
        #expect(message.hasSuffix(given.problem))
        #expect(!message.contains("PRIVATE KEY"))
    }

    @Test("the description, debug description and mirror show no key")
    func noSecrets() throws {
        // given
        let files = try Files()
        var environment = files.apnsEnvironment
        environment["FCM_SERVICE_ACCOUNT_FILE"] = files.serviceAccount

        // when
        let configuration = try PushConfiguration.parse(environment: environment)
        var dumped = ""
        dump(configuration, to: &dumped)

        // then
        #expect(
            configuration.description
                == "Push(apns: APNs(https://api.push.apple.com, key KEY1234567, team TEAM123456, topic no.meander.app), fcm: FCM(https://fcm.googleapis.com, project meander-unit as push@meander-unit.iam.gserviceaccount.com))"
        )
        for text in [configuration.description, String(reflecting: configuration), dumped] {
            #expect(!text.contains("PRIVATE KEY"))
            #expect(!text.contains(String(PushTestKeys.apnsKey.pemRepresentation.split(separator: "\n")[1])))
        }
    }
}

import Crypto
import Foundation
import Testing

@testable import Meander

/// The fake push providers that `scripts/with-push` starts (scripts/push_fake.py) and describes in `MEANDER_TEST_*`.
enum PushTestPeer {
    static let environment = ProcessInfo.processInfo.environment
    static let isRunning = !(environment["MEANDER_TEST_APNS_URL"] ?? "").isEmpty
    /// The project of the fake's service account; any `NAME@` it in this domain is one of its accounts.
    static let serviceAccountDomain = "meander-push-test.iam.gserviceaccount.com"

    /// The configuration the fake's settings make, through `PushConfiguration.parse` as the app reads it.
    static func configuration() throws -> PushConfiguration {
        try PushConfiguration.parse(environment: [
            "APNS_KEY_FILE": try variable("APNS_KEY_FILE"),
            "APNS_KEY_ID": try variable("APNS_KEY_ID"),
            "APNS_TEAM_ID": try variable("APNS_TEAM_ID"),
            "APNS_TOPIC": try variable("APNS_TOPIC"),
            "APNS_URL": try variable("APNS_URL"),
            "APNS_CA_FILE": try variable("PUSH_CA"),
            "FCM_SERVICE_ACCOUNT_FILE": try variable("FCM_SERVICE_ACCOUNT_FILE"),
            "FCM_URL": try variable("FCM_URL"),
            "FCM_CA_FILE": try variable("PUSH_CA"),
        ])
    }

    static func apns() throws -> PushConfiguration.APNs { try #require(try configuration().apns) }

    /// FCM as the fake's account, or as another account of its project (`NAME@…`) whose token exchanges a test can
    /// count on its own.
    static func fcm(accountName: String? = nil) throws -> PushConfiguration.FCM {
        var fcm = try #require(try configuration().fcm)
        if let accountName { fcm.serviceAccount.clientEmail = "\(accountName)@\(serviceAccountDomain)" }
        return fcm
    }

    static func variable(_ name: String) throws -> String {
        try #require(environment["MEANDER_TEST_\(name)"], "MEANDER_TEST_\(name) is not set")
    }

    /// A device token like the providers' (64 hex digits), after `prefix`, which chooses the fake's answer.
    static func deviceToken(_ prefix: String = "") -> String {
        prefix + (UUID().uuidString + UUID().uuidString).replacingOccurrences(of: "-", with: "").lowercased()
    }

    /// One answer of the fake, as it wrote it down.
    struct Record: Decodable {
        var service: String
        var status: Int
        var reason: String?
        var device: String?
        var httpVersion: String?
        var headers: [String: String]?
        /// APNs: the JSON body.
        var payload: JSONValue?
        /// FCM: the JSON body.
        var body: JSONValue?
        var jwt: SeenJWT?
        /// FCM and OAuth: which access token the fake issued or was shown (its serial number).
        var tokenNumber: Int?
        /// OAuth: the assertion's issuer, when accepted.
        var iss: String?
        var apnsID: String?
        var name: String?

        /// A JWT as the fake saw it: decoded header and claims, a SHA-256 prefix, whether its signature verified.
        struct SeenJWT: Decodable, Equatable {
            var header: [String: JSONValue]
            var claims: [String: JSONValue]
            var sha256: String
            var verified: Bool?
        }
    }

    /// Every answer of the fake so far.
    static func records() throws -> [Record] {
        let text = try String(contentsOfFile: try variable("PUSH_LOG"), encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONDecoder().decode(Record.self, from: Data($0.utf8)) }
    }

    static func records(device: String) throws -> [Record] { try records().filter { $0.device == device } }

    /// The token exchanges of one service account.
    static func exchanges(accountName: String) throws -> [Record] {
        try records().filter { $0.service == "oauth" && $0.jwt?.claims["iss"] == .string("\(accountName)@\(serviceAccountDomain)") }
    }

    static func message(
        title: String = "Påminnelse: Åse møter i morgen", body: String = "Ærlig talt: møtet er klokken 18 på kontoret.",
        data: [String: String] = ["url": "meander://activities/5f1c", "activity": "5f1c"], isUrgent: Bool = true,
        collapseID: String? = "activity-5f1c"
    ) -> PushMessage {
        PushMessage(title: title, body: body, data: data, isUrgent: isUrgent, collapseID: collapseID)
    }
}

/// Keys for the tests that need no fake. Made for these tests, used nowhere else.
enum PushTestKeys {
    /// A P-256 key, made anew for each run.
    static let apnsKey = P256.Signing.PrivateKey()

    /// An RSA 2048 key in PKCS#8 PEM (swift-crypto makes none), a fixture made with openssl for these tests only.
    static let serviceAccountKey = """
        -----BEGIN PRIVATE KEY-----
        MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC+YHX7+bQhmgb8
        xuVOE4eSBao8aBhPSRLi2ohDfK2EVIIyDEhEjTZWO8IOyKR+JcUIIkdS6NTBDPAw
        IVPQ6Yxa9DBee1fGvdpb7cFRufHxz8WGBEj4SZPNUyyF6f0aAWyPzbNAFdkMYpLR
        OcpMlJ9DcMqFY+5Uy2M+JxsV7VtVmwvM3htXw+JWlXggrRIkXCE4QYkO+qalhyyf
        9oschXvdDGLdi3MivvJdaBzaPHplGjbG1hoBOBTOu6XRk4AQXHqmzwuh5KTXZI8S
        qZ6FgP7f4xXs2fSDdTMy1jcZGvShNGhPbX1IZu4JQazmdK8z39nTRz/yZviBcXT2
        R+y+B6zhAgMBAAECggEAD+x+Geo4QrJBQN37GqWACrr+Ewjq9aDJW1/Hk4uHcQDn
        lfuYhOFh6OMdN4LZXXLX0PcbC6iNeStVoNT8z4Xld0sjC5gaDrXdIKDZsXYR8nW8
        UhokJ15yJjO9juL0SHtTgxDD3EmnisVo/eatUOwCiU/TJManzgBoJ+/58ELXB6kn
        zjtt+woVwx8+3Dt2S2XD8nKEqyM+GZrC0tM2hfXXe1Bk23gX08RvokFQbOb+3/99
        22DbToEl75uMe/AOLx3qzIL5Byox3wLDl2ySbD4FxWty9mboUncphOY5Elskvva3
        Dp75SVU7Nn7joTNp2w3uMnL9f5krJ7fPrfSSIRpv1QKBgQD+Lw/94CXLIpEHmF11
        Vc22jg7X7BcqOiFJUkJPyd+O6w4md4ZWqaOndDeXbIzkLrIH5RHQh6mAWYf+PMfB
        GIawR+cE2GSQ01JpIYJeS/2QnlOH/VlPrAJr7icmpX/s24YJh3RTbq6RETXQwzzP
        IX2kzi7XcKbxxH0Q6zfcagDKHQKBgQC/vK+8/FNMKdkUPeb0pS1MeYmtf3/r2pYk
        +9AqaMFjW8x3+KZglJnSAZrHkcn7n25Fy2YhXZvedFCvsjEjeJVcC1i8cf8l+Wq4
        8jVHoqZ3kFiDBrr5VB2n6vMJvxM4hb0If4Qi9aJvZ63MpvVHISOm3pUE4QjVBOXx
        Gd3kVAwSlQKBgDI19cC+0HhqIaAQdxXAl1xif4gjuQe8Z+rl9vdv91tyD1+F6OGh
        rRRdHsYoyUQh/UUV+QjqY49ZIEYWl5cLUz/rVDVe0a7SL8tYtToPZM12mSWZ5FSa
        s/fCGbXGp5iQXM/xFAePK6i4b5sHljGMehdeK16fgDruB46aCHTf87v5AoGBALn0
        vRh0PDFNEO1xz/IL1PArm9y6II3VdPMvikfnS1Aa8yaT8IEQ/lJQHhZaDeRNTvy/
        9TB9AjPw6WRNVR0K0QjxNEGn6gahbOEsf4IXfI3PYBjLyUERVKXL16TnPTP/eUOp
        sLTbOIwFqOkoMBCpUlN/4lVWD2PSGVUJekv9O6w1AoGAKplmQ7mL+9v5O1arFNDG
        VqW0g3IWheqzhuer+jwfuSFQnn497IVdeeCW4SFShyG47reBp6HSwdEkQCxIaLJx
        NhMNw3qG9fINrusMtWJ5g91y2nAwH1pxtmB8yPMuNN9N7cCwfBGkPchraofoC9Fl
        XtHkeh4PhmDI1QMwgaAgvvU=
        -----END PRIVATE KEY-----
        """

    static let serviceAccount = PushConfiguration.ServiceAccount(
        projectID: "meander-unit", clientEmail: "push@meander-unit.iam.gserviceaccount.com", privateKeyID: "unit-key-1",
        privateKey: .init(serviceAccountKey), tokenURI: "https://oauth2.example.test/token")

    static let apns = PushConfiguration.APNs(
        keyID: "KEY1234567", teamID: "TEAM123456", topic: "no.meander.app", signingKey: .init(apnsKey.pemRepresentation),
        url: "https://127.0.0.1:9")
}

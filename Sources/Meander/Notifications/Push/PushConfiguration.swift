import Crypto
import Foundation
import JWTKit
import NIOSSL

/// Which push providers are on and how to reach them: the `APNS_*` and `FCM_*` variables, parsed and checked.
///
/// Each channel is off while none of its variables is set, and a problem when only some are. The key files are read
/// and their keys parsed here, so that a bad key stops the start, not the first push. Descriptions show neither key.
struct PushConfiguration: Sendable, Equatable, CustomStringConvertible {
    /// APNs with token authentication: a team's `.p8` signing key.
    var apns: APNs?
    /// FCM HTTP v1 with a service account.
    var fcm: FCM?

    /// Apple Push Notification service, from `APNS_KEY_FILE`, `APNS_KEY_ID`, `APNS_TEAM_ID`, `APNS_TOPIC`, `APNS_URL`
    /// and `APNS_CA_FILE`.
    struct APNs: Sendable, Equatable, CustomStringConvertible {
        static let production = "https://api.push.apple.com"
        static let sandbox = "https://api.sandbox.push.apple.com"

        /// `APNS_KEY_ID`: the key's id, the `kid` of the provider token.
        var keyID: String
        /// `APNS_TEAM_ID`: the developer team, the provider token's `iss`.
        var teamID: String
        /// `APNS_TOPIC`: the app's bundle id.
        var topic: String
        /// The P-256 signing key from `APNS_KEY_FILE` (`AuthKey_KEYID.p8`).
        var signingKey: PrivateKeyPEM
        /// `APNS_URL` (default `https://api.push.apple.com`; `https://api.sandbox.push.apple.com` for development
        /// builds): scheme, host and port, without a trailing slash.
        var url: String = APNs.production
        /// `APNS_CA_FILE`: a PEM file of certificates trusted instead of the system's roots (for a test peer).
        var trustRootsFile: String?
        /// For one request, connecting included.
        var timeout: TimeInterval = 30

        var description: String { "APNs(\(url), key \(keyID), team \(teamID), topic \(topic))" }
    }

    /// Firebase Cloud Messaging HTTP v1, from `FCM_SERVICE_ACCOUNT_FILE`, `FCM_URL` and `FCM_CA_FILE`.
    struct FCM: Sendable, Equatable, CustomStringConvertible {
        static let production = "https://fcm.googleapis.com"

        var serviceAccount: ServiceAccount
        /// `FCM_URL` (default `https://fcm.googleapis.com`), without a trailing slash.
        var url: String = FCM.production
        /// `FCM_CA_FILE`: a PEM file of certificates trusted instead of the system's roots, for FCM and the token
        /// endpoint.
        var trustRootsFile: String?
        /// For one request, connecting included.
        var timeout: TimeInterval = 30

        var description: String { "FCM(\(url), project \(serviceAccount.projectID) as \(serviceAccount.clientEmail))" }
    }

    /// The fields of a Google service account key file that FCM needs.
    struct ServiceAccount: Sendable, Equatable, Decodable, CustomStringConvertible {
        var projectID: String
        var clientEmail: String
        /// The `kid` of the assertions; Google finds the key by it.
        var privateKeyID: String?
        /// The RSA key, PEM.
        var privateKey: PrivateKeyPEM
        /// Where the signed assertion is exchanged for an access token.
        var tokenURI: String

        enum CodingKeys: String, CodingKey {
            case projectID = "project_id"
            case clientEmail = "client_email"
            case privateKeyID = "private_key_id"
            case privateKey = "private_key"
            case tokenURI = "token_uri"
        }

        var description: String { "ServiceAccount(\(clientEmail), project \(projectID), token_uri \(tokenURI))" }
    }

    /// A private key in PEM, never shown: not by `description`, `debugDescription` nor a mirror.
    struct PrivateKeyPEM: Sendable, Equatable, Decodable, CustomStringConvertible, CustomDebugStringConvertible,
        CustomReflectable
    {
        var pem: String

        init(_ pem: String) { self.pem = pem }

        init(from decoder: any Decoder) throws {
            pem = try decoder.singleValueContainer().decode(String.self)
        }

        var description: String { "<private key>" }
        var debugDescription: String { description }
        var customMirror: Mirror { Mirror(self, children: []) }
    }

    /// Every problem of the variables, each message starting with the variable's name.
    struct Problems: Error, Equatable, CustomStringConvertible {
        var messages: [String]
        var description: String { messages.joined(separator: "; ") }
    }

    var description: String {
        "Push(apns: \(apns.map { "\($0)" } ?? "off"), fcm: \(fcm.map { "\($0)" } ?? "off"))"
    }

    private static let apnsRequired = ["APNS_KEY_FILE", "APNS_KEY_ID", "APNS_TEAM_ID", "APNS_TOPIC"]
    private static let apnsOptional = ["APNS_URL", "APNS_CA_FILE"]
    private static let fcmRequired = ["FCM_SERVICE_ACCOUNT_FILE"]
    private static let fcmOptional = ["FCM_URL", "FCM_CA_FILE"]

    /// Parses the `APNS_*` and `FCM_*` variables, reading the key files they name; reports the problems of both
    /// channels at once. An empty variable counts as unset.
    static func parse(environment: [String: String]) throws(Problems) -> PushConfiguration {
        var messages: [String] = []
        func value(_ name: String) -> String? {
            guard let raw = environment[name]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            return raw
        }
        /// Whether the channel is off; reports the required variables missing beside those set.
        func isOff(_ required: [String], optional: [String], channel: String) -> Bool {
            let set = (required + optional).filter { value($0) != nil }
            guard !set.isEmpty else { return true }
            for name in required where value(name) == nil {
                let needs = required.count == 1 ? "it" : "\(list(required)) together"
                messages.append("\(name): missing; \(channel) needs \(needs) (\(list(set)) \(set.count == 1 ? "is" : "are") set)")
            }
            return false
        }

        var configuration = PushConfiguration()
        if !isOff(apnsRequired, optional: apnsOptional, channel: "APNs") {
            configuration.apns = parseAPNs(value, problems: &messages)
        }
        if !isOff(fcmRequired, optional: fcmOptional, channel: "FCM") {
            configuration.fcm = parseFCM(value, problems: &messages)
        }
        guard messages.isEmpty else { throw Problems(messages: messages) }
        return configuration
    }

    private static func parseAPNs(_ value: (String) -> String?, problems: inout [String]) -> APNs? {
        let keyID = value("APNS_KEY_ID")
        let teamID = value("APNS_TEAM_ID")
        let topic = value("APNS_TOPIC")
        var key: PrivateKeyPEM?
        if let keyID, !isAppleID(keyID) {
            problems.append("APNS_KEY_ID: '\(keyID)' is not a key id (10 letters and digits, as on the key's page)")
        }
        if let teamID, !isAppleID(teamID) {
            problems.append("APNS_TEAM_ID: '\(teamID)' is not a team id (10 letters and digits)")
        }
        if let topic, !isBundleID(topic) {
            problems.append("APNS_TOPIC: '\(topic)' is not a bundle id (letters, digits, '.' and '-', e.g. no.example.app)")
        }
        if let file = value("APNS_KEY_FILE") {
            do {
                let pem = try read(file)
                _ = try P256.Signing.PrivateKey(pemRepresentation: pem)
                key = PrivateKeyPEM(pem)
            } catch let error as ReadProblem {
                problems.append("APNS_KEY_FILE: \(error.message)")
            } catch {
                problems.append("APNS_KEY_FILE: \(file) holds no P-256 private key in PEM (the AuthKey_KEYID.p8 file)")
            }
        }
        let url = checkedURL(value("APNS_URL"), name: "APNS_URL", example: APNs.production, problems: &problems)
        let trustRoots = checkedTrustRoots(value("APNS_CA_FILE"), name: "APNS_CA_FILE", problems: &problems)
        guard let keyID, let teamID, let topic, let key, let url, isAppleID(keyID), isAppleID(teamID), isBundleID(topic)
        else { return nil }
        return APNs(keyID: keyID, teamID: teamID, topic: topic, signingKey: key, url: url, trustRootsFile: trustRoots)
    }

    private static func parseFCM(_ value: (String) -> String?, problems: inout [String]) -> FCM? {
        var account: ServiceAccount?
        if let file = value("FCM_SERVICE_ACCOUNT_FILE") {
            do throws(ReadProblem) {
                account = try parseServiceAccount(Data(read(file).utf8), file: file)
            } catch {
                problems.append("FCM_SERVICE_ACCOUNT_FILE: \(error.message)")
            }
        }
        let url = checkedURL(value("FCM_URL"), name: "FCM_URL", example: FCM.production, problems: &problems)
        let trustRoots = checkedTrustRoots(value("FCM_CA_FILE"), name: "FCM_CA_FILE", problems: &problems)
        guard let account, let url else { return nil }
        return FCM(serviceAccount: account, url: url, trustRootsFile: trustRoots)
    }

    /// A service account key file's JSON, checked: the fields FCM needs, an RSA key that parses, an https token URI.
    static func parseServiceAccount(_ json: Data, file: String) throws(ReadProblem) -> ServiceAccount {
        let account: ServiceAccount
        do {
            account = try JSONDecoder().decode(ServiceAccount.self, from: json)
        } catch DecodingError.keyNotFound(let key, _) {
            throw ReadProblem(message: "\(file) is not a service account key: it has no \(key.stringValue)")
        } catch {
            throw ReadProblem(
                message: "\(file) is not a service account key (JSON with project_id, client_email, private_key, token_uri)")
        }
        guard !account.projectID.isEmpty, account.projectID.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
        else {
            throw ReadProblem(message: "\(file): project_id '\(account.projectID)' is not a project id")
        }
        guard SMTPConfiguration.isMailbox(account.clientEmail) else {
            throw ReadProblem(message: "\(file): client_email '\(account.clientEmail)' is not an address")
        }
        guard (try? JWTKit.Insecure.RSA.PrivateKey(pem: account.privateKey.pem)) != nil else {
            throw ReadProblem(message: "\(file): private_key is not an RSA private key in PEM")
        }
        guard let url = URLComponents(string: account.tokenURI), url.scheme == "https", url.host?.isEmpty == false else {
            throw ReadProblem(message: "\(file): token_uri '\(account.tokenURI)' is not an https URL")
        }
        return account
    }

    /// A file that cannot be read or does not hold what it should; the message never quotes the file's content.
    struct ReadProblem: Error, Equatable {
        var message: String
    }

    private static func read(_ file: String) throws(ReadProblem) -> String {
        guard file.hasPrefix("/") else { throw ReadProblem(message: "'\(file)' is not an absolute path") }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ReadProblem(message: "cannot read \(file)")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw ReadProblem(message: "\(file) is not UTF-8 text") }
        return text
    }

    private static func checkedURL(_ raw: String?, name: String, example: String, problems: inout [String]) -> String? {
        guard let raw else { return example }
        var text = raw
        while text.hasSuffix("/") { text.removeLast() }
        guard let components = URLComponents(string: text), components.scheme?.lowercased() == "https",
            let host = components.host, !host.isEmpty, components.path.isEmpty, components.query == nil,
            components.user == nil, components.password == nil
        else {
            problems.append("\(name): '\(raw)' is not an https URL of a server without a path, e.g. \(example)")
            return nil
        }
        return text
    }

    private static func checkedTrustRoots(_ file: String?, name: String, problems: inout [String]) -> String? {
        guard let file else { return nil }
        guard file.hasPrefix("/") else {
            problems.append("\(name): '\(file)' is not an absolute path to a PEM file")
            return nil
        }
        guard let certificates = try? NIOSSLCertificate.fromPEMFile(file), !certificates.isEmpty else {
            problems.append("\(name): \(file) cannot be read as PEM certificates")
            return nil
        }
        return file
    }

    /// Apple's key and team ids: 10 uppercase letters and digits.
    static func isAppleID(_ text: String) -> Bool {
        text.count == 10 && text.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber) }
    }

    static func isBundleID(_ text: String) -> Bool {
        text.utf8.count <= 255 && text.contains(".") && !text.hasPrefix(".") && !text.hasSuffix(".")
            && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") }
    }

    private static func list(_ names: [String]) -> String {
        names.count <= 1 ? names.joined() : names.dropLast().joined(separator: ", ") + " and " + names.last!
    }
}

import Foundation

/// Where and how text messages are sent: `SMS_URL`, `SMS_FROM`, `SMS_TOKEN` and `SMS_CA_FILE`, parsed and checked.
///
/// `SMS_URL` is the provider's endpoint for new messages (`https://user:pass@sms.example.no/v1/messages`); the user
/// and password in it are sent as HTTP Basic credentials, or `SMS_TOKEN` as a Bearer token. Its description never
/// shows the password or the token.
struct SMSConfiguration: Sendable, Equatable, CustomStringConvertible {
    /// How requests authenticate.
    enum Credentials: Sendable, Equatable {
        case basic(username: String, password: String)
        case bearer(token: String)

        /// The `Authorization` header's value.
        var authorization: String {
            switch self {
            case .basic(let username, let password): "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
            case .bearer(let token): "Bearer \(token)"
            }
        }
    }

    /// The endpoint without credentials; query included.
    var url: URL
    var credentials: Credentials
    /// `SMS_FROM`: the sender shown on the phone, an alphanumeric id (at most 11 characters) or a number.
    var from: String
    /// `SMS_CA_FILE`: a PEM file of certificates trusted instead of the system's roots.
    var trustRootsFile: String?
    /// For one request, connecting included.
    var timeout: TimeInterval = 15

    var description: String {
        let user: String
        switch credentials {
        case .basic(let username, _): user = "\(username)@"
        case .bearer: user = ""
        }
        let auth = if case .basic = credentials { "basic" } else { "bearer" }
        let port = url.port.map { ":\($0)" } ?? ""
        return "SMS(\(url.scheme ?? "")://\(user)\(url.host ?? "")\(port)\(url.path), from: \(from), auth: \(auth))"
    }

    /// Every problem of the variables, each message starting with the variable's name; never a secret.
    struct Problems: Error, Equatable, CustomStringConvertible {
        var messages: [String]
        var description: String { messages.joined(separator: "; ") }
    }

    /// Reads `SMS_URL`, `SMS_FROM`, `SMS_TOKEN` and `SMS_CA_FILE` (blank counts as unset); nil when none is set (no
    /// SMS). Reports every problem at once.
    static func parse(environment: [String: String]) throws(Problems) -> SMSConfiguration? {
        func value(_ key: String) -> String? {
            guard let raw = environment[key]?.trimmingCharacters(in: .whitespacesAndNewlines), !raw.isEmpty else {
                return nil
            }
            return raw
        }
        let rawURL = value("SMS_URL")
        let from = value("SMS_FROM")
        let token = value("SMS_TOKEN")
        let caFile = value("SMS_CA_FILE")
        guard let rawURL else {
            if from == nil, token == nil, caFile == nil { return nil }
            let others = [("SMS_FROM", from), ("SMS_TOKEN", token), ("SMS_CA_FILE", caFile)].filter { $0.1 != nil }.map(\.0)
            throw Problems(messages: ["SMS_URL: required when \(others.joined(separator: ", ")) is set"])
        }

        var messages: [String] = []
        var endpoint: (url: URL, user: String?, password: String?)?
        do {
            endpoint = try parseURL(rawURL)
        } catch {
            messages.append("SMS_URL: \(error.message)")
        }
        var credentials: Credentials?
        if let endpoint {
            switch (endpoint.user, endpoint.password, token) {
            case (let user?, let password?, nil): credentials = .basic(username: user, password: password)
            case (nil, nil, let token?):
                if !token.allSatisfy({ $0.asciiValue.map { (0x21...0x7E).contains($0) } ?? false }) {
                    messages.append("SMS_TOKEN: has spaces, control or non-ASCII characters; a Bearer token has none")
                } else {
                    credentials = .bearer(token: token)
                }
            case (_?, _?, _?):
                messages.append("SMS_TOKEN: set beside credentials in SMS_URL; give either a user and password or a token")
            default:
                messages.append("SMS_URL: no credentials; put user:password in the URL or set SMS_TOKEN")
            }
        }
        if let from {
            if !isSenderID(from) {
                messages.append(
                    "SMS_FROM: '\(from)' is not a sender id: at most 11 letters, digits or spaces with a letter (e.g. Meander), or a number of 3 to 15 digits"
                )
            }
        } else {
            messages.append("SMS_FROM: required when SMS_URL is set")
        }
        if let caFile, !caFile.hasPrefix("/") {
            messages.append("SMS_CA_FILE: '\(caFile)' is not an absolute path to a PEM file")
        }
        guard messages.isEmpty, let endpoint, let credentials, let from else { throw Problems(messages: messages) }
        return SMSConfiguration(url: endpoint.url, credentials: credentials, from: from, trustRootsFile: caFile)
    }

    /// A bad `SMS_URL`; the message never holds the password.
    struct Problem: Error, Equatable {
        var message: String
    }

    /// The endpoint without credentials, and the percent-decoded user and password (nil when absent).
    static func parseURL(_ raw: String) throws(Problem) -> (url: URL, user: String?, password: String?) {
        guard var components = URLComponents(string: raw), let scheme = components.scheme?.lowercased() else {
            throw Problem(message: "'\(redacted(raw))' is not a URL; expected https://user:pass@sms.example.no/v1/messages")
        }
        guard let host = components.host, !host.isEmpty else { throw Problem(message: "'\(redacted(raw))' has no host") }
        switch scheme {
        case "https": break
        case "http":
            // Credentials in clear text only to a peer on this machine (a test provider or a local relay).
            guard ["localhost", "127.0.0.1", "::1", "[::1]"].contains(host.lowercased()) else {
                throw Problem(message: "http:// is allowed only for a loopback host; use https://")
            }
        default:
            throw Problem(message: "unsupported scheme '\(scheme)'; expected https://")
        }
        if let port = components.port, !(1...65535).contains(port) {
            throw Problem(message: "port \(port) is out of range")
        }
        if components.fragment != nil { throw Problem(message: "'\(redacted(raw))' has a fragment (#…)") }
        let user = components.user.flatMap { $0.isEmpty ? nil : $0 }
        let password = components.password
        if (user == nil) != (password == nil) {
            throw Problem(message: "'\(redacted(raw))' gives a user without a password or a password without a user")
        }
        if let user, user.contains(":") || user.contains(where: \.isNewline) {
            throw Problem(message: "the user may not contain ':' or a line break")
        }
        components.user = nil
        components.password = nil
        guard let url = components.url else { throw Problem(message: "'\(redacted(raw))' is not a URL") }
        return (url, user, password)
    }

    /// An alphanumeric sender (1 to 11 ASCII letters, digits and spaces, with a letter) or a number (3 to 15 digits,
    /// `+` allowed first).
    static func isSenderID(_ sender: String) -> Bool {
        let digits = sender.hasPrefix("+") ? sender.dropFirst() : Substring(sender)
        if (3...15).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }) { return true }
        return (1...11).contains(sender.count) && sender.contains(where: { $0.isASCII && $0.isLetter })
            && sender.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == " ") }
    }

    /// The URL with its password replaced, for messages.
    static func redacted(_ raw: String) -> String { SMTPConfiguration.redacted(raw) }
}

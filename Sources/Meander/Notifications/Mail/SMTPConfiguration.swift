import Foundation

/// Where and how e-mail is sent: `SMTP_URL` and `MAIL_FROM` (and `SMTP_CA_FILE`), parsed and checked.
///
/// `smtp://user:pass@host:587?starttls=required` speaks plain SMTP and upgrades with STARTTLS; `smtps://host:465`
/// starts TLS on connect. Its description never shows the password.
struct SMTPConfiguration: Sendable, Equatable, CustomStringConvertible {
    /// How the connection is protected.
    enum Security: String, Sendable, Equatable {
        /// `smtps://`: TLS from the first byte.
        case implicitTLS = "tls"
        /// `starttls=required`: no STARTTLS offered, no mail sent (the default with credentials).
        case startTLSRequired = "required"
        /// `starttls=optional`: STARTTLS when offered; without it only mail without credentials goes out.
        case startTLSOptional = "optional"
        /// `starttls=never`: plain text, credentials included (for a relay on the same host).
        case plain = "never"
    }

    var host: String
    var port: Int
    var security: Security
    var username: String?
    var password: String?
    /// `MAIL_FROM`: the envelope and header sender.
    var from: MailMessage.Address
    /// `?ca=PATH` or `SMTP_CA_FILE`: a PEM file of certificates trusted instead of the system's roots.
    var trustRootsFile: String?
    /// `?connect_timeout=SECONDS` (default 10): to open the connection.
    var connectTimeout: TimeInterval = 10
    /// `?timeout=SECONDS` (default 60): for each reply, the TLS handshake included.
    var commandTimeout: TimeInterval = 60
    /// `?pool=N` (default 16, 0 to close every connection after its message): connections kept open for the next
    /// message.
    var poolSize = 16
    /// How long a kept connection may wait for the next message (seconds), and how many messages it carries at most.
    var idleTimeout: TimeInterval = 20
    var messagesPerConnection = 100

    var description: String {
        let user = username.map { "\($0)@" } ?? ""
        return "SMTP(\(security == .implicitTLS ? "smtps" : "smtp")://\(user)\(host):\(port), starttls: \(security.rawValue))"
    }

    /// A bad `SMTP_URL` or `MAIL_FROM`; the message never holds the password.
    struct Problem: Error, Equatable, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// Every problem of the variables, each message starting with the variable's name.
    struct Problems: Error, Equatable {
        var messages: [String]
    }

    /// Parses `SMTP_URL` and `MAIL_FROM`; `caFile` is `SMTP_CA_FILE`, used when the URL has no `ca`. Reports the
    /// problems of both at once.
    static func parse(url raw: String, from: String, caFile: String? = nil) throws(Problems) -> SMTPConfiguration {
        var messages: [String] = []
        var configuration: SMTPConfiguration?
        do {
            configuration = try parseURL(raw)
        } catch {
            messages.append("SMTP_URL: \(error.message)")
        }
        do {
            // Parsed whether or not the URL was: a bad sender is reported beside a bad URL.
            let sender = try parseAddress(from)
            configuration?.from = sender
        } catch {
            messages.append("MAIL_FROM: \(error.message)")
        }
        if configuration?.trustRootsFile == nil { configuration?.trustRootsFile = caFile }
        guard messages.isEmpty, let configuration else { throw Problems(messages: messages) }
        return configuration
    }

    /// Parses `SMTP_URL`; the sender is left empty.
    static func parseURL(_ raw: String) throws(Problem) -> SMTPConfiguration {
        guard let components = URLComponents(string: raw), let scheme = components.scheme?.lowercased() else {
            throw Problem(message: "'\(redacted(raw))' is not a URL; expected smtp://user:pass@host:587 or smtps://host:465")
        }
        guard scheme == "smtp" || scheme == "smtps" else {
            throw Problem(message: "unsupported scheme '\(scheme)'; expected smtp:// (STARTTLS) or smtps:// (TLS on connect)")
        }
        guard let host = components.host, !host.isEmpty else {
            throw Problem(message: "'\(redacted(raw))' has no host")
        }
        if let port = components.port, !(1...65535).contains(port) {
            throw Problem(message: "port \(port) is out of range")
        }
        guard components.path.isEmpty || components.path == "/" else {
            throw Problem(message: "'\(redacted(raw))' has a path; an SMTP URL names only a server")
        }
        let username = components.user.flatMap { $0.isEmpty ? nil : $0 }
        let password = components.password
        if (username == nil) != (password == nil) {
            throw Problem(message: "'\(redacted(raw))' gives a user without a password or a password without a user")
        }

        var security: Security = scheme == "smtps" ? .implicitTLS : (username == nil ? .startTLSOptional : .startTLSRequired)
        var trustRootsFile: String?
        var connectTimeout: TimeInterval = 10
        var commandTimeout: TimeInterval = 60
        var poolSize = 16
        func seconds(_ item: URLQueryItem) throws(Problem) -> TimeInterval {
            guard let value = item.value, let number = Double(value), number > 0, number <= 3600 else {
                throw Problem(message: "\(item.name)='\(item.value ?? "")' is not a number of seconds between 0 and 3600")
            }
            return number
        }
        for item in components.queryItems ?? [] {
            switch item.name.lowercased() {
            case "starttls":
                guard scheme == "smtp" else {
                    throw Problem(message: "starttls is for smtp:// URLs; smtps:// starts TLS on connect")
                }
                guard let value = item.value?.lowercased(), let chosen = Security(rawValue: value), chosen != .implicitTLS
                else {
                    throw Problem(message: "starttls='\(item.value ?? "")' is not one of required, optional, never")
                }
                security = chosen
            case "ca":
                guard let path = item.value, path.hasPrefix("/") else {
                    throw Problem(message: "ca='\(item.value ?? "")' is not an absolute path to a PEM file")
                }
                trustRootsFile = path
            case "connect_timeout": connectTimeout = try seconds(item)
            case "timeout": commandTimeout = try seconds(item)
            case "pool":
                guard let value = item.value.flatMap({ Int($0) }), (0...256).contains(value) else {
                    throw Problem(message: "pool='\(item.value ?? "")' is not a whole number between 0 and 256")
                }
                poolSize = value
            default:
                throw Problem(
                    message: "unknown option '\(item.name)'; expected starttls, ca, connect_timeout, timeout or pool")
            }
        }
        let defaultPort = scheme == "smtps" ? 465 : (security == .plain ? 25 : 587)
        var configuration = SMTPConfiguration(
            host: host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host,
            port: components.port ?? defaultPort, security: security, username: username, password: password,
            from: MailMessage.Address(email: "", name: nil), trustRootsFile: trustRootsFile,
            connectTimeout: connectTimeout, commandTimeout: commandTimeout)
        configuration.poolSize = poolSize
        return configuration
    }

    /// Parses `addr@example.org`, `Name <addr@example.org>` or `"Name" <addr@example.org>`.
    static func parseAddress(_ raw: String) throws(Problem) -> MailMessage.Address {
        let text = raw.trimmingCharacters(in: .whitespaces)
        var name: String?
        var email = text
        if text.hasSuffix(">"), let open = text.lastIndex(of: "<") {
            email = String(text[text.index(after: open)..<text.index(before: text.endIndex)])
            var given = text[..<open].trimmingCharacters(in: .whitespaces)
            if given.count >= 2, given.hasPrefix("\""), given.hasSuffix("\"") { given = String(given.dropFirst().dropLast()) }
            name = given.isEmpty ? nil : given
        }
        guard isMailbox(email) else {
            throw Problem(message: "'\(raw)' is not an address (addr@example.org or Name <addr@example.org>)")
        }
        if let name, name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == "\"" }) {
            throw Problem(message: "'\(raw)' has a name with control characters or quotes")
        }
        return MailMessage.Address(email: email, name: name)
    }

    /// A plain `local@domain`: one `@`, no spaces, controls or the characters that would break a header or command.
    static func isMailbox(_ email: String) -> Bool {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, email.utf8.count <= 254 else { return false }
        return email.unicodeScalars.allSatisfy { scalar in
            scalar.value > 0x20 && scalar.value != 0x7F && !"<>()[]\\,;:\"".unicodeScalars.contains(scalar)
        }
    }

    /// The URL with its password replaced, for messages.
    static func redacted(_ raw: String) -> String {
        guard var components = URLComponents(string: raw) else {
            // Not even a URL: whatever sits between "://" and "@" may be a password.
            guard let at = raw.lastIndex(of: "@") else { return raw }
            return "***" + raw[at...]
        }
        guard components.password != nil else { return raw }
        components.password = "***"
        return components.string ?? "<unparseable>"
    }
}

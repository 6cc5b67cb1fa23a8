import Foundation

/// An e-mail as the SMTP client sends it: a text part and, optionally, an HTML part (multipart/alternative), with
/// headers that carry æøå as RFC 2047 encoded words and bodies in base64, so that every line is 7-bit and short.
struct MailMessage: Sendable, Equatable {
    struct Address: Sendable, Equatable {
        var email: String
        var name: String?
    }

    var from: Address
    var to: Address
    var subject: String
    var text: String
    var html: String?
    /// `<id@domain>`, unique per message: a retried delivery sends the same one.
    var messageID: String
    var date: Date

    /// The message in RFC 5322 form with CRLF line ends, before the SMTP transparency (`SMTPData.stuffed`).
    func rendered(boundary: String) -> String {
        var headers = [
            "From: \(Self.header(address: from))",
            "To: \(Self.header(address: to))",
            "Subject: \(Self.encodedWords(subject, prefix: "Subject: ".count))",
            "Date: \(Self.rfc5322Date(date))",
            "Message-ID: \(messageID)",
            "MIME-Version: 1.0",
        ]
        var body: [String] = []
        if let html {
            headers.append("Content-Type: multipart/alternative; boundary=\"\(boundary)\"")
            body.append("--\(boundary)")
            body += Self.part(text, type: "text/plain")
            body.append("--\(boundary)")
            body += Self.part(html, type: "text/html")
            body.append("--\(boundary)--")
        } else {
            headers.append("Content-Type: text/plain; charset=utf-8")
            headers.append("Content-Transfer-Encoding: base64")
            body += Self.base64Lines(text)
        }
        return (headers + [""] + body).joined(separator: "\r\n") + "\r\n"
    }

    private static func part(_ content: String, type: String) -> [String] {
        ["Content-Type: \(type); charset=utf-8", "Content-Transfer-Encoding: base64", ""] + base64Lines(content)
    }

    /// Base64 in lines of 76 characters (RFC 2045).
    static func base64Lines(_ content: String) -> [String] {
        let encoded = Data(normalizedLineEnds(content).utf8).base64EncodedString()
        return stride(from: 0, to: encoded.count, by: 76).map { start in
            let from = encoded.index(encoded.startIndex, offsetBy: start)
            let to = encoded.index(from, offsetBy: min(76, encoded.count - start))
            return String(encoded[from..<to])
        }
    }

    private static func header(address: Address) -> String {
        guard let name = address.name, !name.isEmpty else { return "<\(address.email)>" }
        let needsEncoding = !name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == " ") }
        return "\(needsEncoding ? encodedWords(name, prefix: 6) : name) <\(address.email)>"
    }

    /// Text for a header: as it is when it is plain printable ASCII that fits, else RFC 2047 encoded words
    /// (`=?UTF-8?B?…?=`, each at most 75 characters, never splitting a character), folded onto continuation lines.
    /// `prefix` is the length of what comes before it on the first line.
    static func encodedWords(_ text: String, prefix: Int = 0) -> String {
        if text.allSatisfy({ $0.isASCII && !$0.isNewline && ($0 == " " || !$0.isWhitespace) }), prefix + text.count <= 78,
            !text.contains("=?")
        {
            return text
        }
        // A word is at most 75 characters: 63 of base64 beside "=?UTF-8?B?" and "?=", 15 groups of 4, 45 bytes. The
        // first shares its line (at most 78) with what comes before it; the others follow a space on their own.
        func bytes(onLineAfter used: Int) -> Int { max(3, min(75, 78 - used) - 12) / 4 * 3 }
        var limit = bytes(onLineAfter: prefix)
        var words: [String] = []
        var chunk = ""
        for character in text where !character.isNewline {
            if !chunk.isEmpty, (chunk + String(character)).utf8.count > limit {
                words.append(chunk)
                chunk = ""
                limit = bytes(onLineAfter: 1)
            }
            chunk.append(character)
        }
        if !chunk.isEmpty { words.append(chunk) }
        return words.map { "=?UTF-8?B?\(Data($0.utf8).base64EncodedString())?=" }.joined(separator: "\r\n ")
    }

    /// `Mon, 07 Dec 2026 20:28:45 +0000`.
    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter.string(from: date)
    }

    static func normalizedLineEnds(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .replacingOccurrences(of: "\n", with: "\r\n")
    }
}

/// SMTP's DATA transparency (RFC 5321 §4.5.2): CRLF line ends, a dot doubled at the start of a line, and the final
/// `CRLF.CRLF`.
enum SMTPData {
    static func stuffed(_ message: String) -> String {
        let lines = MailMessage.normalizedLineEnds(message).components(separatedBy: "\r\n")
        let body = lines.map { $0.hasPrefix(".") ? "." + $0 : $0 }.joined(separator: "\r\n")
        return (body.hasSuffix("\r\n") ? body : body + "\r\n") + ".\r\n"
    }
}

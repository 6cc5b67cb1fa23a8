import Foundation
import Testing

@testable import Meander

@Suite("Mail messages")
struct MailMessageTests {
    /// The text of a header's encoded words, decoded (the test's own reading of RFC 2047's B encoding).
    static func decode(_ header: String) throws -> String {
        var bytes = Data()
        for word in header.components(separatedBy: "\r\n ") {
            guard word.hasPrefix("=?UTF-8?B?"), word.hasSuffix("?=") else { return header }
            let payload = word.dropFirst("=?UTF-8?B?".count).dropLast(2)
            bytes.append(try #require(Data(base64Encoded: String(payload))))
        }
        return try #require(String(data: bytes, encoding: .utf8))
    }

    static let message = MailMessage(
        from: .init(email: "varsel@meander.example", name: "Støttesenteret"),
        to: .init(email: "kari@example.no", name: "Kari Nordmann"),
        subject: "Påminnelse: kurs i morgen — ta med matpakke og godt humør, så blir det en fin dag for alle",
        text: "Hei Kari,\n.\nVi ses i morgen kl. 10 på Blåbærveien 3.\n", html: "<p>Hei Kari,</p>\n<p>Vi ses!</p>",
        messageID: "<3f2b@meander.example>", date: Date(timeIntervalSince1970: 1_796_660_925))

    @Test("a plain ASCII subject stays as it is; æøå become encoded words")
    func encodedWords() throws {
        #expect(MailMessage.encodedWords("Your export is ready") == "Your export is ready")
        #expect(MailMessage.encodedWords("Blåbær") == "=?UTF-8?B?QmzDpWLDpnI=?=")
        // Text that looks like an encoded word is encoded, so that a reader does not decode it.
        #expect(MailMessage.encodedWords("=?x?=").hasPrefix("=?UTF-8?B?"))
    }

    @Test("a long subject is split into words of at most 75 characters, whole characters each, and reads back")
    func longSubject() throws {
        let subject = Self.message.subject + " 🎉 Ærlig talt, øvelse gjør mester."
        let encoded = MailMessage.encodedWords(subject, prefix: "Subject: ".count)
        let words = encoded.components(separatedBy: "\r\n ")
        #expect(words.count > 2)
        #expect(words.allSatisfy { $0.count <= 75 })
        #expect("Subject: ".count + words[0].count <= 78)
        #expect(try Self.decode(encoded) == subject)
    }

    @Test("the rendered message is 7-bit, in short CRLF lines, and its parts decode to the text")
    func rendered() throws {
        let rendered = Self.message.rendered(boundary: "b-1")
        #expect(rendered.allSatisfy { $0.isASCII })
        let lines = rendered.components(separatedBy: "\r\n")
        #expect(!rendered.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(lines.allSatisfy { $0.count <= 78 })
        #expect(lines.contains("Date: Mon, 07 Dec 2026 16:28:45 +0000"))
        #expect(lines.contains("Message-ID: <3f2b@meander.example>"))
        #expect(lines.contains("To: Kari Nordmann <kari@example.no>"))
        let from = try #require(lines.first { $0.hasPrefix("From: ") })
        #expect(from == "From: =?UTF-8?B?U3TDuHR0ZXNlbnRlcmV0?= <varsel@meander.example>")
        #expect(lines.contains("Content-Type: multipart/alternative; boundary=\"b-1\""))
        #expect(lines.last == "" && lines.dropLast().last == "--b-1--")

        // The first part's base64 lines, up to the next boundary.
        let start = try #require(lines.firstIndex(of: "Content-Type: text/plain; charset=utf-8")) + 3
        let end = try #require(lines[start...].firstIndex(of: "--b-1"))
        let text = try #require(Data(base64Encoded: lines[start..<end].joined()))
        #expect(String(data: text, encoding: .utf8) == "Hei Kari,\r\n.\r\nVi ses i morgen kl. 10 på Blåbærveien 3.\r\n")
    }

    @Test("a text-only message is one base64 body")
    func textOnly() throws {
        var message = Self.message
        message.html = nil
        let lines = message.rendered(boundary: "unused").components(separatedBy: "\r\n")
        #expect(lines.contains("Content-Type: text/plain; charset=utf-8"))
        #expect(!lines.contains { $0.contains("multipart") })
    }

    @Test("DATA transparency: a leading dot is doubled, line ends become CRLF, and the end mark follows")
    func stuffing() {
        #expect(SMTPData.stuffed("a\n.hidden\r\n..two\nlast") == "a\r\n..hidden\r\n...two\r\nlast\r\n.\r\n")
        #expect(SMTPData.stuffed("ends\r\n") == "ends\r\n.\r\n")
        #expect(SMTPData.stuffed("") == "\r\n.\r\n")
    }
}

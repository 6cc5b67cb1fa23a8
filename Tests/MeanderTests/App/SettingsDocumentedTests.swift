import Foundation
import Testing

@testable import Meander

/// The README's configuration table and `.env.example` name exactly the settings the server reads.
@Suite("Settings are documented")
struct SettingsDocumentedTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../..")
        .standardizedFileURL

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    /// Every environment variable `AppConfig.load` reads, from its source (`value("…")`, `positiveInt("…"`, …).
    static func settingsRead() throws -> Set<String> {
        let source = try text("Sources/Meander/App/AppConfig.swift")
        let regex = try NSRegularExpression(pattern: #""((?:MEANDER_[A-Z0-9_]+)|DATABASE_URL|LOG_LEVEL)""#)
        let matches = regex.matches(in: source, range: NSRange(source.startIndex..., in: source))
        return Set(matches.compactMap { Range($0.range(at: 1), in: source).map { String(source[$0]) } })
    }

    @Test("every setting the server reads is in the README's table and in .env.example's server part")
    func documented() throws {
        // given
        let settings = try Self.settingsRead()
        let readme = try Self.text("README.md")
        let example = try Self.text(".env.example")
        let serverPart = try #require(example.components(separatedBy: "tests and tooling").first)

        // then
        #expect(settings.count >= 25)
        for key in settings.sorted() {
            let base = key.hasSuffix("_FILE") ? String(key.dropLast(5)) : key
            #expect(
                readme.contains("`\(key)`") || readme.contains("`\(base)` / `…_FILE`"),
                "README's configuration table lacks \(key)")
            #expect(serverPart.contains("#\(key)="), ".env.example lacks \(key) above its tests-and-tooling part")
        }
    }

    @Test(".env.example's server part names nothing the server does not read")
    func nothingExtra() throws {
        // given
        let settings = try Self.settingsRead()
        let example = try Self.text(".env.example")
        let serverPart = try #require(example.components(separatedBy: "tests and tooling").first)
        let regex = try NSRegularExpression(pattern: #"^#((?:MEANDER_[A-Z0-9_]+)|DATABASE_URL|LOG_LEVEL)="#, options: .anchorsMatchLines)
        let named = regex.matches(in: serverPart, range: NSRange(serverPart.startIndex..., in: serverPart)).compactMap {
            Range($0.range(at: 1), in: serverPart).map { String(serverPart[$0]) }
        }

        // then: the key files are read as `KEY + "_FILE"`, so they count as their key
        for key in named {
            let base = key.hasSuffix("_FILE") ? String(key.dropLast(5)) : key
            #expect(settings.contains(key) || settings.contains(base), ".env.example names \(key), which the server does not read")
        }
    }
}

import Foundation
import Testing

@testable import Meander

@Suite("Configuration")
struct AppConfigTests {
    let workingDirectory = "/srv/meander"

    private func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("meander-config-\(UUID())").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("defaults to an SQLite file in ./.meander, relative to the working directory")
    func defaults() throws {
        // given
        let cwd = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: cwd) }

        // when
        let config = try AppConfig.load(from: [:], workingDirectory: cwd)

        // then
        #expect(config.dataDirectory == cwd + "/.meander")
        #expect(config.database == .sqlite(path: cwd + "/.meander/meander.sqlite"))
        #expect(config.logLevel == .info)
        #expect(config.logFormat == .text)
        #expect(config.maxBodySize == 1 << 20)
    }

    @Test(
        "parses the three DATABASE_URL forms",
        arguments: [
            ("sqlite:///var/lib/meander/db.sqlite", AppConfig.Database.sqlite(path: "/var/lib/meander/db.sqlite")),
            ("sqlite://data/db.sqlite", .sqlite(path: "/srv/meander/data/db.sqlite")),
            ("postgres://meander:secret@db.internal:5433/meander", .postgres(url: "postgres://meander:secret@db.internal:5433/meander")),
        ])
    func databaseURLs(raw: String, expected: AppConfig.Database) throws {
        // when
        let parsed = try AppConfig.parseDatabaseURL(raw, workingDirectory: workingDirectory)

        // then
        #expect(parsed == expected)
    }

    @Test(
        "rejects malformed DATABASE_URLs, naming the variable",
        arguments: ["foo://x", "sqlite://", "postgres://host-only", "postgres:///db", "not a url", "mysql://u@h/db"])
    func badDatabaseURL(raw: String) throws {
        // given
        let cwd = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: cwd) }

        // when
        let error = #expect(throws: ConfigError.self) {
            try AppConfig.load(from: ["DATABASE_URL": raw], workingDirectory: cwd)
        }

        // then
        #expect(error?.problems.count == 1)
        #expect(error?.problems.first?.hasPrefix("DATABASE_URL:") == true)
        #expect(error?.description.contains("DATABASE_URL") == true)
    }

    @Test("lists every problem at once, and never echoes a password")
    func everyProblemAtOnce() throws {
        // given
        let environment = [
            "DATABASE_URL": "postgres://meander:hunter2@db.internal:5432/",
            "LOG_LEVEL": "loud",
            "MEANDER_LOG_FORMAT": "xml",
            "MEANDER_MAX_BODY_SIZE": "-3",
        ]

        // when
        let error = #expect(throws: ConfigError.self) {
            try AppConfig.load(from: environment, workingDirectory: workingDirectory)
        }

        // then
        let problems = try #require(error?.problems)
        #expect(problems.count == 4)
        #expect(problems.contains { $0.hasPrefix("DATABASE_URL:") })
        #expect(problems.contains { $0.hasPrefix("LOG_LEVEL:") })
        #expect(problems.contains { $0.hasPrefix("MEANDER_LOG_FORMAT:") })
        #expect(problems.contains { $0.hasPrefix("MEANDER_MAX_BODY_SIZE:") })
        #expect(error?.description.contains("hunter2") == false)
    }

    @Test("PostgreSQL requires both secrets to be given")
    func postgresNeedsSecrets() throws {
        // when
        let error = #expect(throws: ConfigError.self) {
            try AppConfig.load(
                from: ["DATABASE_URL": "postgres://u:p@127.0.0.1:5432/meander"], workingDirectory: workingDirectory)
        }

        // then
        let problems = try #require(error?.problems)
        #expect(problems.count == 2)
        #expect(problems.contains { $0.hasPrefix("MEANDER_TOKEN_SIGNING_KEY:") })
        #expect(problems.contains { $0.hasPrefix("MEANDER_MASTER_KEY:") })
    }

    @Test("PostgreSQL accepts secrets from the environment and from files")
    func postgresSecretsGiven() throws {
        // given
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let signing = Data((0..<32).map { UInt8($0) })
        let master = Data((0..<32).map { UInt8(255 - $0) })
        let masterFile = directory + "/master.key"
        try (master.base64EncodedString() + "\n").write(toFile: masterFile, atomically: true, encoding: .utf8)

        // when
        let config = try AppConfig.load(
            from: [
                "DATABASE_URL": "postgres://u:p@127.0.0.1:5432/meander",
                "MEANDER_TOKEN_SIGNING_KEY": signing.base64EncodedString(),
                "MEANDER_MASTER_KEY_FILE": masterFile,
            ],
            workingDirectory: workingDirectory)

        // then
        #expect(config.tokenSigningKey.bytes == Array(signing))
        #expect(config.masterKey.bytes == Array(master))
        #expect(!String(describing: config).contains(signing.base64EncodedString()))
    }

    @Test("a secret that is not 32 bytes of base64 is refused")
    func badSecret() throws {
        let error = #expect(throws: ConfigError.self) {
            try AppConfig.load(
                from: [
                    "DATABASE_URL": "postgres://u:p@127.0.0.1:5432/meander",
                    "MEANDER_TOKEN_SIGNING_KEY": "c2hvcnQ=",
                    "MEANDER_MASTER_KEY_FILE": "/nonexistent/master.key",
                ],
                workingDirectory: workingDirectory)
        }
        let problems = try #require(error?.problems)
        #expect(problems.contains("MEANDER_TOKEN_SIGNING_KEY: must be base64 of exactly 32 bytes"))
        #expect(problems.contains { $0.hasPrefix("MEANDER_MASTER_KEY_FILE:") })
    }

    @Test("embedded mode generates the secrets once, with mode 0600, and reuses them")
    func generatedSecrets() throws {
        // given
        let cwd = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: cwd) }
        let environment = ["MEANDER_DATA_DIR": "state"]

        // when
        let first = try AppConfig.load(from: environment, workingDirectory: cwd)
        let second = try AppConfig.load(from: environment, workingDirectory: cwd)

        // then
        #expect(first.tokenSigningKey == second.tokenSigningKey)
        #expect(first.masterKey == second.masterKey)
        #expect(first.tokenSigningKey != first.masterKey)
        for file in [AppConfig.tokenSigningKeyFile, AppConfig.masterKeyFile] {
            let attributes = try FileManager.default.attributesOfItem(atPath: cwd + "/state/" + file)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        }
    }

    @Test(
        "finds the database exactly as load() does, without creating anything",
        arguments: [
            [:],
            ["MEANDER_DATA_DIR": "state"],
            ["MEANDER_DATA_DIR": "/var/lib/meander"],
            ["DATABASE_URL": "sqlite://db/relative.sqlite"],
            ["DATABASE_URL": " sqlite:///abs/explicit.sqlite ", "MEANDER_DATA_DIR": "state"],
        ])
    func databaseWithoutSideEffects(environment: [String: String]) throws {
        // given
        let cwd = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: cwd) }

        // when
        let found = AppConfig.database(from: environment, workingDirectory: cwd)
        let createdBefore = try FileManager.default.contentsOfDirectory(atPath: cwd)
        let loaded = try AppConfig.load(from: environment, workingDirectory: cwd).database

        // then
        #expect(createdBefore.isEmpty)
        #expect(found == loaded)
    }

    @Test("a malformed DATABASE_URL names no database, so that load() reports it")
    func databaseOfMalformedURL() {
        // when
        let found = AppConfig.database(from: ["DATABASE_URL": "foo://x"], workingDirectory: workingDirectory)

        // then
        #expect(found == nil)
    }
}

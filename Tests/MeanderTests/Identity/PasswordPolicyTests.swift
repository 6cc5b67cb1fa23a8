import Foundation
import Testing
import Vapor

@testable import Meander

@Suite("Password policy and hashing")
struct PasswordPolicyTests {
    @Test(
        "the ASVS rules: length 8…128, no composition rules, no common passwords, not the e-mail",
        arguments: [
            ("1234567", "too_short"),
            ("seven!7", "too_short"),
            ("åøæåøæå", "too_short"),
            ("baseball", "too_common"), ("BaseBall", "too_common"),
            ("password", "too_common"),
            ("PASSWORD", "too_common"),
            ("Password123", "too_common"),
            ("iloveyou", "too_common"),
            ("kari.nordmann@example.no", "contains_email"),
            ("Kari.Nordmann@Example.NO", "contains_email"),
            ("kari.nordmann", "contains_email"),
            ("tolv hester i snø", nil),
            ("zqjxwvkp", nil),
            ("ææææææææ", nil),
            (String(repeating: "x", count: 63) + "y", nil),
            (String(repeating: "long passphrase ", count: 8), nil),
            (String(repeating: "z", count: 129), "too_long"),
        ] as [(String, String?)])
    func rules(password: String, expected: String?) {
        let problems = PasswordPolicy.problems(password, email: "kari.nordmann@example.no", field: "/password")
        #expect(problems.map(\.code) == (expected.map { [$0] } ?? []), "\(password)")
        #expect(problems.allSatisfy { $0.field == "/password" })
    }

    @Test("check throws a validation error naming the field")
    func check() throws {
        #expect(
            throws: AppError.validation([
                .init(
                    field: "/new_password", code: "too_common",
                    message: "This password is on a list of commonly used passwords; choose another.")
            ])
        ) {
            try PasswordPolicy.check("qwerty123", email: nil, field: "/new_password")
        }
        try PasswordPolicy.check("a long and unusual passphrase", email: nil, field: "/new_password")
    }

    @Test("the shipped list holds 10,000 common passwords (at least 3,000 are required)")
    func list() {
        #expect(PasswordPolicy.commonPasswords.count >= 9_900)
        #expect(PasswordPolicy.commonPasswords.contains("123456"))
        #expect(PasswordPolicy.commonPasswords.allSatisfy { $0 == $0.lowercased() })
    }

    @Test("the default cost is 12 and recorded in the hash")
    func defaultCost() throws {
        // given
        let config = AppConfig(
            database: .sqlite(path: "/tmp/unused.sqlite"), dataDirectory: "/tmp", tokenSigningKey: .random(),
            masterKey: .random())

        // when
        let hash = try PasswordHasher(cost: config.passwordHashCost).hash("a long and unusual passphrase")

        // then
        #expect(config.passwordHashCost == 12)
        #expect(hash.hasPrefix("$2b$12$"), "\(hash)")
        #expect(PasswordHasher.cost(of: hash) == 12)
        #expect(PasswordHasher(cost: 12).verify("a long and unusual passphrase", against: hash))
    }

    @Test("no truncation: a 100-character password differs from its 72-byte prefix")
    func noTruncation() throws {
        // given
        let long = String(repeating: "abcdefghij", count: 10)
        let hasher = PasswordHasher(cost: 4)

        // when
        let hash = try hasher.hash(long)

        // then
        #expect(hasher.verify(long, against: hash))
        #expect(!hasher.verify(String(long.prefix(72)), against: hash))
        #expect(!hasher.verify(String(long.prefix(99)) + "x", against: hash))
        #expect(!hasher.verify(long, against: "not a bcrypt hash"))
    }

    @Test("hashing and verification run off the event loop, on the thread pool")
    func threadPool() async throws {
        // given
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let hasher = PasswordHasher(cost: 4)

        // when
        let hash = try await hasher.hash("a long and unusual passphrase", on: pool)
        let matches = try await hasher.verify("a long and unusual passphrase", against: hash, on: pool)
        try await hasher.verifyAgainstDummy("anything at all", on: pool)
        try await pool.shutdownGracefully()

        // then
        #expect(matches)
    }
}

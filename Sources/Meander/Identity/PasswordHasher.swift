import Crypto
import Foundation
import Vapor

/// Hashes and verifies passwords: bcrypt over a SHA-256 pre-hash.
///
/// bcrypt reads at most 72 bytes; pre-hashing (SHA-256, base64: 44 bytes) lets every byte of a long password count,
/// with no truncation (OWASP ASVS 5.0, 6.2). The cost is configurable (default 12) and recorded in each hash.
struct PasswordHasher: Sendable {
    let cost: Int

    func hash(_ password: String) throws -> String {
        try Bcrypt.hash(Self.prehash(password), cost: cost)
    }

    func verify(_ password: String, against hash: String) -> Bool {
        (try? Bcrypt.verify(Self.prehash(password), created: hash)) ?? false
    }

    /// Spends the same work as a real verification (one bcrypt run at the same cost), for unknown accounts, so that
    /// timing does not tell whether an e-mail address exists.
    func verifyAgainstDummy(_ password: String) {
        _ = try? Bcrypt.hash(Self.prehash(password), cost: cost)
    }

    /// Hashes on `pool`, off the event loop: bcrypt at cost 12 takes a quarter of a second of CPU.
    func hash(_ password: String, on pool: NIOThreadPool) async throws -> String {
        try await pool.runIfActive { try hash(password) }
    }

    /// Verifies on `pool`, off the event loop.
    func verify(_ password: String, against hash: String, on pool: NIOThreadPool) async throws -> Bool {
        try await pool.runIfActive { verify(password, against: hash) }
    }

    /// Spends one dummy bcrypt run on `pool`, off the event loop.
    func verifyAgainstDummy(_ password: String, on pool: NIOThreadPool) async throws {
        try await pool.runIfActive { verifyAgainstDummy(password) }
    }

    /// The cost recorded in a bcrypt hash (`$2b$12$…` → 12).
    static func cost(of hash: String) -> Int? {
        let parts = hash.split(separator: "$")
        return parts.count >= 3 ? Int(parts[1]) : nil
    }

    private static func prehash(_ password: String) -> String {
        Data(SHA256.hash(data: Data(password.utf8))).base64EncodedString()
    }
}

import FluentKit
import FluentSQL
import Foundation

extension LoginThrottle {
    /// One key of an attempt and the rules it follows.
    struct Key: Sendable, Equatable {
        var key: String
        var policy: Policy
    }

    /// Why an attempt was refused before it was tried.
    struct Refusal: Error, Sendable, Equatable {
        var key: String
        var blockedUntil: Date
        var lockedOut: Bool

        /// The 429 the client sees: the same for every key kind, so that it tells nothing about the account.
        func appError(now: Date) -> AppError {
            AppError(
                .rateLimited,
                lockedOut
                    ? "Too many failed attempts. Reset your password to sign in again."
                    : "Too many failed attempts. Wait before trying again.",
                headers: [("Retry-After", String(LoginThrottle.retryAfter(until: blockedUntil, now: now)))])
        }
    }

    /// Counts one attempt on every key, before the attempt is checked, and refuses it if any key is blocked.
    ///
    /// Each key is claimed with one conditional upsert (`INSERT … ON CONFLICT DO UPDATE … WHERE not blocked
    /// RETURNING`), so the counter cannot lose updates and no attempt slips through a block, however many app
    /// instances race. Counting before checking means that parallel guesses cannot all pass the check while the
    /// first is still being verified: the back-off set here holds off the next attempt at once. A success then
    /// takes the count back (`recordSuccess`). Keys are claimed in the given order (account before IP), in one
    /// transaction: a refusal on any key undoes the others. Returns the consecutive-failure count of each key,
    /// this attempt included.
    @discardableResult
    static func claim(_ keys: [Key], on db: any Database, now: Date = Date()) async throws -> [Int] {
        do {
            return try await db.writeTransaction { transaction in
                var counts: [Int] = []
                for key in keys {
                    counts.append(try await claim(key, on: try transaction.sqlDatabase(), now: now))
                }
                return counts
            }
        } catch let refusal as Refusal {
            throw refusal.appError(now: now)
        }
    }

    private static func claim(_ key: Key, on sql: any SQLDatabase, now: Date) async throws -> Int {
        let count = try await sql.raw(
            """
            INSERT INTO login_throttles (id, "key", consecutive_failures, last_failure_at, blocked_until, updated_at)
            VALUES (\(bind: UUID()), \(bind: key.key), 1, \(bind: now), NULL, \(bind: now))
            ON CONFLICT ("key") DO UPDATE SET
                consecutive_failures = CASE
                    WHEN login_throttles.last_failure_at IS NOT NULL
                        AND login_throttles.last_failure_at < \(bind: key.policy.lapseCutoff(now: now)) THEN 1
                    ELSE login_throttles.consecutive_failures + 1
                END,
                last_failure_at = excluded.last_failure_at,
                updated_at = excluded.updated_at
            WHERE login_throttles.blocked_until IS NULL OR login_throttles.blocked_until <= \(bind: now)
            RETURNING consecutive_failures
            """
        ).first(decodingColumn: "consecutive_failures", as: Int.self)
        guard let count else {
            let blockedUntil =
                try await sql.raw(
                    "SELECT blocked_until FROM login_throttles WHERE \"key\" = \(bind: key.key)"
                ).first(decodingColumn: "blocked_until", as: Date?.self) ?? nil
            let until = blockedUntil ?? now.addingTimeInterval(1)
            throw Refusal(key: key.key, blockedUntil: until, lockedOut: until >= LoginThrottle.lockedOutUntil)
        }
        if let blockedUntil = key.policy.blockedUntil(afterFailures: count, now: now) {
            // The row is locked by the upsert until the transaction ends, so this is not a lost update.
            try await sql.raw(
                """
                UPDATE login_throttles SET blocked_until = \(bind: blockedUntil)
                WHERE "key" = \(bind: key.key) AND (blocked_until IS NULL OR blocked_until < \(bind: blockedUntil))
                """
            ).run()
        }
        return count
    }

    /// Notes that a claimed attempt has been checked and failed. The count already holds it; this stamps the time,
    /// and, being a write, also takes SQLite's write lock first in a transaction that goes on to read.
    static func recordFailure(_ keys: [Key], on db: any Database, now: Date = Date()) async throws {
        let sql = try db.sqlDatabase()
        for key in keys {
            try await sql.raw(
                "UPDATE login_throttles SET last_failure_at = \(bind: now), updated_at = \(bind: now) WHERE \"key\" = \(bind: key.key)"
            ).run()
        }
    }

    /// A claimed attempt succeeded: keys that a success resets (accounts) start again from zero; the others
    /// (IP addresses) only take back this attempt.
    static func recordSuccess(_ keys: [Key], on db: any Database, now: Date = Date()) async throws {
        let sql = try db.sqlDatabase()
        for key in keys {
            if key.policy.lockoutAfter != nil {
                try await reset(key.key, on: db, now: now)
            } else {
                // Clear the back-off only if the count drops below the free attempts again.
                try await sql.raw(
                    """
                    UPDATE login_throttles SET
                        consecutive_failures = CASE WHEN consecutive_failures > 0 THEN consecutive_failures - 1 ELSE 0 END,
                        blocked_until = CASE WHEN consecutive_failures - 1 < \(bind: key.policy.freeAttempts) THEN NULL
                            ELSE blocked_until END,
                        updated_at = \(bind: now)
                    WHERE "key" = \(bind: key.key)
                    """
                ).run()
            }
        }
    }

    /// Clears a key: after a successful sign-in or a password reset (which also lifts a lock-out).
    static func reset(_ key: String, on db: any Database, now: Date = Date()) async throws {
        try await db.sqlDatabase().raw(
            """
            UPDATE login_throttles SET consecutive_failures = 0, blocked_until = NULL, updated_at = \(bind: now)
            WHERE "key" = \(bind: key)
            """
        ).run()
    }
}

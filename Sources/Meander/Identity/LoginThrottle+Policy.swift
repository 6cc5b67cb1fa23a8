import Foundation

extension LoginThrottle {
    /// The pure rules of one kind of throttle key: how many attempts are free, how the back-off grows, when the
    /// counter lapses and when it locks for good. Table-tested without a database.
    struct Policy: Sendable, Equatable {
        /// Attempts allowed before any waiting.
        var freeAttempts: Int
        /// The first wait, doubled with each further attempt.
        var baseDelay: TimeInterval
        /// The longest wait between attempts.
        var maximumDelay: TimeInterval
        /// A counter untouched this long starts again from zero; `nil`: never (consecutive means consecutive).
        var lapseAfter: TimeInterval?
        /// After this many consecutive failures the key is locked until a password reset; `nil`: never.
        var lockoutAfter: Int?

        /// Per account (`account:<e-mail>`): back-off after 3 failures (2 s, 4 s, 8 s … capped at 15 minutes), and
        /// lock-out after 100 consecutive failures (NIST SP 800-63B 5.2.2; ASVS 5.0 6.3.1). A success resets it.
        static let account = Policy(
            freeAttempts: 3, baseDelay: 2, maximumDelay: 15 * 60, lapseAfter: nil, lockoutAfter: 100)

        /// Per IP address (`ip:<address>`): offices and mobile carriers put many people behind one address, so
        /// it allows more before backing off and forgets after an hour without failures. A success does not reset
        /// it (an attacker with one valid account could otherwise clear it between guesses); it only takes back its
        /// own attempt.
        static let ipAddress = Policy(
            freeAttempts: 10, baseDelay: 1, maximumDelay: 15 * 60, lapseAfter: 60 * 60, lockoutAfter: nil)

        /// Password-reset requests, per e-mail and per IP: a few free, then back-off; forgotten after an hour.
        static let passwordReset = Policy(
            freeAttempts: 3, baseDelay: 30, maximumDelay: 15 * 60, lapseAfter: 60 * 60, lockoutAfter: nil)

        /// Password-reset requests per IP address: more free requests, since many people may share an address.
        static let passwordResetPerIP = Policy(
            freeAttempts: 20, baseDelay: 30, maximumDelay: 15 * 60, lapseAfter: 60 * 60, lockoutAfter: nil)

        /// How long a key waits after `failures` consecutive failed attempts; `nil` when no wait is due.
        ///
        /// With 3 free attempts and a base of b seconds: 3 → b, 4 → 2b, 5 → 4b, …, b·2^(n-3) s up to the cap.
        func delay(afterFailures failures: Int) -> TimeInterval? {
            guard failures >= freeAttempts, failures > 0 else { return nil }
            let exponent = failures - freeAttempts
            // 2^exponent overflows long before the cap matters; stop doubling once past it.
            guard exponent < 32 else { return maximumDelay }
            return min(baseDelay * pow(2, Double(exponent)), maximumDelay)
        }

        /// Whether `failures` consecutive failures lock the key until a password reset.
        func isLockedOut(afterFailures failures: Int) -> Bool {
            lockoutAfter.map { failures >= $0 } ?? false
        }

        /// When the key may next be tried after `failures` consecutive failures at `now`; `nil` when at once.
        /// A lock-out answers `LoginThrottle.lockedOutUntil`.
        func blockedUntil(afterFailures failures: Int, now: Date) -> Date? {
            if isLockedOut(afterFailures: failures) { return LoginThrottle.lockedOutUntil }
            return delay(afterFailures: failures).map { now.addingTimeInterval($0) }
        }

        /// The oldest `last_failure_at` that still continues a run of failures at `now`.
        func lapseCutoff(now: Date) -> Date {
            lapseAfter.map { now.addingTimeInterval(-$0) } ?? .distantPast
        }
    }

    /// The rules of each key kind, carried in `AppConfig` so that tests can widen the windows instead of sleeping.
    struct Policies: Sendable, Equatable {
        var account = Policy.account
        var ipAddress = Policy.ipAddress
        var passwordReset = Policy.passwordReset
        var passwordResetPerIP = Policy.passwordResetPerIP
    }

    /// "Until a password reset": a fixed, far but representable time on both engines.
    static let lockedOutUntil = Date(timeIntervalSince1970: 32_503_680_000)  // 3000-01-01

    /// Seconds for `Retry-After`, rounded up and at least 1.
    static func retryAfter(until blockedUntil: Date, now: Date) -> Int {
        max(1, Int(blockedUntil.timeIntervalSince(now).rounded(.up)))
    }

    /// The throttle keys of a sign-in attempt.
    static func accountKey(_ email: String) -> String { "account:" + User.normalize(email: email) }
    static func ipKey(_ address: String) -> String { "ip:" + address }
    static func resetKey(_ email: String) -> String { "reset:" + User.normalize(email: email) }
    static func resetIPKey(_ address: String) -> String { "reset-ip:" + address }
}

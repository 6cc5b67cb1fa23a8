import FluentKit
import Foundation

/// The shared throttle state of one key: an account (`account:<normalised e-mail>`), an IP address (`ip:<address>`)
/// or a password-reset target (`reset:<e-mail>`, `reset-ip:<address>`).
///
/// It lives in the database so that every app instance sees the same counters. Rows are only ever changed by
/// single conditional statements (see `LoginThrottle+Store.swift`), never read, modified and written back.
final class LoginThrottle: Model, @unchecked Sendable {
    static let schema = "login_throttles"

    @ID(key: .id)
    var id: UUID?

    // managed

    @Timestamp(key: "updated_at", on: .update)
    var updatedAt: Date?

    // data

    @Field(key: "key")
    var key: String

    /// Attempts since the last success (or since the counter lapsed); an attempt counts from the moment it starts.
    @Field(key: "consecutive_failures")
    var consecutiveFailures: Int

    @OptionalField(key: "last_failure_at")
    var lastFailureAt: Date?

    /// No attempt is accepted before this time.
    @OptionalField(key: "blocked_until")
    var blockedUntil: Date?

    init() {}

    init(id: UUID? = nil, key: String, consecutiveFailures: Int = 0, lastFailureAt: Date? = nil, blockedUntil: Date? = nil) {
        self.id = id
        self.key = key
        self.consecutiveFailures = consecutiveFailures
        self.lastFailureAt = lastFailureAt
        self.blockedUntil = blockedUntil
    }
}

import Foundation

/// Password-reset links: lifetime, link, e-mail.
enum PasswordReset {
    /// A reset link works for one hour, once.
    static let lifetime: TimeInterval = 60 * 60

    static let invalidToken = AppError.validation(
        [.init(field: "/token", code: "invalid_token", message: "The link is invalid, expired or already used.")],
        "The password-reset link is invalid, expired or already used. Ask for a new one.")

    /// The keys a reset request counts against: the address (known or not), then the IP address.
    static func throttleKeys(email: String, ip: String?, policies: LoginThrottle.Policies) -> [LoginThrottle.Key] {
        var keys = [LoginThrottle.Key(key: LoginThrottle.resetKey(email), policy: policies.passwordReset)]
        if let ip {
            keys.append(LoginThrottle.Key(key: LoginThrottle.resetIPKey(ip), policy: policies.passwordResetPerIP))
        }
        return keys
    }

    static func link(_ token: String, publicURL: String) -> String {
        "\(publicURL)/password-reset?token=\(token)"
    }

    /// The queued e-mail. It carries the link (the only place the token exists in clear) and nothing else personal.
    static func notification(userID: UUID, link: String, expiresAt: Date) -> Notification {
        Notification(
            userID: userID, channel: .email, scenario: .passwordReset,
            title: "Reset your Meander password",
            body: """
                Someone asked to reset the password of your Meander account. To choose a new password, open this link \
                within one hour:

                \(link)

                If it was not you, ignore this e-mail: your password stays as it is.
                """,
            data: JSONText.encode(["link": link, "expires_at": ISO8601DateFormatter().string(from: expiresAt)]),
            isUrgent: true)
    }
}

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

    /// The e-mail (mandatory, urgent: it passes quiet hours). It carries the link (the only place the token exists
    /// in clear) and nothing else personal.
    static func message(link: String) -> Notifier.Message {
        Notifier.Message(.passwordReset, values: ["link": link], urgent: true)
    }
}

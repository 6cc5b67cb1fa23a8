import Foundation

/// The password rules of OWASP ASVS 5.0, chapter 6: long enough, never truncated, no composition rules, not a
/// commonly used password and not the account's own e-mail address.
///
/// Truncation cannot happen: `PasswordHasher` pre-hashes, so every character counts. Length is counted in Unicode
/// scalars, as JSON Schema's `minLength`/`maxLength` in the contract count them.
enum PasswordPolicy {
    static let minimumLength = 8
    /// ASVS asks for at least 64; the contract allows 128.
    static let maximumLength = 128

    /// Throws a `validation_failed` error naming `field` (a JSON pointer such as `/new_password`) when the password
    /// breaks a rule.
    static func check(_ password: String, email: String?, field: String) throws(AppError) {
        let problems = problems(password, email: email, field: field)
        guard problems.isEmpty else { throw AppError.validation(problems) }
    }

    /// Every rule the password breaks, as field errors on `field`.
    static func problems(_ password: String, email: String?, field: String) -> [AppError.FieldError] {
        let length = password.unicodeScalars.count
        if length < minimumLength {
            return [.init(field: field, code: "too_short", message: "Use at least \(minimumLength) characters.")]
        }
        if length > maximumLength {
            return [.init(field: field, code: "too_long", message: "Use at most \(maximumLength) characters.")]
        }
        let folded = password.lowercased()
        if isCommon(folded) {
            return [
                .init(
                    field: field, code: "too_common",
                    message: "This password is on a list of commonly used passwords; choose another.")
            ]
        }
        if let email, matchesEmail(folded, email: email) {
            return [
                .init(field: field, code: "contains_email", message: "Do not use your e-mail address as the password.")
            ]
        }
        return []
    }

    /// Whether the password is on the shipped list (case-insensitive).
    static func isCommon(_ password: String) -> Bool {
        commonPasswords.contains(password.lowercased())
    }

    private static func matchesEmail(_ folded: String, email: String) -> Bool {
        let address = User.normalize(email: email)
        guard !address.isEmpty else { return false }
        if folded == address { return true }
        // The local part alone is as guessable as the whole address.
        if let localPart = address.split(separator: "@").first, localPart.count >= minimumLength {
            return folded == String(localPart)
        }
        return false
    }

    /// The 10,000 most common passwords (from a password-frequency list), lowercased; loaded once.
    static let commonPasswords: Set<String> = {
        guard
            let url = Bundle.module.url(forResource: "common-passwords", withExtension: "txt", subdirectory: "Resources"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else {
            preconditionFailure("Resources/common-passwords.txt is missing from the build")
        }
        return Set(
            text.split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                .filter { !$0.isEmpty })
    }()
}

import Foundation

/// A phone number in E.164 form (`+4791234567`), as SMS providers take it.
///
/// Numbers are typed as people write them: `912 34 567`, `+47 912 34 567`, `0047 91234567`, `(+47) 912-34-567`.
/// A number without a country code is read in the organisation's country (Norway's `47` unless told otherwise).
struct PhoneNumber: Sendable, Hashable, CustomStringConvertible {
    /// `+` and 8 to 15 digits, the first not 0.
    let e164: String

    var description: String { e164 }

    /// `nil` for text that is not a phone number.
    init?(_ typed: String, defaultCountryCode: String = "47") {
        var text = typed.trimmingCharacters(in: .whitespacesAndNewlines)
        // Separators people type; anything else (letters, a second +) makes it not a number.
        text.removeAll { " -.()/\u{00A0}".contains($0) }
        guard !text.isEmpty else { return nil }
        var digits: Substring
        if text.hasPrefix("+") {
            digits = text.dropFirst()
        } else if text.hasPrefix("00") {
            digits = text.dropFirst(2)
        } else {
            // A national number; Norway has no trunk prefix, other countries drop their leading 0.
            digits = Substring(defaultCountryCode + (text.hasPrefix("0") ? String(text.dropFirst()) : text))
        }
        guard digits.allSatisfy(\.isASCIIDigitCharacter), (8...15).contains(digits.count), digits.first != "0" else {
            return nil
        }
        // A Norwegian number has eight digits after the country code.
        if digits.hasPrefix("47"), digits.count != 10 { return nil }
        e164 = "+" + digits
    }
}

extension Character {
    fileprivate var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}

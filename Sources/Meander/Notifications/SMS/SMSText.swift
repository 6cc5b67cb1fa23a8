import Foundation

/// How long an SMS is on the air: GSM-7 (GSM 03.38) when every character is in its alphabet, which has æøå, else
/// UCS-2.
enum SMSText {
    /// One septet each.
    private static let basic = Set(
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
            + "abcdefghijklmnopqrstuvwxyzäöñüà")
    /// Two septets each (an escape, then the character).
    private static let extended = Set("^{}\\[~]|€\u{0C}")

    /// The length in GSM-7 septets; nil when a character is not in the GSM-7 alphabet.
    static func gsm7Length(_ text: String) -> Int? {
        var length = 0
        // Unicode scalars, so that "\r\n" counts as the two characters it is on the air.
        for scalar in text.unicodeScalars {
            let character = Character(scalar)
            if basic.contains(character) {
                length += 1
            } else if extended.contains(character) {
                length += 2
            } else {
                return nil
            }
        }
        return length
    }

    /// How many messages the text is sent as: 160 septets in one, 153 a part when concatenated; in UCS-2 70 and 67
    /// UTF-16 units.
    static func parts(_ text: String) -> Int {
        if let septets = gsm7Length(text) {
            return septets <= 160 ? 1 : (septets + 152) / 153
        }
        let units = text.utf16.count
        return units <= 70 ? 1 : (units + 66) / 67
    }
}

/// The Norwegian organisation number (organisasjonsnummer): 9 digits, the last a mod-11 check digit.
///
/// Weights 3, 2, 7, 6, 5, 4, 3, 2 over the first eight digits; the check digit is `11 − (sum mod 11)`, with a
/// remainder of 0 giving 0 and a remainder of 1 meaning no valid number exists for those eight digits.
enum OrgNumber {
    static let weights = [3, 2, 7, 6, 5, 4, 3, 2]

    /// Whether `value` is exactly nine ASCII digits with a correct check digit.
    static func isValid(_ value: String) -> Bool {
        let digits = value.unicodeScalars.compactMap { scalar -> Int? in
            guard ("0"..."9").contains(scalar) else { return nil }
            return Int(scalar.value) - 48
        }
        guard value.unicodeScalars.count == 9, digits.count == 9,
            let check = checkDigit(for: Array(digits.prefix(8)))
        else { return false }
        return check == digits[8]
    }

    /// The check digit for eight leading digits, or `nil` when the remainder is 1 (no valid number).
    static func checkDigit(for leading: [Int]) -> Int? {
        guard leading.count == 8 else { return nil }
        let sum = zip(leading, weights).reduce(0) { $0 + $1.0 * $1.1 }
        switch sum % 11 {
        case 0: return 0
        case 1: return nil
        case let remainder: return 11 - remainder
        }
    }
}

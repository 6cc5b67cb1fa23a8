import Testing

@testable import Meander

@Suite("Norwegian organisation numbers (mod-11)")
struct OrgNumberTests {
    @Test(
        "validates nine digits with a mod-11 check digit",
        arguments: [
            // valid: remainder 5 → 11 − 5 = 6
            ("923609016", true),
            // valid: remainder 0 → check digit 0
            ("100000040", true),
            ("000000000", true),
            // valid: remainder 10 → check digit 1
            ("111111111", true),
            ("123456785", true),
            ("888888888", true),
            // wrong check digit
            ("923609017", false),
            ("123456789", false),
            ("100000041", false),
            // remainder 1: no check digit makes these valid
            ("974752000", false),
            ("974752001", false),
            ("974752009", false),
            // not nine digits
            ("", false),
            ("92360901", false),
            ("9236090160", false),
            ("923 609 016", false),
            ("92360901a", false),
            ("-92360901", false),
            // non-ASCII digits (Arabic-Indic nine) never pass
            ("92360901\u{0669}", false),
        ])
    func validates(number: String, valid: Bool) {
        // when
        let result = OrgNumber.isValid(number)

        // then
        #expect(result == valid, "\(number)")
    }

    @Test(
        "computes the check digit from the eight leading digits",
        arguments: [
            ([9, 2, 3, 6, 0, 9, 0, 1], 6 as Int?),
            ([1, 0, 0, 0, 0, 0, 0, 4], 0),
            ([1, 1, 1, 1, 1, 1, 1, 1], 1),
            ([9, 7, 4, 7, 5, 2, 0, 0], nil),
            ([1, 2, 3], nil),
        ])
    func checkDigit(leading: [Int], expected: Int?) {
        // when
        let digit = OrgNumber.checkDigit(for: leading)

        // then
        #expect(digit == expected)
    }

    @Test("every remainder maps as specified")
    func everyRemainder() {
        // given: for each remainder r of the weighted sum, one prefix that produces it
        var seen = Set<Int>()
        for n in 0..<100_000 {
            var digits = Array(String(format: "%08d", n)).map { Int(String($0))! }
            digits = Array(digits.suffix(8))
            let remainder = zip(digits, OrgNumber.weights).reduce(0) { $0 + $1.0 * $1.1 } % 11
            guard seen.insert(remainder).inserted else { continue }

            // when
            let digit = OrgNumber.checkDigit(for: digits)

            // then
            switch remainder {
            case 0: #expect(digit == 0)
            case 1: #expect(digit == nil)
            default: #expect(digit == 11 - remainder)
            }
            if let digit {
                #expect(OrgNumber.isValid(digits.map(String.init).joined() + String(digit)))
            }
        }
        #expect(seen.count == 11)
    }
}

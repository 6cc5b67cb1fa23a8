import Testing

@testable import Meander

@Suite("Phone numbers")
struct PhoneNumberTests {
    @Test(
        "typed numbers become E.164",
        arguments: [
            ("91234567", "+4791234567"), ("912 34 567", "+4791234567"), ("+47 912 34 567", "+4791234567"),
            ("0047 91234567", "+4791234567"), ("(+47) 912-34-567", "+4791234567"), (" 22.33.44.55 ", "+4722334455"),
            ("+46 70 123 45 67", "+46701234567"), ("+1 (415) 555-0100", "+14155550100"), ("+44 20 7946 0958", "+442079460958"),
        ])
    func normalised(_ typed: String, _ e164: String) {
        #expect(PhoneNumber(typed)?.e164 == e164)
    }

    @Test("a national number in another country drops its trunk 0")
    func otherCountry() {
        #expect(PhoneNumber("070-123 45 67", defaultCountryCode: "46")?.e164 == "+46701234567")
    }

    @Test(
        "not phone numbers",
        arguments: [
            "", "   ", "abc", "9123456", "912345678", "+47 912 34 56", "+0 123 456 789", "++4791234567",
            "+47 912 34 567 ext 2", "1234567890123456", "+4791234567x",
        ])
    func refused(_ typed: String) {
        #expect(PhoneNumber(typed) == nil)
    }
}

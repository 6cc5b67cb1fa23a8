import Foundation
import Testing

@testable import Meander

@Suite("Contacts: field rules")
struct ContactsRulesTests {
    static let now = Date(timeIntervalSince1970: 1_780_000_000)  // 2026-05-28

    @Test(
        "municipality codes come from the 2024 list and name their county",
        arguments: [
            ("0301", "03"), ("5501", "55"), ("1101", "11"), ("4601", "46"),
        ])
    func municipalities(code: String, county: String) {
        var errors: [AppError.FieldError] = []
        #expect(ContactRules.municipality(code, errors: &errors)?.countyCode == county)
        #expect(errors.isEmpty)
    }

    @Test("unknown or retired municipality codes are refused", arguments: ["0000", "1201", "5401", "9999"])
    func unknownMunicipalities(code: String) {
        var errors: [AppError.FieldError] = []
        #expect(ContactRules.municipality(code, errors: &errors) == nil)
        #expect(errors.map(\.code) == ["unknown_municipality"])
    }

    @Test(
        "birth years up to this year", arguments: [(1900, true), (1961, true), (2026, true), (2027, false), (2100, false)])
    func birthYears(year: Int, valid: Bool) {
        var errors: [AppError.FieldError] = []
        #expect((ContactRules.birthYear(year, now: Self.now, errors: &errors) != nil) == valid)
        #expect(errors.isEmpty == valid)
    }

    @Test(
        "consent: a scope that is not blank, given no later than a few minutes from now",
        arguments: [
            ("registration", 0.0, true), ("registration", -86_400.0, true), ("registration", 240.0, true),
            ("registration", 600.0, false), ("  ", 0.0, false),
        ])
    func consent(scope: String, offset: TimeInterval, valid: Bool) {
        var errors: [AppError.FieldError] = []
        let result = ContactRules.consent(
            scope: scope, givenAt: Self.now.addingTimeInterval(offset), now: Self.now, errors: &errors)
        #expect((result != nil) == valid)
    }

    @Test("names and free text are trimmed; blank names are required, blank text is absent")
    func trimming() {
        var errors: [AppError.FieldError] = []
        #expect(ContactRules.name("  Kari ", field: "/first_name", errors: &errors) == "Kari")
        #expect(ContactRules.name(" \n ", field: "/first_name", errors: &errors) == nil)
        #expect(errors == [.init(field: "/first_name", code: "required", message: "Must not be blank.")])
        #expect(ContactRules.text("  ") == nil)
        #expect(ContactRules.text(" Storgata 1 ") == "Storgata 1")
        #expect(ContactRules.text(nil) == nil)
    }
}

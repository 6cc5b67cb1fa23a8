import Foundation
import Testing

@testable import Meander

@Suite("RFC 3339 dates and date-times")
struct RFC3339Tests {
    @Test(
        "strict date-times parse to the instant they name",
        arguments: [
            ("2025-10-01T10:00:00Z", 1_759_312_800.0),
            ("2025-10-01T10:00:00z", 1_759_312_800.0),
            ("2025-10-01T10:00:00.250Z", 1_759_312_800.25),
            ("2025-10-01T12:00:00+02:00", 1_759_312_800.0),
            ("2025-10-01T08:30:00.5-01:30", 1_759_312_800.5),
            ("2024-02-29T00:00:00Z", 1_709_164_800.0),
        ])
    func valid(text: String, seconds: Double) throws {
        let date = try #require(RFC3339.date(from: text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 0.001)
    }

    @Test(
        "anything else is refused",
        arguments: [
            "2025-10-01", "2025-10-01T10:00:00", "2025-10-01 10:00:00Z", "2025-10-01t10:00:00Z",
            " 2025-10-01T10:00:00Z", "2025-10-01T10:00:00Zjunk", "2025-13-01T10:00:00Z", "2025-02-29T10:00:00Z",
            "2025-04-31T10:00:00Z", "2025-10-01T24:00:00Z", "2025-10-01T10:60:00Z", "2025-10-01T10:00:60Z",
            "2025-10-01T10:00:00.Z", "2025-10-01T10:00:00+0200", "2025-10-01T10:00:00+24:00", "20251001T100000Z",
            "２025-10-01T10:00:00Z", "",
        ])
    func invalid(text: String) {
        #expect(RFC3339.date(from: text) == nil)
    }

    @Test("full dates must name a day that exists")
    func fullDates() {
        #expect(RFC3339.isFullDate(Array("2024-02-29".utf8)))
        #expect(RFC3339.isFullDate(Array("2000-02-29".utf8)))
        #expect(!RFC3339.isFullDate(Array("1900-02-29".utf8)))
        #expect(!RFC3339.isFullDate(Array("2025-00-10".utf8)))
        #expect(!RFC3339.isFullDate(Array("2025-1-10".utf8)))
        #expect(!RFC3339.isFullDate(Array("2025-01-10Z".utf8)))
    }
}

import Testing
@testable import Meander
@Test func smoke() { #expect(1 == 1) }

import Foundation
import Testing

@testable import Meander

extension StorageTests {
    @Suite("SHA-256 hex digests")
    struct DigestTests {
        @Test(
            "matches the FIPS 180-2 examples",
            arguments: [
                ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
                ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            ])
        func examples(input: String, expected: String) {
            #expect(Digest.sha256Hex(Data(input.utf8)) == expected)
            #expect(Digest.sha256Hex(Array(input.utf8)) == expected)
        }

        @Test("hex is lower-case, two digits a byte")
        func hex() {
            #expect(Digest.hex([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
        }
    }
}

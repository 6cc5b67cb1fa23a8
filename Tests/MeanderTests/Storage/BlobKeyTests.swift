import Foundation
import Testing

@testable import Meander

extension StorageTests {
    @Suite("Storage keys")
    struct BlobKeyTests {
        @Test("attachment and receipt keys are lower-case paths under the organisation")
        func layout() throws {
            // given
            let organization = UUID(uuidString: "6F9619FF-8B86-D011-B42D-00C04FC964FF")!
            let file = UUID(uuidString: "0E984725-C51C-4BF4-9960-E1C80E27ABA0")!

            // when
            let attachment = BlobKey.attachment(organizationID: organization, attachmentID: file)
            let receipt = BlobKey.receipt(organizationID: organization, receiptID: file)

            // then
            #expect(attachment == "org/6f9619ff-8b86-d011-b42d-00c04fc964ff/attachments/0e984725-c51c-4bf4-9960-e1c80e27aba0")
            #expect(receipt == "org/6f9619ff-8b86-d011-b42d-00c04fc964ff/receipts/0e984725-c51c-4bf4-9960-e1c80e27aba0")
            try BlobKey.validate(attachment)
            try BlobKey.validate(receipt)
        }

        @Test("accepts safe keys", arguments: ["a", "org/x/attachments/y", "A-b_c.d/e.f", "x.tar.gz"])
        func accepts(key: String) throws {
            try BlobKey.validate(key)
        }

        static let unsafe: [String] = [
            "", "/abs/path", "a/", "a//b", "..", "../etc/passwd", "a/../b", "a/./b", "./a", ".hidden", "a/.tmp-x",
            "a b", "a\\b", "a\nb", "blåbær", "a?b", "a#b", "a%2Fb", "a:b", "a\u{0}b",
            String(repeating: "a", count: BlobKey.maxLength + 1),
        ]

        @Test("refuses keys that could escape a directory or need encoding", arguments: unsafe)
        func refuses(key: String) {
            #expect(throws: BlobStoreError.self) { try BlobKey.validate(key) }
        }

        @Test("errors map to problems that do not expose storage details")
        func appErrors() {
            #expect(BlobStoreError.notFound(key: "k").appError.code == .notFound)
            #expect(BlobStoreError.invalidKey("k", reason: "r").appError.code == .internalError)
            #expect(BlobStoreError.misconfigured("secret detail").appError.code == .internalError)
            #expect(BlobStoreError.misconfigured("secret detail").appError.detail?.contains("secret") == false)
            #expect(BlobStoreError.unavailable("down").appError.code == .serviceUnavailable)
        }
    }
}

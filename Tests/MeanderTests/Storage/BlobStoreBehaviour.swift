import Foundation
import Testing

@testable import Meander

/// What every `BlobStore` must do; each implementation's suite runs these checks against a fresh store.
enum BlobStoreBehaviour {
    /// A key no other test uses, in the layout the app uses.
    static func freshKey() -> String {
        BlobKey.attachment(organizationID: UUID(), attachmentID: UUID())
    }

    static func randomBytes(_ count: Int) -> Data {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    static func roundTrip(_ store: any BlobStore) async throws {
        // given
        let key = freshKey()
        let bytes = Data("%PDF-1.7\nevidence".utf8)

        // when
        try await store.put(key, bytes, contentType: "application/pdf")

        // then
        #expect(try await store.get(key) == bytes)
    }

    static func emptyAndLargeFiles(_ store: any BlobStore) async throws {
        // given
        let empty = freshKey()
        let large = freshKey()
        let bytes = randomBytes(3_000_000)

        // when
        try await store.put(empty, Data(), contentType: "application/octet-stream")
        try await store.put(large, bytes, contentType: "image/jpeg")

        // then
        #expect(try await store.get(empty) == Data())
        let fetched = try await store.get(large)
        #expect(fetched.count == bytes.count)
        #expect(Digest.sha256Hex(fetched) == Digest.sha256Hex(bytes))
    }

    /// A file stored from disk and read back as a stream of chunks: the bytes survive both ways, in several chunks.
    static func fileInStreamOut(_ store: any BlobStore) async throws {
        // given
        let key = freshKey()
        let bytes = randomBytes(1_000_000)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("blob-\(UUID().uuidString)")
        try bytes.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }

        // when
        try await store.putFile(key, from: file, sha256: Digest.sha256Hex(bytes), contentType: "application/zip")
        let stream = try await store.stream(key)
        var received = Data()
        var chunks = 0
        for try await chunk in stream.chunks {
            received.append(contentsOf: chunk.readableBytesView)
            chunks += 1
        }

        // then
        #expect(received == bytes)
        #expect(chunks > 1, "streamed in chunks, not in one piece")
        #expect(stream.length == bytes.count)
        await #expect(throws: BlobStoreError.notFound(key: "org/none/exports/missing")) {
            _ = try await store.stream("org/none/exports/missing")
        }
    }

    static func overwrite(_ store: any BlobStore) async throws {
        // given
        let key = freshKey()
        try await store.put(key, Data("first, and longer".utf8), contentType: "image/png")

        // when
        try await store.put(key, Data("second".utf8), contentType: "image/png")

        // then
        #expect(try await store.get(key) == Data("second".utf8))
    }

    static func missingKeyIsNotFound(_ store: any BlobStore) async throws {
        // given
        let key = freshKey()

        // then
        await #expect(throws: BlobStoreError.notFound(key: key)) { try await store.get(key) }
    }

    static func deleteIsIdempotent(_ store: any BlobStore) async throws {
        // given
        let key = freshKey()
        let neighbour = freshKey()
        try await store.put(key, Data("bye".utf8), contentType: "image/png")
        try await store.put(neighbour, Data("stay".utf8), contentType: "image/png")

        // when
        try await store.delete(key)
        try await store.delete(key)
        try await store.delete(freshKey())

        // then
        await #expect(throws: BlobStoreError.notFound(key: key)) { try await store.get(key) }
        #expect(try await store.get(neighbour) == Data("stay".utf8))
    }

    static func keysAreIndependent(_ store: any BlobStore) async throws {
        // given: keys that share prefixes
        let organization = UUID()
        let keys = (0..<5).map { _ in BlobKey.attachment(organizationID: organization, attachmentID: UUID()) }

        // when: written concurrently
        try await withThrowingTaskGroup(of: Void.self) { group in
            for key in keys {
                group.addTask { try await store.put(key, Data(key.utf8), contentType: "image/png") }
            }
            try await group.waitForAll()
        }

        // then
        for key in keys {
            #expect(try await store.get(key) == Data(key.utf8))
        }
    }

    static let unsafeKeys = ["", "/etc/passwd", "../outside", "org/../../outside", "org//x", "org/x/", "a b", ".hidden"]

    static func refusesUnsafeKeys(_ store: any BlobStore) async throws {
        for key in unsafeKeys {
            await #expect(throws: BlobStoreError.self, "put \(key)") {
                try await store.put(key, Data("x".utf8), contentType: "image/png")
            }
            await #expect(throws: BlobStoreError.self, "get \(key)") { try await store.get(key) }
            await #expect(throws: BlobStoreError.self, "delete \(key)") { try await store.delete(key) }
            await #expect(throws: BlobStoreError.self, "presign \(key)") {
                try await store.presignedDownloadURL(key, fileName: "x.png", contentType: "image/png")
            }
            do {
                _ = try await store.get(key)
            } catch let error as BlobStoreError {
                guard case .invalidKey = error else {
                    Issue.record("\(key): expected invalidKey, got \(error)")
                    continue
                }
            }
        }
    }
}

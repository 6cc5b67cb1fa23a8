import Foundation
import Testing

@testable import Meander

extension StorageTests {
    @Suite("Local file storage")
    struct LocalBlobStoreTests {
        /// Runs `body` with a store in a new directory below a new temporary parent, removed afterwards.
        static func withStore(_ body: (LocalBlobStore, _ parent: String) async throws -> Void) async throws {
            let parent = FileManager.default.temporaryDirectory
                .appendingPathComponent("meander-files-\(UUID().uuidString.lowercased())").path
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: parent) }
            try await body(LocalBlobStore(directory: parent + "/files"), parent)
        }

        static func mode(_ path: String) throws -> Int {
            try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
        }

        @Test("stores and reads back bytes")
        func roundTrip() async throws {
            try await Self.withStore { store, _ in try await BlobStoreBehaviour.roundTrip(store) }
        }

        @Test("stores empty and multi-megabyte files")
        func emptyAndLarge() async throws {
            try await Self.withStore { store, _ in try await BlobStoreBehaviour.emptyAndLargeFiles(store) }
        }

        @Test("a file stored from disk reads back as a stream of chunks")
        func fileInStreamOut() async throws {
            try await Self.withStore { store, _ in try await BlobStoreBehaviour.fileInStreamOut(store) }
        }

        @Test("a second put replaces the bytes")
        func overwrite() async throws {
            try await Self.withStore { store, _ in try await BlobStoreBehaviour.overwrite(store) }
        }

        @Test("reading a missing key is notFound")
        func missing() async throws {
            try await Self.withStore { store, _ in try await BlobStoreBehaviour.missingKeyIsNotFound(store) }
        }

        @Test("delete removes one file and may be repeated")
        func delete() async throws {
            try await Self.withStore { store, _ in try await BlobStoreBehaviour.deleteIsIdempotent(store) }
        }

        @Test("concurrent writes to neighbouring keys stay apart")
        func independentKeys() async throws {
            try await Self.withStore { store, _ in try await BlobStoreBehaviour.keysAreIndependent(store) }
        }

        @Test("refuses unsafe keys and writes nothing outside its directory")
        func unsafeKeys() async throws {
            try await Self.withStore { store, parent in
                // when
                try await BlobStoreBehaviour.refusesUnsafeKeys(store)

                // then
                #expect(try FileManager.default.contentsOfDirectory(atPath: parent).filter { $0 != "files" } == [])
            }
        }

        @Test("directories are 0700, files 0600, written via a temporary file that does not stay behind")
        func permissions() async throws {
            try await Self.withStore { store, _ in
                // given
                let key = BlobStoreBehaviour.freshKey()

                // when
                try await store.put(key, Data("secret evidence".utf8), contentType: "application/pdf")
                try await store.put(key, Data("replaced".utf8), contentType: "application/pdf")

                // then
                let path = try store.path(for: key)
                #expect(path == store.directory + "/" + key)
                #expect(try Self.mode(path) & 0o777 == 0o600)
                var folder = (path as NSString).deletingLastPathComponent
                while folder.count >= store.directory.count {
                    #expect(try Self.mode(folder) & 0o777 == 0o700, "\(folder)")
                    folder = (folder as NSString).deletingLastPathComponent
                }
                let siblings = try FileManager.default.contentsOfDirectory(
                    atPath: (path as NSString).deletingLastPathComponent)
                #expect(siblings == [(key as NSString).lastPathComponent])
            }
        }

        @Test("a key that is only a prefix of others (a directory here) holds no object")
        func prefixKey() async throws {
            try await Self.withStore { store, _ in
                // given
                let organization = UUID().uuidString.lowercased()
                try await store.put("org/\(organization)/attachments/a", Data("x".utf8), contentType: "image/png")

                // then
                await #expect(throws: BlobStoreError.notFound(key: "org/\(organization)")) {
                    try await store.get("org/\(organization)")
                }
                try await store.delete("org/\(organization)")
                #expect(try await store.get("org/\(organization)/attachments/a") == Data("x".utf8))
            }
        }

        @Test("does not presign")
        func noPresigning() async throws {
            try await Self.withStore { store, _ in
                #expect(store.name == "local")
                let url = try await store.presignedDownloadURL(
                    BlobStoreBehaviour.freshKey(), fileName: "a.pdf", contentType: "application/pdf")
                #expect(url == nil)
            }
        }

        @Test("a relative directory is a configuration error")
        func relativeDirectory() async throws {
            // given
            let store = LocalBlobStore(directory: "files")

            // then
            await #expect(throws: BlobStoreError.self) {
                try await store.put(BlobStoreBehaviour.freshKey(), Data(), contentType: "image/png")
            }
            #expect(
                throws: BlobStoreError.misconfigured(
                    "the storage directory 'files' is not an absolute path (MEANDER_STORAGE_DIR)")
            ) {
                try store.path(for: "a")
            }
        }

        @Test("the app's default configuration keeps files in the data directory")
        func wiredIntoTheApp() async throws {
            try await withTestApp(migrate: false) { app in
                // given
                let store = try #require(app.meander.files as? LocalBlobStore)
                let key = BlobStoreBehaviour.freshKey()

                // when
                try await store.put(key, Data("x".utf8), contentType: "image/png")

                // then
                #expect(store.directory == app.meander.config.dataDirectory + "/files")
                #expect(FileManager.default.fileExists(atPath: app.meander.config.dataDirectory + "/files/" + key))
            }
        }
    }
}

import Foundation
import NIOCore
import Testing
import Vapor

@testable import Meander

/// The S3-compatible test server that `scripts/with-moto` starts and describes in `MEANDER_TEST_S3_*`.
enum S3TestServer {
    /// Its bucket and the access key of an IAM user allowed `s3:*`; nil when the variables are not set.
    static let config: AppConfig.S3? = {
        let environment = ProcessInfo.processInfo.environment
        guard let endpoint = environment["MEANDER_TEST_S3_ENDPOINT"], !endpoint.isEmpty else { return nil }
        return AppConfig.S3(
            endpoint: endpoint, bucket: environment["MEANDER_TEST_S3_BUCKET"] ?? "meander-test",
            region: environment["MEANDER_TEST_S3_REGION"] ?? "us-east-1",
            accessKeyID: environment["MEANDER_TEST_S3_ACCESS_KEY_ID"] ?? "",
            secretAccessKey: environment["MEANDER_TEST_S3_SECRET_ACCESS_KEY"] ?? "")
    }()

    static let isRunning = config != nil

    /// A store on the test bucket, changed by `adjust` (a wrong secret, say).
    static func store(presign: Int? = nil, _ adjust: (inout AppConfig.S3) -> Void = { _ in }) throws -> S3BlobStore {
        var config = try #require(config)
        config.presignedDownloadLifetime = presign
        adjust(&config)
        return S3BlobStore(config: config, client: .shared)
    }

    /// Ways to change a presigned URL after it was signed.
    enum Tampering: String, CaseIterable, Sendable {
        case anotherKey, longerLifetime, anotherType, anotherSignature

        func apply(to url: String, key: String) -> String {
            switch self {
            case .anotherKey:
                return url.replacingOccurrences(of: key, with: key + "x")
            case .longerLifetime:
                return url.replacingOccurrences(of: "X-Amz-Expires=60", with: "X-Amz-Expires=600")
            case .anotherType:
                return url.replacingOccurrences(of: "image%2Fpng", with: "text%2Fhtml")
            case .anotherSignature:
                let start = url.range(of: "X-Amz-Signature=")!.upperBound
                return url.replacingCharacters(in: start...start, with: url[start] == "0" ? "1" : "0")
            }
        }
    }

    /// A plain, unsigned GET, as a browser following the redirect would make it.
    static func download(_ url: URL) async throws -> HTTPClient.Response {
        try await HTTPClient.shared.execute(request: HTTPClient.Request(url: url), deadline: .now() + .seconds(30)).get()
    }
}

extension StorageTests {
    @Suite(
        "S3 storage against a real S3-compatible server",
        .enabled(
            if: S3TestServer.isRunning,
            "MEANDER_TEST_S3_ENDPOINT is not set: run under scripts/with-moto (scripts/test and CI do)"))
    struct S3BlobStoreTests {
        @Test("stores and reads back bytes")
        func roundTrip() async throws {
            try await BlobStoreBehaviour.roundTrip(S3TestServer.store())
        }

        @Test("stores empty and multi-megabyte files")
        func emptyAndLarge() async throws {
            try await BlobStoreBehaviour.emptyAndLargeFiles(S3TestServer.store())
        }

        @Test("a file stored from disk reads back as a stream of chunks")
        func fileInStreamOut() async throws {
            try await BlobStoreBehaviour.fileInStreamOut(S3TestServer.store())
        }

        @Test("a second put replaces the bytes")
        func overwrite() async throws {
            try await BlobStoreBehaviour.overwrite(S3TestServer.store())
        }

        @Test("reading a missing key is notFound")
        func missing() async throws {
            try await BlobStoreBehaviour.missingKeyIsNotFound(S3TestServer.store())
        }

        @Test("delete removes one object and may be repeated")
        func delete() async throws {
            try await BlobStoreBehaviour.deleteIsIdempotent(S3TestServer.store())
        }

        @Test("concurrent writes to neighbouring keys stay apart")
        func independentKeys() async throws {
            try await BlobStoreBehaviour.keysAreIndependent(S3TestServer.store())
        }

        @Test("refuses unsafe keys before asking the server")
        func unsafeKeys() async throws {
            try await BlobStoreBehaviour.refusesUnsafeKeys(S3TestServer.store(presign: 60))
        }

        @Test("a presigned URL downloads the bytes with a plain GET, as an attachment of the given type")
        func presignedDownload() async throws {
            // given
            let store = try S3TestServer.store(presign: 120)
            let key = BlobStoreBehaviour.freshKey()
            let bytes = BlobStoreBehaviour.randomBytes(50_000)
            try await store.put(key, bytes, contentType: "image/png")

            // when
            let url = try #require(try await store.presignedDownloadURL(key, fileName: "Møte på Ås.png", contentType: "image/png"))
            let response = try await S3TestServer.download(url)

            // then
            #expect(response.status == .ok)
            #expect(response.body.map { Data($0.readableBytesView) } == bytes)
            #expect(response.headers.first(name: "Content-Type") == "image/png")
            #expect(
                response.headers.first(name: "Content-Disposition")
                    == ContentDisposition.attachment(fileName: "Møte på Ås.png"))
            #expect(url.query?.contains("X-Amz-Expires=120") == true)
            #expect(url.path.hasSuffix("/\(S3TestServer.config!.bucket)/\(key)"))
        }

        @Test("an expired presigned URL is refused")
        func presignedExpired() async throws {
            // given: a URL valid for a minute, made an hour ago
            let store = try S3TestServer.store(presign: 60)
            let key = BlobStoreBehaviour.freshKey()
            try await store.put(key, Data("old".utf8), contentType: "image/png")
            let url = try store.presignedDownloadURL(
                key, fileName: "a.png", contentType: "image/png", lifetime: 60, at: Date().addingTimeInterval(-3600))

            // when
            let response = try await S3TestServer.download(url)

            // then
            #expect(response.status == .forbidden)
            #expect(response.body.flatMap { S3BlobStore.errorCode(inXML: String(buffer: $0)) } == "AccessDenied")
        }

        @Test("a tampered presigned URL is refused", arguments: S3TestServer.Tampering.allCases)
        func presignedTampered(change: S3TestServer.Tampering) async throws {
            // given
            let store = try S3TestServer.store(presign: 60)
            let key = BlobStoreBehaviour.freshKey()
            try await store.put(key, Data("evidence".utf8), contentType: "image/png")
            let url = try #require(try await store.presignedDownloadURL(key, fileName: "a.png", contentType: "image/png"))
            let tampered = try #require(URL(string: change.apply(to: url.absoluteString, key: key)))
            #expect(tampered != url, "\(change) changed nothing")

            // when
            let response = try await S3TestServer.download(tampered)

            // then
            #expect(response.status == .forbidden, "\(change)")
            #expect(
                response.body.flatMap { S3BlobStore.errorCode(inXML: String(buffer: $0)) } == "SignatureDoesNotMatch",
                "\(change)")
        }

        @Test("without MEANDER_S3_PRESIGN_SECONDS the server streams downloads itself")
        func noPresigning() async throws {
            let store = try S3TestServer.store(presign: nil)
            #expect(store.name == "s3")
            #expect(
                try await store.presignedDownloadURL(BlobStoreBehaviour.freshKey(), fileName: "a.pdf", contentType: "application/pdf")
                    == nil)
        }

        @Test("a wrong secret gets the server's signature error, reported as a configuration problem")
        func wrongSecret() async throws {
            // given
            let wrongSecret = "wJalrXUtnFEMI-not-the-right-secret-EXAMPLE"
            let store = try S3TestServer.store { $0.secretAccessKey = wrongSecret }

            // when
            let error = await #expect(throws: BlobStoreError.self) {
                try await store.put(BlobStoreBehaviour.freshKey(), Data("x".utf8), contentType: "image/png")
            }

            // then
            guard case .misconfigured(let message) = error else {
                Issue.record("expected misconfigured, got \(String(describing: error))")
                return
            }
            #expect(message.contains("SignatureDoesNotMatch"))
            #expect(message.contains("MEANDER_S3_SECRET_ACCESS_KEY"))
            #expect(!message.contains(wrongSecret))
            #expect(!String(describing: store.config).contains(wrongSecret))
            await #expect(throws: BlobStoreError.self) { try await store.get(BlobStoreBehaviour.freshKey()) }
        }

        @Test("an unknown access key id and a missing bucket are configuration problems")
        func unknownKeyAndBucket() async throws {
            // given
            let unknownKey = try S3TestServer.store { $0.accessKeyID = "AKIAUNKNOWNKEY000000" }
            let noBucket = try S3TestServer.store { $0.bucket = "no-such-bucket-\(UUID().uuidString.lowercased().prefix(8))" }

            // when
            let keyError = await #expect(throws: BlobStoreError.self) { try await unknownKey.get(BlobStoreBehaviour.freshKey()) }
            let bucketError = await #expect(throws: BlobStoreError.self) {
                try await noBucket.put(BlobStoreBehaviour.freshKey(), Data("x".utf8), contentType: "image/png")
            }

            // then
            #expect(keyError.map { "\($0)" }?.contains("InvalidAccessKeyId") == true, "\(String(describing: keyError))")
            #expect(bucketError.map { "\($0)" }?.contains("NoSuchBucket") == true, "\(String(describing: bucketError))")
            if case .misconfigured = keyError {} else { Issue.record("unknown key: \(String(describing: keyError))") }
            if case .misconfigured = bucketError {} else { Issue.record("no bucket: \(String(describing: bucketError))") }
        }

        @Test("the app builds an S3 store from MEANDER_STORAGE=s3")
        func wiredIntoTheApp() async throws {
            let s3 = try #require(S3TestServer.config)
            try await withTestApp(migrate: false, configure: { $0.storage = .s3(s3) }) { app in
                // given
                let store = try #require(app.meander.files as? S3BlobStore)
                let key = BlobStoreBehaviour.freshKey()

                // when
                try await store.put(key, Data("via the app".utf8), contentType: "application/pdf")

                // then
                #expect(try await store.get(key) == Data("via the app".utf8))
            }
        }
    }

    @Suite("S3 storage without a server")
    struct S3BlobStoreOfflineTests {
        @Test("scripts/test provides the S3 test server (MEANDER_TEST_S3_REQUIRED=1): the S3 suite may not skip there")
        func serverPresentWhenRequired() {
            let required = ProcessInfo.processInfo.environment["MEANDER_TEST_S3_REQUIRED"] == "1"
            #expect(!required || S3TestServer.isRunning, "MEANDER_TEST_S3_REQUIRED=1 but MEANDER_TEST_S3_ENDPOINT is not set")
        }

        static let config = AppConfig.S3(
            endpoint: "http://127.0.0.1:1", bucket: "evidence", region: "eu-north-1", accessKeyID: "AKIAIOSFODNN7EXAMPLE",
            secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", presignedDownloadLifetime: 300)

        @Test("an unreachable endpoint is unavailable, not misconfigured")
        func unreachable() async throws {
            // given: nothing listens on port 1
            let store = S3BlobStore(config: Self.config, client: .shared, timeout: .seconds(2))

            // when
            let error = await #expect(throws: BlobStoreError.self) { try await store.get(BlobStoreBehaviour.freshKey()) }

            // then
            guard case .unavailable(let message) = error else {
                Issue.record("expected unavailable, got \(String(describing: error))")
                return
            }
            #expect(!message.contains(Self.config.secretAccessKey))
        }

        @Test("presigned URLs are path-style, scoped to the region and carry the download headers")
        func presignedShape() throws {
            // given
            var config = Self.config
            config.endpoint = "https://s3.eu-north-1.amazonaws.com"
            let store = S3BlobStore(config: config, client: .shared)
            let date = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z

            // when
            let url = try store.presignedDownloadURL(
                "org/a/attachments/b", fileName: "kvittering.pdf", contentType: "application/pdf", lifetime: 300, at: date)

            // then
            let components = try #require(URLComponents(url: url, resolvingAgainstBaseURL: false))
            let query = Dictionary(uniqueKeysWithValues: (components.queryItems ?? []).map { ($0.name, $0.value ?? "") })
            #expect(components.scheme == "https")
            #expect(components.host == "s3.eu-north-1.amazonaws.com")
            #expect(components.path == "/evidence/org/a/attachments/b")
            #expect(query["X-Amz-Credential"] == "AKIAIOSFODNN7EXAMPLE/20130524/eu-north-1/s3/aws4_request")
            #expect(query["X-Amz-Expires"] == "300")
            #expect(query["X-Amz-SignedHeaders"] == "host")
            #expect(query["response-content-type"] == "application/pdf")
            #expect(query["response-content-disposition"] == ContentDisposition.attachment(fileName: "kvittering.pdf"))
            #expect(query["X-Amz-Signature"]?.count == 64)
            #expect(!url.absoluteString.contains("wJalrXUtnFEMI"))
        }

        @Test("printing the store or the app's state never shows the secret")
        func descriptions() {
            // given
            let store: any BlobStore = S3BlobStore(config: Self.config, client: .shared)

            // then
            for text in ["\(store)", String(reflecting: store), "\([store])", "\(Optional(store) as Any)"] {
                #expect(!text.contains(Self.config.secretAccessKey), "\(text)")
                #expect(text.contains("evidence"), "\(text)")
            }
        }

        @Test("a malformed endpoint is a configuration problem")
        func malformedEndpoint() async throws {
            // given
            var config = Self.config
            config.endpoint = "s3.example.com"
            let store = S3BlobStore(config: config, client: .shared)

            // then
            await #expect(throws: BlobStoreError.misconfigured("MEANDER_S3_ENDPOINT 's3.example.com' is not an http(s) URL")) {
                try await store.get("a")
            }
        }

        @Test("reads the error code of an S3 error document")
        func errorCode() {
            let xml = """
                <?xml version="1.0" encoding="UTF-8"?>
                <Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a</Key></Error>
                """
            #expect(S3BlobStore.errorCode(inXML: xml) == "NoSuchKey")
            #expect(S3BlobStore.errorCode(inXML: "<html>bad gateway</html>") == nil)
            #expect(S3BlobStore.errorCode(inXML: "<Code></Code>") == nil)
        }
    }
}

import Foundation
import Testing

@testable import Meander

@Suite("Configuration: storage, uploads and previous master keys")
struct AppConfigStorageTests {
    private func load(_ environment: [String: String]) throws(ConfigError) -> AppConfig {
        let cwd = FileManager.default.temporaryDirectory.appendingPathComponent("meander-config-\(UUID())").path
        return try AppConfig.load(from: environment, workingDirectory: cwd)
    }

    @Test("defaults: local files in the data directory, 15 MB uploads, no previous master keys")
    func defaults() throws {
        let config = try load([:])
        #expect(config.storage == .local(directory: config.dataDirectory + "/files"))
        #expect(config.maxUploadSize == 15_000_000)
        #expect(config.previousMasterKeys.isEmpty)
    }

    @Test("S3 with every setting; the secret never shows in its description")
    func s3() throws {
        let config = try load([
            "MEANDER_STORAGE": "s3", "MEANDER_S3_ENDPOINT": "http://127.0.0.1:5000/", "MEANDER_S3_BUCKET": "evidence",
            "MEANDER_S3_ACCESS_KEY_ID": "AKIDEXAMPLE", "MEANDER_S3_SECRET_ACCESS_KEY": "very-secret-value",
            "MEANDER_S3_PRESIGN_SECONDS": "120", "MEANDER_MAX_UPLOAD_SIZE": "2000000",
        ])
        guard case .s3(let s3) = config.storage else {
            Issue.record("expected S3 storage, got \(config.storage)")
            return
        }
        #expect(s3.endpoint == "http://127.0.0.1:5000")
        #expect(s3.region == "us-east-1")
        #expect(s3.presignedDownloadLifetime == 120)
        #expect(config.maxUploadSize == 2_000_000)
        #expect(!"\(s3)".contains("very-secret-value"))
    }

    @Test("S3 without its settings, an unknown storage and bad keys are each reported")
    func problems() throws {
        let error = #expect(throws: ConfigError.self) {
            try load(["MEANDER_STORAGE": "s3", "MEANDER_S3_ENDPOINT": "ftp://x", "MEANDER_MASTER_KEY_PREVIOUS": "nope"])
        }
        let problems = error?.problems ?? []
        for key in [
            "MEANDER_S3_BUCKET", "MEANDER_S3_ACCESS_KEY_ID", "MEANDER_S3_SECRET_ACCESS_KEY", "MEANDER_S3_ENDPOINT",
            "MEANDER_MASTER_KEY_PREVIOUS",
        ] {
            #expect(problems.contains { $0.hasPrefix(key) }, "\(key) in \(problems)")
        }
        let unknown = #expect(throws: ConfigError.self) { try load(["MEANDER_STORAGE": "ftp"]) }
        #expect(unknown?.problems == ["MEANDER_STORAGE: 'ftp' is not one of local, s3"])
    }

    @Test("previous master keys: a list, comma- or newline-separated")
    func previousKeys() throws {
        let one = Data(repeating: 1, count: 32).base64EncodedString()
        let two = Data(repeating: 2, count: 32).base64EncodedString()
        let config = try load(["MEANDER_MASTER_KEY_PREVIOUS": "\(one),\n\(two)"])
        #expect(config.previousMasterKeys.map(\.bytes) == [Array(repeating: 1, count: 32), Array(repeating: 2, count: 32)])
    }
}

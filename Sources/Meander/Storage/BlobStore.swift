import Foundation
import Vapor

/// Where the bytes of evidence files live: a directory (`LocalBlobStore`) or an S3 bucket (`S3BlobStore`).
///
/// Objects are addressed by keys such as `org/<uuid>/attachments/<uuid>` (see `BlobKey`); every method checks its
/// key with `BlobKey.validate` first. Failures are always `BlobStoreError`.
protocol BlobStore: Sendable {
    /// `local` or `s3`, for logs and the status endpoint.
    var name: String { get }

    /// Stores `bytes` under `key`, replacing what was there. When it returns, the object is durably stored.
    func put(_ key: String, _ bytes: Data, contentType: String) async throws

    /// The bytes under `key`; `BlobStoreError.notFound` when there are none.
    func get(_ key: String) async throws -> Data

    /// Stores the file at `fileURL` under `key` without reading it into memory whole. `sha256` is the file's hex
    /// digest, which the caller computed while writing it (S3 signs it).
    func putFile(_ key: String, from fileURL: URL, sha256: String, contentType: String) async throws

    /// The object under `key` as a stream of chunks; `BlobStoreError.notFound` when there is none.
    func stream(_ key: String) async throws -> BlobStream

    /// Removes the object under `key`; succeeds when there was none.
    func delete(_ key: String) async throws

    /// A short-lived URL from which anyone holding it can download the object as `fileName` (an attachment) with
    /// the media type `contentType`; nil when this store does not presign (local, or S3 without
    /// `MEANDER_S3_PRESIGN_SECONDS`), in which case the server streams `get`'s bytes itself.
    func presignedDownloadURL(_ key: String, fileName: String, contentType: String) async throws -> URL?
}

/// Why a blob store could not do what was asked. Messages never hold secrets.
enum BlobStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No object under the key.
    case notFound(key: String)
    /// The key is not of the allowed form: a bug in the caller, never the client's input.
    case invalidKey(String, reason: String)
    /// The store refuses us because of how it is set up (credentials, bucket, permissions, clock): an operator must
    /// fix the configuration; retrying does not help.
    case misconfigured(String)
    /// The store could not be reached or failed (network, timeouts, 5xx): retrying later may help.
    case unavailable(String)

    var description: String {
        switch self {
        case .notFound(let key): "no stored file under '\(key)'"
        case .invalidKey(let key, let reason): "invalid storage key '\(key)': \(reason)"
        case .misconfigured(let message): "file storage is misconfigured: \(message)"
        case .unavailable(let message): "file storage is unavailable: \(message)"
        }
    }

    /// What an API client sees: the storage details stay in the server's log.
    var appError: AppError {
        switch self {
        case .notFound: AppError.goneFromVisibleRecord("The file is no longer stored.")
        case .invalidKey, .misconfigured: AppError(.internalError, "File storage failed. Quote the request id when reporting it.")
        case .unavailable: AppError(.serviceUnavailable, "File storage is unavailable; try again later.")
        }
    }
}

/// The keys under which files are stored, and the one check every store applies to them.
enum BlobKey {
    /// The longest key accepted (S3 allows 1024 bytes).
    static let maxLength = 512

    /// `org/<organisation>/attachments/<attachment>`, UUIDs in lower case.
    static func attachment(organizationID: UUID, attachmentID: UUID) -> String {
        "org/\(organizationID.uuidString.lowercased())/attachments/\(attachmentID.uuidString.lowercased())"
    }

    /// `org/<organisation>/exports/<export>`, UUIDs in lower case: the file of one Bufdir export.
    static func export(organizationID: UUID, exportID: UUID) -> String {
        "org/\(organizationID.uuidString.lowercased())/exports/\(exportID.uuidString.lowercased())"
    }

    /// `org/<organisation>/receipts/<receipt>`, UUIDs in lower case.
    static func receipt(organizationID: UUID, receiptID: UUID) -> String {
        "org/\(organizationID.uuidString.lowercased())/receipts/\(receiptID.uuidString.lowercased())"
    }

    private static let allowedBytes = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.".utf8)

    /// Accepts `/`-separated segments of ASCII letters, digits, `-`, `_` and `.`, none empty and none starting
    /// with `.` (so no `.`/`..` segment can climb out of a directory, and no key can collide with a store's hidden
    /// temporary files); no leading or trailing `/`.
    static func validate(_ key: String) throws(BlobStoreError) {
        func fail(_ reason: String) -> BlobStoreError { .invalidKey(key, reason: reason) }
        guard !key.isEmpty else { throw fail("empty") }
        guard key.utf8.count <= maxLength else { throw fail("longer than \(maxLength) bytes") }
        guard !key.hasPrefix("/") else { throw fail("starts with '/'") }
        for segment in key.split(separator: "/", omittingEmptySubsequences: false) {
            guard !segment.isEmpty else { throw fail("has an empty segment") }
            guard segment.first != "." else { throw fail("has a segment starting with '.'") }
            let allowed = segment.utf8.allSatisfy(allowedBytes.contains)
            guard allowed else { throw fail("has characters other than letters, digits, '-', '_', '.' and '/'") }
        }
    }
}

extension AppConfig.Storage {
    /// The store this setting names. The HTTP client is only asked for when the store is S3.
    func makeBlobStore(httpClient: @autoclosure () -> HTTPClient) -> any BlobStore {
        switch self {
        case .local(let directory): LocalBlobStore(directory: directory)
        case .s3(let s3): S3BlobStore(config: s3, client: httpClient())
        }
    }
}

import AsyncHTTPClient
import Foundation
import NIOCore
import Vapor

/// An S3-compatible bucket (`MEANDER_STORAGE=s3`), addressed path-style (`endpoint/bucket/key`) and signed with
/// AWS Signature V4.
///
/// Every request carries the SHA-256 of its body (`x-amz-content-sha256`), so the store checks that it received
/// the bytes that were signed. S3's XML error codes become `BlobStoreError`s: a missing key is `notFound`; a
/// refused signature, an unknown key id, a missing bucket or a denied permission is `misconfigured`, naming the
/// setting to check but never a secret.
struct S3BlobStore: BlobStore, CustomStringConvertible {
    let config: AppConfig.S3
    let client: HTTPClient
    /// The clock the signatures use.
    let now: @Sendable () -> Date
    /// How long one request may take, connection included.
    let timeout: TimeAmount
    private let signer: SigV4Signer

    var name: String { "s3" }

    /// Never the secret (the default would print the signer's fields).
    var description: String { "S3BlobStore(\(config))" }

    init(
        config: AppConfig.S3, client: HTTPClient, timeout: TimeAmount = .seconds(60),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.config = config
        self.client = client
        self.timeout = timeout
        self.now = now
        signer = SigV4Signer(
            accessKeyID: config.accessKeyID, secretAccessKey: config.secretAccessKey, region: config.region)
    }

    func put(_ key: String, _ bytes: Data, contentType: String) async throws {
        let response = try await send(.PUT, key: key, headers: [("content-type", contentType)], body: bytes)
        guard response.status == .ok else { throw failure(response, key: key, operation: "store") }
    }

    func get(_ key: String) async throws -> Data {
        let response = try await send(.GET, key: key)
        guard response.status == .ok else { throw failure(response, key: key, operation: "read") }
        return response.body.map { Data($0.readableBytesView) } ?? Data()
    }

    func putFile(_ key: String, from fileURL: URL, sha256: String, contentType: String) async throws {
        let size = (try? FileManager.default.attributesOfItem(atPath: fileURL.path)[.size] as? NSNumber)?.int64Value ?? 0
        let file = try FileChunks.stream(path: fileURL.path)
        var request = try signedRequest(
            .PUT, key: key, payloadHash: sha256,
            headers: [("content-type", contentType), ("content-length", String(size))])
        request.body = .stream(file.chunks, length: .known(size))
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, deadline: .now() + timeout)
        } catch {
            throw BlobStoreError.unavailable("S3 upload failed: \(error)")
        }
        guard response.status == .ok else {
            let body = try? await response.body.collect(upTo: 64 * 1024)
            throw failure(status: response.status, body: body, key: key, operation: "store")
        }
    }

    func stream(_ key: String) async throws -> BlobStream {
        let request = try signedRequest(.GET, key: key, payloadHash: Digest.sha256Hex(Data()))
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, deadline: .now() + timeout)
        } catch {
            throw BlobStoreError.unavailable("S3 read failed: \(error)")
        }
        guard response.status == .ok else {
            let body = try? await response.body.collect(upTo: 64 * 1024)
            throw failure(status: response.status, body: body, key: key, operation: "read")
        }
        let length = response.headers.first(name: "content-length").flatMap(Int.init)
        let body = response.body
        // The client's body applies backpressure itself: the next part is read from the socket when it is asked for.
        let chunks = BlobChunks {
            let iterator = SequentialIterator(body.makeAsyncIterator())
            return {
                do {
                    return try await iterator.next()
                } catch {
                    throw BlobStoreError.unavailable("S3 read failed: \(error)")
                }
            }
        }
        return BlobStream(length: length, chunks: chunks)
    }

    /// A signed request for the async client (streaming bodies).
    private func signedRequest(
        _ method: HTTPMethod, key: String, payloadHash: String, headers extra: [(String, String)] = []
    ) throws(BlobStoreError) -> HTTPClientRequest {
        let target = try target(for: key)
        let signing = SigV4Signer.Request(
            method: method.rawValue, path: target.path,
            headers: [("host", target.host), ("x-amz-content-sha256", payloadHash)] + extra.filter { $0.0 != "content-length" },
            payloadHash: payloadHash)
        var request = HTTPClientRequest(url: target.origin + target.path)
        request.method = method
        request.headers = HTTPHeaders(signer.signedHeaders(for: signing, at: now()))
        for (name, value) in extra where name == "content-length" { request.headers.replaceOrAdd(name: name, value: value) }
        return request
    }

    func delete(_ key: String) async throws {
        let response = try await send(.DELETE, key: key)
        // S3 answers 204 whether or not the key existed; some compatible stores answer 404 NoSuchKey.
        switch response.status {
        case .ok, .noContent: return
        default:
            let error = failure(response, key: key, operation: "delete")
            if case .notFound = error { return }
            throw error
        }
    }

    func presignedDownloadURL(_ key: String, fileName: String, contentType: String) async throws -> URL? {
        try BlobKey.validate(key)
        guard let lifetime = config.presignedDownloadLifetime else { return nil }
        return try presignedDownloadURL(key, fileName: fileName, contentType: contentType, lifetime: lifetime, at: now())
    }

    /// A GET URL valid for `lifetime` seconds from `date`, whose answer carries `Content-Disposition: attachment`
    /// with `fileName` and `Content-Type: contentType`.
    func presignedDownloadURL(
        _ key: String, fileName: String, contentType: String, lifetime: Int, at date: Date
    ) throws(BlobStoreError) -> URL {
        let target = try target(for: key)
        let request = SigV4Signer.Request(
            method: "GET", path: target.path,
            query: [
                ("response-content-disposition", ContentDisposition.attachment(fileName: fileName)),
                ("response-content-type", contentType),
            ],
            headers: [("host", target.host)], payloadHash: SigV4Signer.unsignedPayload)
        let query = signer.presignedQuery(for: request, at: date, expires: lifetime)
        guard let url = URL(string: target.origin + target.path + "?" + SigV4Signer.canonicalQueryString(query)) else {
            throw .misconfigured("MEANDER_S3_ENDPOINT '\(config.endpoint)' does not make a valid URL")
        }
        return url
    }

    // MARK: - Requests

    /// Where a key's object lives: `origin` (`scheme://host[:port]`), the `Host` header and the encoded path.
    private struct Target {
        var origin: String
        var host: String
        var path: String
    }

    private func target(for key: String) throws(BlobStoreError) -> Target {
        try BlobKey.validate(key)
        guard let endpoint = URLComponents(string: config.endpoint), let scheme = endpoint.scheme?.lowercased(),
            ["http", "https"].contains(scheme), var host = endpoint.host, !host.isEmpty
        else {
            throw .misconfigured("MEANDER_S3_ENDPOINT '\(config.endpoint)' is not an http(s) URL")
        }
        if host.contains(":") { host = "[\(host)]" }  // IPv6
        if let port = endpoint.port, port != (scheme == "https" ? 443 : 80) { host += ":\(port)" }
        let prefix =
            endpoint.percentEncodedPath.hasSuffix("/")
            ? String(endpoint.percentEncodedPath.dropLast()) : endpoint.percentEncodedPath
        let path = prefix + "/" + SigV4Signer.encode(config.bucket) + "/" + SigV4Signer.encodePath(key)
        return Target(origin: "\(scheme)://\(host)", host: host, path: path)
    }

    private func send(
        _ method: HTTPMethod, key: String, headers extra: [(String, String)] = [], body: Data? = nil
    ) async throws(BlobStoreError) -> HTTPClient.Response {
        let target = try target(for: key)
        let payloadHash = Digest.sha256Hex(body ?? Data())
        let request = SigV4Signer.Request(
            method: method.rawValue, path: target.path,
            headers: [("host", target.host), ("x-amz-content-sha256", payloadHash)] + extra, payloadHash: payloadHash)
        let headers = HTTPHeaders(signer.signedHeaders(for: request, at: now()))
        do {
            let outgoing = try HTTPClient.Request(
                url: target.origin + target.path, method: method, headers: headers, body: body.map { .bytes($0) })
            return try await client.execute(request: outgoing, deadline: .now() + timeout).get()
        } catch {
            // The client's errors name the URL at most, never a header.
            throw .unavailable("S3 request to \(target.origin) failed: \(error)")
        }
    }

    /// The error an unexpected answer means.
    private func failure(_ response: HTTPClient.Response, key: String, operation: String) -> BlobStoreError {
        failure(status: response.status, body: response.body, key: key, operation: operation)
    }

    private func failure(status: HTTPResponseStatus, body: ByteBuffer?, key: String, operation: String) -> BlobStoreError {
        let code = body.flatMap { Self.errorCode(inXML: String(decoding: $0.readableBytesView, as: UTF8.self)) }
        let answer = "HTTP \(status.code)" + (code.map { " \($0)" } ?? "")
        switch code {
        case "NoSuchKey":
            return .notFound(key: key)
        case "SignatureDoesNotMatch":
            return .misconfigured(
                "S3 refused the request signature (\(answer)): MEANDER_S3_SECRET_ACCESS_KEY does not match "
                    + "MEANDER_S3_ACCESS_KEY_ID, or MEANDER_S3_REGION is not the bucket's region")
        case "InvalidAccessKeyId":
            return .misconfigured("S3 does not know the access key id in MEANDER_S3_ACCESS_KEY_ID (\(answer))")
        case "NoSuchBucket":
            return .misconfigured("the bucket '\(config.bucket)' (MEANDER_S3_BUCKET) does not exist (\(answer))")
        case "AccessDenied", "AllAccessDisabled", "AccountProblem":
            return .misconfigured(
                "S3 denied the \(operation) in bucket '\(config.bucket)' (\(answer)): check the key's permissions")
        case "AuthorizationHeaderMalformed", "PermanentRedirect", "IncorrectEndpoint":
            return .misconfigured(
                "S3 refused the region or endpoint (\(answer)): check MEANDER_S3_REGION and MEANDER_S3_ENDPOINT")
        case "RequestTimeTooSkewed":
            return .misconfigured("this server's clock differs too much from S3's (\(answer))")
        default:
            if code == nil, status == .notFound, operation != "store" { return .notFound(key: key) }
            return .unavailable("S3 could not \(operation) '\(key)' (\(answer))")
        }
    }

    /// The `<Code>` of an S3 error document.
    static func errorCode(inXML xml: String) -> String? {
        guard let start = xml.range(of: "<Code>"), let end = xml.range(of: "</Code>", range: start.upperBound..<xml.endIndex)
        else { return nil }
        let code = xml[start.upperBound..<end.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
        return code.isEmpty ? nil : code
    }
}

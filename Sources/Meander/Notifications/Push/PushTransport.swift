import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOSSL

/// The HTTP plumbing APNs and FCM share: a client with the configured trust roots, one request under a deadline with
/// its failures as `PushError`s, and the reading of `Retry-After` and reason codes.
enum PushTransport {
    /// The largest answer read; providers answer a push with a few hundred bytes.
    static let maxResponseBytes = 64 * 1024

    /// A provider's answer: status, headers (names lowercased) and body.
    struct Response: Sendable {
        var status: Int
        var headers: [String: String]
        var body: Data
    }

    /// An HTTP client for one provider: HTTP/2 where the server offers it (APNs requires it), TLS 1.2 or newer,
    /// trusting `trustRootsFile` instead of the system's roots when given, no redirects. Shut it down when done.
    static func makeHTTPClient(
        trustRootsFile: String?, provider: PushError.Provider, eventLoopGroup: any EventLoopGroup, logger: Logger
    ) throws(PushError) -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let trustRootsFile {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(trustRootsFile))
            } catch {
                throw .configuration(provider: provider, detail: "cannot read the trust roots \(trustRootsFile): \(error)")
            }
        }
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(10), read: .seconds(30)))
        configuration.httpVersion = .automatic
        return HTTPClient(eventLoopGroup: eventLoopGroup, configuration: configuration, backgroundActivityLogger: logger)
    }

    /// Sends `request` and reads the answer within `timeout`. `secrets` (the device token) are cut out of any error
    /// text.
    static func execute(
        _ request: HTTPClientRequest, client: HTTPClient, timeout: TimeInterval, provider: PushError.Provider,
        secrets: [String] = []
    ) async throws(PushError) -> Response {
        let deadline = NIODeadline.now() + .milliseconds(Int64(timeout * 1000))
        do {
            let response = try await client.execute(request, deadline: deadline)
            var headers: [String: String] = [:]
            for (name, value) in response.headers { headers[name.lowercased()] = value }
            let body = try await response.body.collect(upTo: maxResponseBytes)
            return Response(status: Int(response.status.code), headers: headers, body: Data(body.readableBytesView))
        } catch {
            throw failure(error, provider: provider, secrets: secrets)
        }
    }

    /// A transport error as a `PushError`: timeouts, TLS failures, everything else a failed connection.
    static func failure(_ error: any Error, provider: PushError.Provider, secrets: [String]) -> PushError {
        if let error = error as? PushError { return error }
        if let error = error as? HTTPClientError,
            [.deadlineExceeded, .connectTimeout, .readTimeout, .writeTimeout].contains(error)
        {
            return .timedOut(provider: provider)
        }
        var detail = "\(error)"
        for secret in secrets where !secret.isEmpty { detail = detail.replacingOccurrences(of: secret, with: "<redacted>") }
        switch error {
        case NIOSSLError.handshakeFailed, is NIOSSLExtraError, is BoringSSLError:
            return .tls(provider: provider, detail: detail)
        default:
            return .connectionFailed(provider: provider, detail: detail)
        }
    }

    /// `Retry-After` in seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3), never negative; nil when absent or
    /// unreadable.
    static func retryAfter(_ value: String?, now: Date) -> TimeInterval? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Int(value) { return seconds >= 0 ? TimeInterval(seconds) : nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        guard let date = formatter.date(from: value) else { return nil }
        return max(0, date.timeIntervalSince(now).rounded(.up))
    }

    /// A provider's reason code when it is one (letters, digits, `_`, `.`, `-`; at most 64), else nil: free text may
    /// quote the request.
    static func reasonCode(_ raw: String?) -> String? {
        guard let raw, !raw.isEmpty, raw.utf8.count <= 64,
            raw.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_.-".unicodeScalars.contains($0)) })
        else { return nil }
        return raw
    }

    /// Whether a device token can go into a URL path or a JSON string as it is: the providers issue letters, digits
    /// and `-_.:` only.
    static func isWellFormedToken(_ token: String) -> Bool {
        !token.isEmpty && token.utf8.count <= 4096
            && token.unicodeScalars.allSatisfy {
                $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.:".unicodeScalars.contains($0))
            }
    }

    /// JSON for the providers: sorted keys, so that the same message is the same bytes.
    static func json(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }
}

/// A credential that is made when needed and reused until it is due (the APNs provider token, the FCM access token).
///
/// Callers that need it while it is being made wait for that one instead of making their own: Apple refuses tokens
/// renewed too often, Google counts exchanges.
actor PushCredentialCache {
    /// A credential and the moment from which it is no longer used.
    struct Credential: Sendable, Equatable {
        var value: String
        var renewAt: Date
    }

    private let provider: PushError.Provider
    private let clock: @Sendable () -> Date
    private let make: @Sendable (Date) async throws(PushError) -> Credential
    private var current: Credential?
    private var pending: Task<Credential, any Error>?

    init(
        provider: PushError.Provider, clock: @escaping @Sendable () -> Date,
        make: @escaping @Sendable (Date) async throws(PushError) -> Credential
    ) {
        self.provider = provider
        self.clock = clock
        self.make = make
    }

    /// The current credential, made anew when there is none or it is due.
    func value() async throws(PushError) -> String {
        if let current, clock() < current.renewAt { return current.value }
        let task: Task<Credential, any Error>
        if let pending {
            task = pending
        } else {
            let make = make
            let now = clock()
            task = Task { () async throws -> Credential in try await make(now) }
            pending = task
        }
        do {
            let credential = try await task.value
            if pending == task {
                pending = nil
                current = credential
            }
            return credential.value
        } catch {
            if pending == task { pending = nil }
            // The task throws only `PushError`s, or cancellation.
            throw (error as? PushError) ?? .connectionFailed(provider: provider, detail: "cancelled")
        }
    }

    /// Forgets `value` if it is the current credential (the provider refused it), so that the next call makes a new
    /// one.
    func invalidate(_ value: String) {
        if current?.value == value { current = nil }
    }
}

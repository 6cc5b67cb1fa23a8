import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL

/// Sends text messages through a provider's HTTP API (`SMSConfiguration`): one `POST` of JSON
/// `{"to": "+47…", "from": "…", "text": "…"}` per message, answered by a 2xx with `{"id": "…"}`.
///
/// 429 and 5xx answers, timeouts and connection failures are transient; other 4xx answers are permanent and carry
/// the provider's error code (`{"error": "invalid_number"}`) when it sent one. Numbers, texts and credentials are
/// never logged nor put in errors.
struct HTTPSMSProvider: SMSProvider, CustomStringConvertible {
    let configuration: SMSConfiguration
    let client: HTTPClient
    let logger: Logger
    /// The app's clock, for a `Retry-After` given as a date.
    let clock: AppClock
    private let tlsConfiguration: TLSConfiguration?

    /// Longer texts are refused rather than sent as a costly chain of parts.
    static let maxParts = 10

    var description: String { "HTTPSMSProvider(\(configuration))" }

    /// Reads the trust roots (`SMS_CA_FILE`) once; an unreadable file is an `SMSError.tls`.
    init(
        configuration: SMSConfiguration, client: HTTPClient = .shared, logger: Logger, clock: AppClock = .live
    ) throws(SMSError) {
        self.configuration = configuration
        self.client = client
        self.logger = logger
        self.clock = clock
        guard let file = configuration.trustRootsFile else {
            tlsConfiguration = nil
            return
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        do {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(file))
        } catch {
            throw .tls("cannot read the trust roots in \(file): \(error)")
        }
        tlsConfiguration = tls
    }

    func send(_ text: String, to number: PhoneNumber) async throws(SMSError) -> SMSReceipt {
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw .invalidMessage("the text is empty") }
        let parts = SMSText.parts(text)
        guard parts <= Self.maxParts else {
            throw .invalidMessage("the text needs \(parts) parts; at most \(Self.maxParts) are sent")
        }
        var logger = logger
        logger[metadataKey: "sms.provider"] = "\(configuration.url.host ?? "")"
        let started = ContinuousClock.now
        do {
            let id = try await deliver(text, to: number)
            logger.info(
                "sms: message accepted",
                metadata: ["sms.provider_id": "\(id)", "sms.parts": "\(parts)", "duration": "\(ContinuousClock.now - started)"])
            return SMSReceipt(providerID: id, parts: parts)
        } catch {
            logger.warning("sms: message not sent", metadata: ["error": "\(error)", "transient": "\(error.isTransient)"])
            throw error
        }
    }

    private struct Outgoing: Encodable {
        var to: String
        var from: String
        var text: String
    }

    private func deliver(_ text: String, to number: PhoneNumber) async throws(SMSError) -> String {
        var request = HTTPClientRequest(url: configuration.url.absoluteString)
        request.method = .POST
        request.tlsConfiguration = tlsConfiguration
        request.headers.add(name: "Authorization", value: configuration.credentials.authorization)
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        request.headers.add(name: "Accept", value: "application/json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body: Data
        do {
            body = try encoder.encode(Outgoing(to: number.e164, from: configuration.from, text: text))
        } catch {
            throw .invalidMessage("the text cannot be encoded as JSON")
        }
        request.body = .bytes(ByteBuffer(bytes: body))

        let status: HTTPResponseStatus
        let headers: HTTPHeaders
        let answer: ByteBuffer
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(configuration.timeout * 1000)))
            status = response.status
            headers = response.headers
            answer = try await response.body.collect(upTo: 64 * 1024)
        } catch {
            throw Self.transportError(error)
        }

        let json = (try? JSONSerialization.jsonObject(with: Data(answer.readableBytesView))) as? [String: Any]
        switch status.code {
        case 200..<300:
            let id = (json?["id"] as? String) ?? (json?["id"] as? NSNumber).map { $0.stringValue }
            guard let id, !id.isEmpty, id.count <= 256 else {
                throw .invalidResponse("a \(status.code) answer without a message id")
            }
            return id
        case 429:
            throw .rateLimited(retryAfter: Self.retryAfter(headers, now: clock.now()))
        case 500..<600:
            throw .unavailable(status: Int(status.code), retryAfter: Self.retryAfter(headers, now: clock.now()))
        default:
            throw .rejected(status: Int(status.code), code: json.flatMap(Self.errorCode))
        }
    }

    private static let timeouts: [HTTPClientError] = [
        .deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout, .tlsHandshakeTimeout, .getConnectionFromPoolTimeout,
    ]

    /// A failure of the request itself as an `SMSError`.
    static func transportError(_ error: any Error) -> SMSError {
        switch error {
        case let error as HTTPClientError where timeouts.contains(error):
            return .timedOut
        case NIOSSLError.handshakeFailed(let underlying):
            return .tls("handshake failed: \(underlying)")
        case is NIOSSLError, is NIOSSLExtraError, is BoringSSLError:
            return .tls("\(error)")
        default:
            return .connectFailed("\(error)")
        }
    }

    /// The provider's machine-readable error code (`{"error": "invalid_number"}`, `{"code": "…"}` or
    /// `{"error": {"code": "…"}}`), when it looks like one: a free-text message might repeat the number.
    static func errorCode(_ json: [String: Any]) -> String? {
        let candidates = [json["error"] as? String, json["code"] as? String, (json["error"] as? [String: Any])?["code"] as? String]
        return candidates.compactMap { $0 }.first { code in
            (1...64).contains(code.count) && code.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }
        }
    }

    /// `Retry-After` in seconds: a number of seconds or an HTTP date; at most a day.
    static func retryAfter(_ headers: HTTPHeaders, now: Date) -> TimeInterval? {
        guard let value = headers.first(name: "Retry-After")?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let seconds = Int(value), seconds >= 0 { return TimeInterval(min(seconds, 86_400)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return min(max(0, date.timeIntervalSince(now)), 86_400)
    }
}

import Foundation

/// Sends text messages. Failures are `SMSError`s; neither the number nor the text ever appears in one or in a log.
protocol SMSProvider: Sendable {
    /// Hands the text to the provider for delivery to `to`; returns once the provider has accepted it.
    func send(_ text: String, to: PhoneNumber) async throws -> SMSReceipt
}

/// The provider's acceptance of one message.
struct SMSReceipt: Sendable, Equatable {
    /// The provider's id of the message, for delivery reports and support.
    var providerID: String
    /// How many messages the text went out as (`SMSText.parts`), which is what is paid for.
    var parts: Int
}

/// Why a text message was not sent, and whether trying again later may help (`isTransient`). Its description
/// never holds the number, the text or a credential.
enum SMSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The provider could not be reached (refused, reset, DNS).
    case connectFailed(String)
    /// No answer in time. The provider may still have accepted the message.
    case timedOut
    /// 429: too many messages; `retryAfter` from the provider's `Retry-After`, in seconds.
    case rateLimited(retryAfter: TimeInterval?)
    /// 5xx: the provider failed.
    case unavailable(status: Int, retryAfter: TimeInterval?)
    /// 4xx other than 429: the provider refused this message (a bad number, a missing credit) or us (401, 403), with
    /// its error code when it gave one.
    case rejected(status: Int, code: String?)
    /// A 2xx answer without a message id: the message may have been sent, so it is not retried.
    case invalidResponse(String)
    /// TLS could not be set up: an unreadable trust root file, a certificate that does not verify.
    case tls(String)
    /// The message cannot be sent as it is (an empty text, one too long).
    case invalidMessage(String)

    /// Whether the same message may succeed later: 429, 5xx, timeouts and connection failures.
    var isTransient: Bool {
        switch self {
        case .connectFailed, .timedOut, .rateLimited, .unavailable: true
        case .rejected, .invalidResponse, .tls, .invalidMessage: false
        }
    }

    /// How long the provider asked us to wait before the next try, when it said.
    var retryAfter: TimeInterval? {
        switch self {
        case .rateLimited(let seconds), .unavailable(_, let seconds): seconds
        default: nil
        }
    }

    var description: String {
        func after(_ seconds: TimeInterval?) -> String { seconds.map { ", retry after \(Int($0.rounded(.up))) s" } ?? "" }
        return switch self {
        case .connectFailed(let detail): "SMS: cannot reach the provider: \(detail)"
        case .timedOut: "SMS: the provider did not answer in time"
        case .rateLimited(let seconds): "SMS: the provider is rate limiting (429)\(after(seconds))"
        case .unavailable(let status, let seconds): "SMS: the provider failed (\(status))\(after(seconds))"
        case .rejected(let status, let code): "SMS: the provider refused the message (\(status)\(code.map { ", \($0)" } ?? ""))"
        case .invalidResponse(let detail): "SMS: the provider's answer is not understood: \(detail)"
        case .tls(let detail): "SMS: TLS failed: \(detail)"
        case .invalidMessage(let detail): "SMS: the message cannot be sent: \(detail)"
        }
    }
}

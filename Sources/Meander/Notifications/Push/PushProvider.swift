import Foundation

/// Sends one message to one device. Errors are `PushError`s: `isTransient` says whether to try again, `retryAfter`
/// when.
protocol PushProvider: Sendable {
    func send(_ message: PushMessage, to device: PushDevice) async throws -> PushOutcome
}

/// Why a push was not delivered, and whether trying again later may help (`isTransient`, `retryAfter`).
///
/// Holds the provider's status and its reason code, never the device token, the message's text or a credential.
enum PushError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Who answered.
    enum Provider: String, Sendable, Equatable {
        case apns = "APNs"
        case fcm = "FCM"
        /// The OAuth 2.0 token endpoint of the FCM service account (`token_uri`).
        case googleOAuth = "Google OAuth"
    }

    /// The provider answered with an error status. `reason` is its code word (APNs' `reason`, FCM's `errorCode` or
    /// `status`, OAuth's `error`), never its free text, which may quote the request.
    case rejected(provider: Provider, status: Int, reason: String, retryAfter: TimeInterval?)
    /// The provider could not be reached, or the connection broke.
    case connectionFailed(provider: Provider, detail: String)
    /// No answer in time.
    case timedOut(provider: Provider)
    /// TLS could not be set up: a certificate that does not verify.
    case tls(provider: Provider, detail: String)
    /// An answer that does not follow the provider's protocol.
    case unexpectedResponse(provider: Provider, detail: String)
    /// The message cannot be sent as it is: too large, a reserved data key, a token no provider issues, a device of
    /// the other platform.
    case invalidMessage(provider: Provider, detail: String)
    /// The credentials cannot be used: a key that does not sign, a trust root file that cannot be read.
    case configuration(provider: Provider, detail: String)

    /// Whether the same push may succeed later: 429 and 5xx answers, lost, refused or slow connections, garbled
    /// answers.
    var isTransient: Bool {
        switch self {
        case .rejected(_, let status, _, _): status == 429 || (500..<600).contains(status)
        case .connectionFailed, .timedOut, .unexpectedResponse: true
        case .tls, .invalidMessage, .configuration: false
        }
    }

    /// How long the provider asked us to wait (its `Retry-After`), if it said.
    var retryAfter: TimeInterval? {
        if case .rejected(_, _, _, let retryAfter) = self { return retryAfter }
        return nil
    }

    var description: String {
        switch self {
        case .rejected(let provider, let status, let reason, let retryAfter):
            "\(provider.rawValue): refused with \(status) \(reason)" + (retryAfter.map { ", retry after \(Int($0)) s" } ?? "")
        case .connectionFailed(let provider, let detail): "\(provider.rawValue): cannot connect: \(detail)"
        case .timedOut(let provider): "\(provider.rawValue): no answer in time"
        case .tls(let provider, let detail): "\(provider.rawValue): TLS failed: \(detail)"
        case .unexpectedResponse(let provider, let detail): "\(provider.rawValue): unexpected answer: \(detail)"
        case .invalidMessage(let provider, let detail): "\(provider.rawValue): the push cannot be sent: \(detail)"
        case .configuration(let provider, let detail): "\(provider.rawValue): unusable configuration: \(detail)"
        }
    }
}

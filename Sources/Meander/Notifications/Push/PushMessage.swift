import Crypto
import Foundation

/// A notification for one device: what it shows, and the data the app reads when it is opened (a deep link, ids).
struct PushMessage: Sendable, Equatable {
    var title: String
    var body: String
    /// Handed to the app beside the alert (`url` for a deep link, ids): strings only, as FCM requires. APNs puts the
    /// keys beside `aps`, so `aps` cannot be one; FCM reserves `from`, `message_type`, `notification`, `google.*` and
    /// `gcm.*`.
    var data: [String: String] = [:]
    /// Shown at once, waking the device (APNs priority 10, FCM android priority high); otherwise when it suits the
    /// device's battery (5, normal).
    var isUrgent: Bool = false
    /// A newer message with the same id replaces one not yet shown (`apns-collapse-id`, FCM `collapse_key`); at most
    /// 64 bytes.
    var collapseID: String?
    /// How long the provider keeps trying an unreachable device (`apns-expiration`, FCM `android.ttl`); 0 is now or
    /// never.
    var timeToLive: TimeInterval = 86_400
}

/// Where a push goes: the platform and the token the app registered with its provider.
///
/// The token addresses one person's phone, so it is never logged or put in an error; `fingerprint` stands in for it.
struct PushDevice: Sendable, Equatable, CustomStringConvertible {
    /// Which provider reaches the device: APNs for `ios`, FCM for `android`.
    enum Platform: String, Sendable, Codable, CaseIterable {
        case ios
        case android
    }

    var platform: Platform
    var token: String

    /// The first 12 hex digits of the token's SHA-256: enough to follow one device through the logs.
    var fingerprint: String {
        SHA256.hash(data: Data(token.utf8)).prefix(6).map { String(format: "%02x", $0) }.joined()
    }

    var description: String { "\(platform.rawValue) device \(fingerprint)" }
}

/// What became of a push the provider answered.
enum PushOutcome: Sendable, Equatable {
    /// Accepted for delivery; `providerID` is APNs' `apns-id` or FCM's message name.
    case delivered(providerID: String?)
    /// The device is gone (the app was removed, the token is not one the provider knows): forget the token. APNs 410
    /// `Unregistered` or 400 `BadDeviceToken`; FCM `UNREGISTERED` or 404 `NOT_FOUND`.
    case unregistered
}

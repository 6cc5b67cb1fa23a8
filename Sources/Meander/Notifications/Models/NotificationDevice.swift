import FluentKit
import Foundation

/// A phone that receives push notifications for a user: its platform (APNs for iOS, FCM for Android) and the token
/// the platform gave the app. A token moves to whoever registers it last (a shared phone). A device the provider
/// reports as gone is disabled, not deleted, so that its last use stays visible.
final class NotificationDevice: Model, @unchecked Sendable {
    static let schema = "notification_devices"

    /// Which push service reaches it: the push clients' own platforms (`ios` → APNs, `android` → FCM).
    typealias Platform = PushDevice.Platform

    @ID(key: .id)
    var id: UUID?

    // managed

    @Timestamp(key: "created_at", on: .create)
    var createdAt: Date?

    @Timestamp(key: "updated_at", on: .update)
    var updatedAt: Date?

    // references

    @Parent(key: "user_id")
    var user: User

    // data

    @Field(key: "platform")
    var platform: Platform

    /// The provider's device token. Never logged.
    @Field(key: "token")
    var token: String

    /// The app's own name for the device ("Kari's iPhone"), for the user's device list.
    @OptionalField(key: "label")
    var label: String?

    @OptionalField(key: "last_used_at")
    var lastUsedAt: Date?

    @OptionalField(key: "disabled_at")
    var disabledAt: Date?

    /// Why it was disabled: `unregistered` (the provider said the app is gone), `removed` (the user).
    @OptionalField(key: "disabled_reason")
    var disabledReason: String?

    init() {}

    init(id: UUID? = nil, userID: UUID, platform: Platform, token: String, label: String? = nil) {
        self.id = id
        self.$user.id = userID
        self.platform = platform
        self.token = token
        self.label = label
    }
}

import FluentKit
import Foundation

/// A user's notification settings: channels on or off, quiet hours and per-scenario channel overrides (one row per
/// user).
///
/// Quiet hours are local wall-clock times `HH:mm` in the user's time zone; a window may wrap midnight
/// (22:00–07:00). `scenario_overrides` is a JSON object from scenario key to the list of channel keys to use.
final class NotificationPreference: Model, @unchecked Sendable {
    static let schema = "notification_preferences"

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

    @Field(key: "push_enabled")
    var pushEnabled: Bool

    @Field(key: "email_enabled")
    var emailEnabled: Bool

    @Field(key: "sms_enabled")
    var smsEnabled: Bool

    @Field(key: "in_app_enabled")
    var inAppEnabled: Bool

    @OptionalField(key: "quiet_hours_start")
    var quietHoursStart: String?

    @OptionalField(key: "quiet_hours_end")
    var quietHoursEnd: String?

    @Field(key: "scenario_overrides")
    var scenarioOverridesJSON: String

    /// The ISO weekdays (1 = Monday) whose nights have quiet hours, comma-separated; NULL for every night.
    @OptionalField(key: "quiet_hours_weekdays")
    var quietHoursWeekdays: String?

    init() {}

    init(
        id: UUID? = nil,
        userID: UUID,
        pushEnabled: Bool = true,
        emailEnabled: Bool = true,
        smsEnabled: Bool = false,
        inAppEnabled: Bool = true,
        quietHoursStart: String? = nil,
        quietHoursEnd: String? = nil,
        scenarioOverrides: [Notification.Scenario: [Notification.Channel]] = [:]
    ) {
        self.id = id
        self.$user.id = userID
        self.pushEnabled = pushEnabled
        self.emailEnabled = emailEnabled
        self.smsEnabled = smsEnabled
        self.inAppEnabled = inAppEnabled
        self.quietHoursStart = quietHoursStart
        self.quietHoursEnd = quietHoursEnd
        self.scenarioOverridesJSON = Self.encode(scenarioOverrides)
    }

    var scenarioOverrides: [Notification.Scenario: [Notification.Channel]] {
        get {
            let raw = JSONText.decode([String: [Notification.Channel]].self, from: scenarioOverridesJSON) ?? [:]
            return Dictionary(
                uniqueKeysWithValues: raw.compactMap { key, channels in
                    Notification.Scenario(rawValue: key).map { ($0, channels) }
                })
        }
        set { scenarioOverridesJSON = Self.encode(newValue) }
    }

    /// Keys as strings so that the JSON is an object, not Swift's alternating array for enum-keyed dictionaries.
    private static func encode(_ overrides: [Notification.Scenario: [Notification.Channel]]) -> String {
        JSONText.encode(Dictionary(uniqueKeysWithValues: overrides.map { ($0.key.rawValue, $0.value) }))
    }
}

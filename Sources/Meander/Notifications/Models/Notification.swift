import FluentKit
import Foundation

/// One message to one user on one channel, with its delivery state and read time.
///
/// Title and body never carry special-category data (a dispatch notice says only that a dispatch arrived).
/// The name shadows `Foundation.Notification` inside this module.
final class Notification: Model, @unchecked Sendable {
    static let schema = "notifications"

    /// Delivery channel.
    enum Channel: String, Codable, CaseIterable, Sendable {
        case push
        case email
        case sms
        case inApp = "in_app"
    }

    /// Why the message is sent; preferences can be overridden per scenario.
    enum Scenario: String, Codable, CaseIterable, Sendable {
        case emailVerification = "email_verification"
        case passwordReset = "password_reset"
        case securityAlert = "security_alert"
        case invitation
        case membershipPaused = "membership_paused"
        case contactAssigned = "contact_assigned"
        case activityRejected = "activity_rejected"
        case dispatchReceived = "dispatch_received"
        case expenseSubmitted = "expense_submitted"
        case expenseApproved = "expense_approved"
        case expenseRejected = "expense_rejected"
        case expensePaid = "expense_paid"
        case eventReminder = "event_reminder"
        case eventRegistered = "event_registered"
        case eventWaitlistPromoted = "event_waitlist_promoted"
        case eventCancelled = "event_cancelled"
        case courseReminder = "course_reminder"
        case courseWaitlistPromoted = "course_waitlist_promoted"
        case certificateIssued = "certificate_issued"
        case certificateExpiring = "certificate_expiring"
        case badgeAwarded = "badge_awarded"
        case reportReady = "report_ready"
        case activityApproved = "activity_approved"
        case bufdirExportReady = "bufdir_export_ready"
        case dispatchExpiring = "dispatch_expiring"
        case declarationExpiring = "declaration_expiring"
        case eventSeatOffered = "event_seat_offered"
    }

    /// Delivery state.
    enum Status: String, Codable, CaseIterable, Sendable {
        case pending
        /// Waiting for `scheduled_for` (e.g. the end of the user's quiet hours).
        case scheduled
        case sent
        case delivered
        case failed
        /// Not sent because the user's preferences turned it off.
        case suppressed
    }

    /// Why a message was suppressed.
    enum SuppressedReason: String, Codable, CaseIterable, Sendable {
        /// The user's preferences turned the channel off for this scenario.
        case preference
        /// No address on this channel: no phone number, no push device.
        case noAddress = "no_address"
        /// Quiet hours held it past the moment it was still useful.
        case quietHoursExpired = "quiet_hours_expired"
        /// The same message (by its dedupe key) went to the user already.
        case deduplicated
    }

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

    @OptionalParent(key: "organization_id")
    var organization: Organization?

    // data

    @Field(key: "channel")
    var channel: Channel

    @Field(key: "scenario")
    var scenario: Scenario

    @Field(key: "title")
    var title: String

    @Field(key: "body")
    var body: String

    /// JSON object for the client, e.g. a deep link target.
    @Field(key: "data")
    var data: String

    /// Urgent messages ignore quiet hours.
    @Field(key: "is_urgent")
    var isUrgent: Bool

    @Field(key: "status")
    var status: Status

    @OptionalField(key: "scheduled_for")
    var scheduledFor: Date?

    @Field(key: "attempts")
    var attempts: Int

    @OptionalField(key: "last_error")
    var lastError: String?

    @OptionalField(key: "sent_at")
    var sentAt: Date?

    @OptionalField(key: "delivered_at")
    var deliveredAt: Date?

    @OptionalField(key: "read_at")
    var readAt: Date?

    /// Why a `suppressed` message was not sent.
    @OptionalField(key: "suppressed_reason")
    var suppressedReason: SuppressedReason?

    /// The caller's key for "the same message": a second one with the key to the same user and channel is
    /// suppressed as `deduplicated`.
    @OptionalField(key: "dedupe_key")
    var dedupeKey: String?

    /// The language it was written in (`nb`, `nn`, `en`).
    @OptionalField(key: "locale")
    var locale: String?

    init() {}

    init(
        id: UUID? = nil,
        userID: UUID,
        channel: Channel,
        scenario: Scenario,
        title: String,
        body: String,
        data: String = "{}",
        organizationID: UUID? = nil,
        isUrgent: Bool = false,
        status: Status = .pending,
        scheduledFor: Date? = nil
    ) {
        self.id = id
        self.$user.id = userID
        self.channel = channel
        self.scenario = scenario
        self.title = title
        self.body = body
        self.data = data
        self.$organization.id = organizationID
        self.isUrgent = isUrgent
        self.status = status
        self.scheduledFor = scheduledFor
        self.attempts = 0
    }
}

/// `Notification` by a name that Foundation's does not shadow, for code outside this module that imports both.
typealias AppNotification = Notification

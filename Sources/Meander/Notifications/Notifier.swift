import FluentKit
import Foundation

/// The one entry point through which every capability tells a user something.
///
/// `notify` reads the user's preferences, picks the channels, renders the text in the user's language, writes one
/// `Notification` row per channel and enqueues the delivery of each on the job queue, all on the database it is
/// given: called inside the transaction of the change it reports, the messages commit or roll back with it (no
/// approved claim without its message, no message for a claim that was not approved).
///
/// The rows hold the rendered title and body and the template's values, never special-category data: a scenario's
/// templates say "you have a new assignment", and callers pass ids and names, not diagnoses.
enum Notifier {
    /// What to tell a user.
    struct Message: Sendable {
        var scenario: Notification.Scenario
        /// The template's placeholder values (`first_name` is filled from the user when not given).
        var values: [String: String] = [:]
        /// Urgent messages pass through quiet hours, when the scenario may be urgent at all.
        var urgent = false
        /// "The same message": a second one with this key to the same user and channel is suppressed.
        var dedupeKey: String?
        var organizationID: UUID?
        /// After this a message held by quiet hours is no use any more (a seat offer that lapses): it is suppressed
        /// as `quiet_hours_expired` instead of sent late.
        var expiresAt: Date?
        /// For the app: what to open (kept in `data` with the values).
        var data: [String: String] = [:]

        init(
            _ scenario: Notification.Scenario, values: [String: String] = [:], urgent: Bool = false,
            dedupeKey: String? = nil, organizationID: UUID? = nil, expiresAt: Date? = nil, data: [String: String] = [:]
        ) {
            self.scenario = scenario
            self.values = values
            self.urgent = urgent
            self.dedupeKey = dedupeKey
            self.organizationID = organizationID
            self.expiresAt = expiresAt
            self.data = data
        }
    }

    /// Notifies one user; returns the rows written (one per channel considered, suppressed ones included). A user
    /// who does not exist or is deleted gets nothing.
    @discardableResult
    static func notify(
        _ userID: UUID, _ message: Message, deps: AppDependencies, on db: any Database
    ) async throws -> [Notification] {
        guard let user = try await User.find(userID, on: db), user.status != .deleted else { return [] }
        let preference = try await NotificationPreference.query(on: db).filter(\.$user.$id == userID).first()
        let settings = NotificationSettings(preference)
        let hasDevice =
            try await NotificationDevice.query(on: db).filter(\.$user.$id == userID).filter(\.$disabledAt == nil)
            .count() > 0
        var values = message.values
        // Someone invited by address only has no name yet: the greeting uses the address.
        if (values["first_name"] ?? "").isEmpty { values["first_name"] = user.firstName.isEmpty ? user.email : user.firstName }
        let language = NotificationLanguage(user.locale)
        let rendered = try message.scenario.render(language: language, values: values)
        var duplicates: Set<Notification.Channel> = []
        if let key = message.dedupeKey {
            duplicates = Set(
                try await Notification.query(on: db).filter(\.$user.$id == userID).filter(\.$dedupeKey == key)
                    .filter(\.$status != .suppressed).all().map(\.channel))
        }
        let now = deps.now
        let zone = TimeZone(identifier: user.timeZone) ?? NotificationSettings.defaultTimeZone
        let plan = NotificationPlan.make(
            scenario: message.scenario, settings: settings, urgent: message.urgent,
            addresses: NotificationPlan.Addresses(
                email: !user.email.isEmpty, sms: user.phone.flatMap { PhoneNumber($0) } != nil, push: hasDevice),
            duplicates: duplicates, now: now, timeZone: zone, expiresAt: message.expiresAt)
        let data = JSONText.encode(values.merging(message.data) { _, given in given })
        var rows: [Notification] = []
        for step in plan {
            let row = Notification(
                id: deps.uuid(), userID: userID, channel: step.channel, scenario: message.scenario,
                title: rendered.title, body: rendered.body, data: data, organizationID: message.organizationID,
                isUrgent: message.urgent && message.scenario.mayBeUrgent, status: step.status,
                scheduledFor: step.scheduledFor)
            row.suppressedReason = step.suppressedReason
            row.dedupeKey = message.dedupeKey
            row.locale = language.rawValue
            if step.channel == .inApp, step.status == .delivered {
                row.sentAt = now
                row.deliveredAt = now
            }
            try await row.create(on: db)
            if step.needsDelivery {
                try await JobQueue.enqueue(NotificationDelivery.request(for: row), deps: deps, on: db)
            }
            rows.append(row)
        }
        return rows
    }
}

/// A user's notification preferences as the planner reads them: the row, or the defaults when there is none.
struct NotificationSettings: Sendable, Equatable {
    static let defaultTimeZone = TimeZone(identifier: "Europe/Oslo")!

    var push = true
    var email = true
    var sms = false
    var inApp = true
    var overrides: [Notification.Scenario: Set<Notification.Channel>] = [:]
    var quietStart: WallClockTime?
    var quietEnd: WallClockTime?
    var quietWeekdays: Set<Int>?

    init() {}

    init(_ row: NotificationPreference?) {
        guard let row else { return }
        push = row.pushEnabled
        email = row.emailEnabled
        sms = row.smsEnabled
        inApp = row.inAppEnabled
        overrides = row.scenarioOverrides.mapValues(Set.init)
        quietStart = row.quietHoursStart.flatMap(WallClockTime.init)
        quietEnd = row.quietHoursEnd.flatMap(WallClockTime.init)
        quietWeekdays = row.quietHoursWeekdays.map { Set($0.split(separator: ",").compactMap { Int($0) }) }
    }

    func isOn(_ channel: Notification.Channel) -> Bool {
        switch channel {
        case .push: push
        case .email: email
        case .sms: sms
        case .inApp: inApp
        }
    }

    /// The quiet hours in `timeZone`, if the user has any.
    func quietHours(in timeZone: TimeZone) -> QuietHours? {
        guard let quietStart, let quietEnd else { return nil }
        return QuietHours(start: quietStart, end: quietEnd, weekdays: quietWeekdays, timeZone: timeZone)
    }
}

/// What happens on each channel of one message: a pure function of the scenario, the preferences, the addresses,
/// what was sent before (deduplication) and the time, so that its rules can be tested as a table.
struct NotificationPlan: Sendable, Equatable {
    /// Whether the user can be reached on each channel at all.
    struct Addresses: Sendable, Equatable {
        var email = true
        var sms = false
        var push = false
    }

    var channel: Notification.Channel
    var status: Notification.Status
    var scheduledFor: Date?
    var suppressedReason: Notification.SuppressedReason?

    /// Whether a delivery job must carry it (pending or scheduled on a channel other than in-app).
    var needsDelivery: Bool {
        channel != .inApp && (status == .pending || status == .scheduled)
    }

    /// The channels considered are the scenario's own and those the user chose for it. A channel is used when the
    /// user's choice for the scenario (or else the scenario's default) includes it and the channel is on; the e-mail
    /// of a mandatory scenario (password reset, invitation) is used whatever the preferences say. In-app messages
    /// are never held: they make no sound.
    static func make(
        scenario: Notification.Scenario, settings: NotificationSettings, urgent: Bool, addresses: Addresses,
        duplicates: Set<Notification.Channel>, now: Date, timeZone: TimeZone, expiresAt: Date?
    ) -> [NotificationPlan] {
        let defaults = scenario.defaultChannels
        let chosen = settings.overrides[scenario]
        let considered = defaults.union(chosen ?? [])
        let holdUntil: Date? = {
            guard !(urgent && scenario.mayBeUrgent), let quiet = settings.quietHours(in: timeZone) else { return nil }
            let time = quiet.deliveryTime(for: now)
            return time > now ? time : nil
        }()
        return Notification.Channel.allCases.filter(considered.contains).map { channel in
            let mandatory = scenario.isMandatory && channel == .email
            let wanted = mandatory || ((chosen ?? defaults).contains(channel) && settings.isOn(channel))
            let reachable =
                switch channel {
                case .email: addresses.email
                case .sms: addresses.sms
                case .push: addresses.push
                case .inApp: true
                }
            func suppressed(_ reason: Notification.SuppressedReason) -> NotificationPlan {
                NotificationPlan(channel: channel, status: .suppressed, scheduledFor: nil, suppressedReason: reason)
            }
            guard wanted else { return suppressed(.preference) }
            guard reachable else { return suppressed(.noAddress) }
            guard !duplicates.contains(channel) else { return suppressed(.deduplicated) }
            if channel == .inApp {
                return NotificationPlan(channel: channel, status: .delivered, scheduledFor: nil, suppressedReason: nil)
            }
            if let holdUntil {
                if let expiresAt, holdUntil >= expiresAt { return suppressed(.quietHoursExpired) }
                return NotificationPlan(channel: channel, status: .scheduled, scheduledFor: holdUntil, suppressedReason: nil)
            }
            return NotificationPlan(channel: channel, status: .pending, scheduledFor: nil, suppressedReason: nil)
        }
    }
}

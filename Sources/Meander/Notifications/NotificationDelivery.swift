import FluentKit
import Foundation
import Logging
import Vapor

/// The channels this node delivers through: the SMTP client, the push providers by platform, the SMS provider. A
/// channel that is not configured fails its messages with a clear error rather than dropping them.
struct NotificationChannels: Sendable {
    var mail: SMTPClient?
    var push: [NotificationDevice.Platform: any PushProvider] = [:]
    var sms: (any SMSProvider)?
    /// The domain of generated `Message-ID`s (the public URL's host).
    var messageIDDomain = "meander.invalid"

    static let none = NotificationChannels()
}

/// Delivers one notification on its channel, as a job on the `notifications` queue (`notification_delivery`).
///
/// A message already sent, or no longer pending, is left alone, so that a run repeated after a lost lease does not
/// send it twice on purpose. A transient failure (a dropped SMTP connection, a 429 or 5xx from a provider) is retried
/// by the queue on its backoff; the message keeps its `Message-ID`, so a mail server that did accept the first try
/// can tell the copies apart. A permanent failure, or the last attempt, marks it `failed` with the error.
enum NotificationDelivery {
    static let jobKindName = "notification_delivery"
    static let retry = RetryPolicy(maxAttempts: 8, base: 30, cap: 3600)

    /// The delivery job of a notification row, due when the row is (now, or when quiet hours end).
    static func request(for row: Notification) throws -> JobRequest {
        let id = try row.requireID().uuidString.lowercased()
        var request = JobRequest(
            kind: jobKindName, queue: JobQueues.notifications, payload: JSONText.encode(["notification_id": id]),
            maxAttempts: retry.maxAttempts, runAt: row.scheduledFor, uniqueKey: "notification:\(id)")
        request.organizationID = row.$organization.id
        return request
    }

    static func kind(channels: NotificationChannels) -> JobKind {
        JobKind(jobKindName, queue: JobQueues.notifications, retry: retry) { context in
            guard let id = try context.payload([String: String].self)["notification_id"].flatMap({ UUID(uuidString: $0) }) else {
                throw JobFailure(message: "The job names no notification.", result: [:])
            }
            return try await deliver(id, channels: channels, context: context)
        }
    }

    /// What happened on the channel.
    enum Outcome: String {
        case sent, delivered
    }

    static func deliver(_ id: UUID, channels: NotificationChannels, context: JobContext) async throws -> [String: String] {
        let db = context.db
        guard let row = try await Notification.find(id, on: db) else { return ["outcome": "missing"] }
        guard row.status == .pending || row.status == .scheduled else { return ["outcome": "already_\(row.status.rawValue)"] }
        guard let user = try await User.find(row.$user.id, on: db), user.status != .deleted else {
            try await finish(row, .suppressed, reason: .noAddress, at: context.deps.now, on: db)
            return ["outcome": "suppressed"]
        }
        do {
            let outcome = try await send(row, to: user, channels: channels, context: context)
            switch outcome {
            case .none:
                try await finish(row, .suppressed, reason: .noAddress, at: context.deps.now, on: db)
                return ["outcome": "suppressed"]
            case .some(let outcome):
                try await finish(row, outcome == .delivered ? .delivered : .sent, at: context.deps.now, on: db)
                return ["outcome": outcome.rawValue]
            }
        } catch {
            let verdict = JobErrorVerdict(error)
            row.attempts += 1
            row.lastError = String(verdict.message.prefix(500))
            let willRetry = verdict.retryable && context.job.attempts < context.job.maxAttempts
            if !willRetry { row.status = .failed }
            try await db.serializedWrite { try await row.save(on: db) }
            context.logger.warning(
                "notification not delivered",
                metadata: [
                    "notification_id": .string(id.uuidString.lowercased()), "channel": .string(row.channel.rawValue),
                    "retry": .stringConvertible(willRetry),
                ])
            if willRetry { throw error }
            throw JobFailure(message: verdict.message, result: ["outcome": "failed"])
        }
    }

    /// Sends the message; nil when the user cannot be reached on the channel after all (no phone, no device left).
    private static func send(
        _ row: Notification, to user: User, channels: NotificationChannels, context: JobContext
    ) async throws -> Outcome? {
        let values = JSONText.decode([String: String].self, from: row.data) ?? [:]
        let language = row.locale.map { NotificationLanguage(locale: $0) } ?? NotificationLanguage(user.locale)
        switch row.channel {
        case .inApp:
            return .delivered
        case .email:
            guard let mail = channels.mail else { throw ChannelNotConfigured(channel: "e-mail", variable: "SMTP_URL") }
            guard !user.email.isEmpty else { return nil }
            let rendered = try row.scenario.render(language: language, values: values)
            let id = try row.requireID().uuidString.lowercased()
            let message = MailMessage(
                from: mail.configuration.from,
                to: .init(email: user.email, name: "\(user.firstName) \(user.lastName)"),
                subject: rendered.emailSubject, text: rendered.emailText, html: rendered.emailHTML,
                messageID: "<\(id)@\(channels.messageIDDomain)>", date: context.deps.now)
            try await mail.send(message)
            return .sent
        case .sms:
            guard let sms = channels.sms else { throw ChannelNotConfigured(channel: "SMS", variable: "SMS_URL") }
            guard let phone = user.phone.flatMap({ PhoneNumber($0) }) else { return nil }
            let rendered = try row.scenario.render(language: language, values: values)
            _ = try await sms.send(rendered.smsText, to: phone)
            return .sent
        case .push:
            return try await push(row, to: user, channels: channels, context: context)
        }
    }

    /// Sends to every active device of the user; a device the provider says is gone is disabled. Nil when no device
    /// is left.
    private static func push(
        _ row: Notification, to user: User, channels: NotificationChannels, context: JobContext
    ) async throws -> Outcome? {
        let devices = try await NotificationDevice.query(on: context.db).filter(\.$user.$id == user.requireID())
            .filter(\.$disabledAt == nil).all()
        guard !devices.isEmpty else { return nil }
        let id = try row.requireID().uuidString.lowercased()
        let message = PushMessage(
            title: row.title, body: row.body, data: ["notification_id": id, "scenario": row.scenario.rawValue],
            isUrgent: row.isUrgent, collapseID: row.dedupeKey.map { String($0.prefix(64)) })
        var sent = 0
        var unconfigured = 0
        for device in devices {
            guard let provider = channels.push[device.platform] else {
                unconfigured += 1
                continue
            }
            let target = PushDevice(platform: device.platform, token: device.token)
            switch try await provider.send(message, to: target) {
            case .delivered:
                sent += 1
                device.lastUsedAt = context.deps.now
                try await device.save(on: context.db)
            case .unregistered:
                device.disabledAt = context.deps.now
                device.disabledReason = "unregistered"
                try await device.save(on: context.db)
                context.logger.info("push device unregistered by its provider; disabled", metadata: ["device": "\(target)"])
            }
        }
        if sent > 0 { return .sent }
        if unconfigured > 0 { throw ChannelNotConfigured(channel: "push", variable: "APNS_KEY_FILE or FCM_SERVICE_ACCOUNT_FILE") }
        return nil
    }

    private static func finish(
        _ row: Notification, _ status: Notification.Status, reason: Notification.SuppressedReason? = nil, at now: Date,
        on db: any Database
    ) async throws {
        row.status = status
        row.suppressedReason = reason
        row.lastError = nil
        if status == .sent || status == .delivered {
            row.attempts += 1
            row.sentAt = now
            if status == .delivered { row.deliveredAt = now }
        }
        try await db.serializedWrite { try await row.save(on: db) }
    }
}

/// A message for a channel this node has no configuration for.
struct ChannelNotConfigured: Error, RetryableError, CustomStringConvertible {
    var channel: String
    var variable: String
    var isTransient: Bool { false }
    var description: String { "The \(channel) channel is not configured on this server (\(variable))." }
}

extension SMTPError: RetryableError {}
extension SMSError: RetryableError {}
extension PushError: RetryableError {}
extension NotificationTemplateError: RetryableError {
    var isTransient: Bool { false }
}

extension NotificationChannels {
    /// The channels the configuration turns on: SMTP (`SMTP_URL`), APNs and FCM (`APNS_*`, `FCM_*`), SMS (`SMS_URL`).
    static func make(
        config: AppConfig, clock: AppClock, httpClient: HTTPClient, logger: Logger
    ) throws -> NotificationChannels {
        var channels = NotificationChannels()
        if let host = URLComponents(string: config.publicURL)?.host, !host.isEmpty { channels.messageIDDomain = host }
        if let mail = config.mail { channels.mail = try SMTPClient(configuration: mail, logger: logger) }
        if let apns = config.push.apns {
            channels.push[.ios] = try APNsClient(configuration: apns, logger: logger, clock: clock.now)
        }
        if let fcm = config.push.fcm {
            channels.push[.android] = try FCMClient(configuration: fcm, logger: logger, clock: clock.now)
        }
        if let sms = config.sms {
            channels.sms = try HTTPSMSProvider(configuration: sms, client: httpClient, logger: logger, clock: clock)
        }
        return channels
    }
}

/// Closes the push providers' connections when the application shuts down.
struct NotificationChannelsShutdown: LifecycleHandler {
    let channels: NotificationChannels

    func shutdownAsync(_ application: Application) async {
        await channels.mail?.shutdown()
        for provider in channels.push.values {
            if let apns = provider as? APNsClient { try? await apns.shutdown() }
            if let fcm = provider as? FCMClient { try? await fcm.shutdown() }
        }
    }
}

import Foundation
import OpenAPIRuntime
import Vapor

extension APIHandler {
    func getMyNotificationPreferences(
        _ input: Operations.GetMyNotificationPreferences.Input
    ) async throws -> Operations.GetMyNotificationPreferences.Output {
        let request = try RequestContext.request
        let record = try await NotificationInbox.preferences(access: request.access, on: request.db)
        return .ok(.init(body: .json(NotificationPreferencesView.make(record))))
    }

    func updateMyNotificationPreferences(
        _ input: Operations.UpdateMyNotificationPreferences.Input
    ) async throws -> Operations.UpdateMyNotificationPreferences.Output {
        let request = try RequestContext.request
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let choice = try NotificationPreferencesView.choice(body)
        let record = try await NotificationInbox.replacePreferences(
            choice, access: request.access, deps: request.dependencies, on: request.db)
        return .ok(.init(body: .json(NotificationPreferencesView.make(record))))
    }

    func listMyNotifications(
        _ input: Operations.ListMyNotifications.Input
    ) async throws -> Operations.ListMyNotifications.Output {
        let request = try RequestContext.request
        let query = input.query
        let page = {
            try Keyset.notifications.page(limit: query.limit.map(Int.init), cursor: query.cursor, request: request)
        }
        let filter = NotificationFilter(
            channel: query.channel.flatMap { Notification.Channel(rawValue: $0.rawValue) },
            status: query.status.flatMap { Notification.Status(rawValue: $0.rawValue) },
            scenario: query.scenario.flatMap { Notification.Scenario(rawValue: $0.rawValue) }, unread: query.unread)
        let (rows, next) = try await NotificationInbox.list(filter, page: page, access: request.access, on: request.db)
        return .ok(.init(body: .json(.init(items: try rows.map(UserNotificationView.make), nextCursor: next))))
    }

    func countMyUnreadNotifications(
        _ input: Operations.CountMyUnreadNotifications.Input
    ) async throws -> Operations.CountMyUnreadNotifications.Output {
        let request = try RequestContext.request
        let count = try await NotificationInbox.unreadCount(access: request.access, on: request.db)
        return .ok(.init(body: .json(.init(unread: Int64(count)))))
    }

    func markAllMyNotificationsRead(
        _ input: Operations.MarkAllMyNotificationsRead.Input
    ) async throws -> Operations.MarkAllMyNotificationsRead.Output {
        let request = try RequestContext.request
        let marked = try await NotificationInbox.markAllRead(
            access: request.access, deps: request.dependencies, on: request.db)
        return .ok(.init(body: .json(.init(marked: Int64(marked)))))
    }

    func markMyNotificationRead(
        _ input: Operations.MarkMyNotificationRead.Input
    ) async throws -> Operations.MarkMyNotificationRead.Output {
        let request = try RequestContext.request
        let row = try await NotificationInbox.markRead(
            APIID.uuid(input.path.notificationId), access: request.access, deps: request.dependencies, on: request.db)
        return .ok(.init(body: .json(try UserNotificationView.make(row))))
    }

    func listMyDevices(_ input: Operations.ListMyDevices.Input) async throws -> Operations.ListMyDevices.Output {
        let request = try RequestContext.request
        let query = input.query
        let page = { try Keyset.devices.page(limit: query.limit.map(Int.init), cursor: query.cursor, request: request) }
        let (devices, next) = try await NotificationInbox.devices(page: page, access: request.access, on: request.db)
        return .ok(.init(body: .json(.init(items: try devices.map(DeviceView.make), nextCursor: next))))
    }

    func registerMyDevice(_ input: Operations.RegisterMyDevice.Input) async throws -> Operations.RegisterMyDevice.Output {
        let request = try RequestContext.request
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let platform = NotificationDevice.Platform(rawValue: body.platform.rawValue) ?? .ios
        let (device, created) = try await NotificationInbox.registerDevice(
            platform: platform, token: body.token, label: body.label, access: request.access,
            deps: request.dependencies, on: request.db)
        let view = try DeviceView.make(device)
        return created ? .created(.init(body: .json(view))) : .ok(.init(body: .json(view)))
    }

    func unregisterMyDeviceByToken(
        _ input: Operations.UnregisterMyDeviceByToken.Input
    ) async throws -> Operations.UnregisterMyDeviceByToken.Output {
        let request = try RequestContext.request
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let platform = NotificationDevice.Platform(rawValue: body.platform.rawValue) ?? .ios
        try await NotificationInbox.unregisterDevice(
            id: nil, token: (platform, body.token), access: request.access, deps: request.dependencies, on: request.db)
        return .noContent(.init())
    }

    func unregisterMyDevice(_ input: Operations.UnregisterMyDevice.Input) async throws -> Operations.UnregisterMyDevice.Output {
        let request = try RequestContext.request
        try await NotificationInbox.unregisterDevice(
            id: APIID.uuid(input.path.deviceId), token: nil, access: request.access, deps: request.dependencies,
            on: request.db)
        return .noContent(.init())
    }
}

extension Keyset {
    static let notifications = Keyset(
        "listMyNotifications", table: Notification.schema, [.column("created_at", .descending, nullable: true)],
        id: .descending)
    static let devices = Keyset(
        "listMyDevices", table: NotificationDevice.schema, [.column("created_at", .descending, nullable: true)],
        id: .descending)
}

/// Preferences as the API shows and takes them.
enum NotificationPreferencesView {
    static func make(_ record: NotificationPreferenceRecord) -> Components.Schemas.NotificationPreferences {
        let settings = record.settings
        var quiet: Components.Schemas.QuietHoursSetting?
        if let start = settings.quietStart, let end = settings.quietEnd {
            quiet = .init(
                start: start.description, end: end.description, weekdays: settings.quietWeekdays.map { $0.sorted() })
        }
        let overrides = Dictionary(
            uniqueKeysWithValues: record.overrides.map { scenario, channels in
                (scenario.rawValue, channels.compactMap { Components.Schemas.NotificationChannel(rawValue: $0.rawValue) })
            })
        return .init(
            channels: .init(push: settings.push, email: settings.email, sms: settings.sms, inApp: settings.inApp),
            quietHours: quiet, scenarioOverrides: .init(additionalProperties: overrides),
            timeZone: record.timeZone,
            scenarios: Notification.Scenario.allCases.compactMap { scenario in
                guard let wire = Components.Schemas.NotificationScenario(rawValue: scenario.rawValue) else { return nil }
                return .init(
                    scenario: wire,
                    defaultChannels: Notification.Channel.allCases.filter(scenario.defaultChannels.contains).compactMap {
                        Components.Schemas.NotificationChannel(rawValue: $0.rawValue)
                    }, mayBeUrgent: scenario.mayBeUrgent, mandatory: scenario.isMandatory)
            }, updatedAt: record.updatedAt)
    }

    /// The choice a `PUT` body makes; quiet hours that start and end at the same time are refused.
    static func choice(_ body: Components.Schemas.NotificationPreferencesUpdate) throws -> NotificationPreferenceChoice {
        var quiet: (start: WallClockTime, end: WallClockTime, weekdays: Set<Int>?)?
        if let hours = body.quietHours {
            guard let start = WallClockTime(hours.start), let end = WallClockTime(hours.end) else {
                throw AppError.validation([
                    .init(field: "/quiet_hours", code: "invalid_value", message: "Times are HH:mm, 00:00 to 23:59.")
                ])
            }
            guard start != end else {
                throw AppError.validation([
                    .init(
                        field: "/quiet_hours/end", code: "invalid_value",
                        message: "Quiet hours must end at another time than they start.")
                ])
            }
            quiet = (start, end, hours.weekdays.map { Set($0) })
        }
        var overrides: [Notification.Scenario: [Notification.Channel]] = [:]
        for (key, channels) in body.scenarioOverrides?.additionalProperties ?? [:] {
            guard let scenario = Notification.Scenario(rawValue: key) else {
                throw AppError.validation([
                    .init(field: "/scenario_overrides/\(key)", code: "invalid_value", message: "No such scenario.")
                ])
            }
            overrides[scenario] = channels.compactMap { Notification.Channel(rawValue: $0.rawValue) }
        }
        let channels = body.channels
        return NotificationPreferenceChoice(
            push: channels.push, email: channels.email, sms: channels.sms, inApp: channels.inApp, quietHours: quiet,
            overrides: overrides)
    }
}

/// A user's notification as the API shows it. `data` (what the app opens, and a link that may carry a one-time
/// token) is shown for in-app and push messages only, never for e-mail or SMS.
enum UserNotificationView {
    static func make(_ row: Notification) throws -> Components.Schemas.UserNotification {
        var data: Components.Schemas.UserNotification.DataPayload?
        if row.channel == .inApp || row.channel == .push {
            data = .init(additionalProperties: JSONText.decode([String: String].self, from: row.data) ?? [:])
        }
        return .init(
            id: try row.requireID().uuidString.lowercased(),
            channel: .init(rawValue: row.channel.rawValue) ?? .inApp,
            scenario: .init(rawValue: row.scenario.rawValue) ?? .securityAlert, title: row.title, body: row.body,
            data: data, status: .init(rawValue: row.status.rawValue) ?? .pending,
            suppressedReason: row.suppressedReason.flatMap { .init(rawValue: $0.rawValue) }, isUrgent: row.isUrgent,
            scheduledFor: row.scheduledFor, attempts: Int64(row.attempts), lastError: row.lastError, sentAt: row.sentAt,
            deliveredAt: row.deliveredAt, readAt: row.readAt, createdAt: row.createdAt ?? .distantPast)
    }
}

/// A push device as the API shows it: never its token.
enum DeviceView {
    static func make(_ device: NotificationDevice) throws -> Components.Schemas.Device {
        .init(
            id: try device.requireID().uuidString.lowercased(),
            platform: .init(rawValue: device.platform.rawValue) ?? .ios,
            fingerprint: PushDevice(platform: device.platform, token: device.token).fingerprint,
            label: device.label, createdAt: device.createdAt ?? .distantPast, lastUsedAt: device.lastUsedAt,
            disabledAt: device.disabledAt, disabledReason: device.disabledReason)
    }
}

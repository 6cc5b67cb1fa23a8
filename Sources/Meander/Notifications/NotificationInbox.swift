import FluentKit
import Foundation
import SQLKit

/// A user's own notifications, their preferences and their push devices: the services behind `/api/v1/me/…`
/// (and the portal's bell). Every call acts for the signed-in user only; anyone else's record is 404.
enum NotificationInbox {}

/// What a user's notification list is filtered by.
struct NotificationFilter: Sendable {
    var channel: Notification.Channel?
    var status: Notification.Status?
    var scenario: Notification.Scenario?
    /// true: only unread; false: only read.
    var unread: Bool?
}

/// A user's preferences as they choose them (`PUT`).
struct NotificationPreferenceChoice: Sendable, Equatable {
    var push: Bool
    var email: Bool
    var sms: Bool
    var inApp: Bool
    var quietHours: (start: WallClockTime, end: WallClockTime, weekdays: Set<Int>?)?
    var overrides: [Notification.Scenario: [Notification.Channel]]

    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.push == rhs.push && lhs.email == rhs.email && lhs.sms == rhs.sms && lhs.inApp == rhs.inApp
            && lhs.overrides == rhs.overrides && lhs.quietHours?.start == rhs.quietHours?.start
            && lhs.quietHours?.end == rhs.quietHours?.end && lhs.quietHours?.weekdays == rhs.quietHours?.weekdays
    }
}

/// A user's preferences as stored (or the defaults), with the time zone quiet hours are read in.
struct NotificationPreferenceRecord: Sendable {
    let settings: NotificationSettings
    let overrides: [Notification.Scenario: [Notification.Channel]]
    let timeZone: String
    let updatedAt: Date?
}

extension NotificationInbox {
    // MARK: notifications

    /// One page of the caller's notifications, newest first.
    static func list(
        _ filter: NotificationFilter, page: () throws -> KeysetPage, access: Access, on db: any Database
    ) async throws -> (items: [Notification], next: String?) {
        let principal = try access.authorizeSelf()
        let page = try page()
        let builder = Notification.query(on: db).filter(\.$user.$id == principal.userID)
        if let channel = filter.channel { builder.filter(\.$channel == channel) }
        if let status = filter.status { builder.filter(\.$status == status) }
        if let scenario = filter.scenario { builder.filter(\.$scenario == scenario) }
        switch filter.unread {
        case true?: builder.filter(\.$readAt == nil)
        case false?: builder.filter(\.$readAt != nil)
        case nil: break
        }
        let rows = try await builder.page(page).all()
        return try await page.finish(rows, id: { try $0.requireID() }, on: db)
    }

    /// How many of the caller's in-app messages are unread.
    static func unreadCount(access: Access, on db: any Database) async throws -> Int {
        let principal = try access.authorizeSelf()
        return try await Notification.query(on: db).filter(\.$user.$id == principal.userID)
            .filter(\.$channel == .inApp).filter(\.$status == .delivered).filter(\.$readAt == nil).count()
    }

    /// Marks one of the caller's notifications read (the first reading time stays).
    static func markRead(_ id: UUID?, access: Access, deps: AppDependencies, on db: any Database) async throws
        -> Notification
    {
        let principal = try access.authorizeSelf()
        guard let id, let row = try await Notification.find(id, on: db), row.$user.id == principal.userID else {
            throw AppError(.notFound, "No such notification of yours.")
        }
        if row.readAt == nil {
            row.readAt = deps.now
            try await row.save(on: db)
        }
        return row
    }

    /// Marks every unread notification of the caller read; returns how many.
    static func markAllRead(access: Access, deps: AppDependencies, on db: any Database) async throws -> Int {
        let principal = try access.authorizeSelf()
        let rows = try await db.sqlDatabase().raw(
            """
            UPDATE notifications SET read_at = \(bind: deps.now), updated_at = \(bind: deps.now) \
            WHERE user_id = \(bind: principal.userID) AND read_at IS NULL RETURNING id
            """
        ).all()
        return rows.count
    }

    // MARK: preferences

    /// The caller's preferences, or the defaults.
    static func preferences(access: Access, on db: any Database) async throws -> NotificationPreferenceRecord {
        let principal = try access.authorizeSelf()
        return try await preferences(of: principal.userID, on: db)
    }

    static func preferences(of userID: UUID, on db: any Database) async throws -> NotificationPreferenceRecord {
        guard let user = try await User.find(userID, on: db) else { throw AppError(.notFound, "No such user.") }
        let row = try await NotificationPreference.query(on: db).filter(\.$user.$id == userID).first()
        return NotificationPreferenceRecord(
            settings: NotificationSettings(row), overrides: row?.scenarioOverrides ?? [:], timeZone: user.timeZone,
            updatedAt: row?.updatedAt)
    }

    /// Replaces the caller's preferences, audited.
    static func replacePreferences(
        _ choice: NotificationPreferenceChoice, access: Access, deps: AppDependencies, on db: any Database
    ) async throws -> NotificationPreferenceRecord {
        let principal = try access.authorizeSelf()
        let userID = principal.userID
        let event = access.caller.event(
            "notification_preferences.updated", organizationID: nil, targetType: "user", targetID: userID,
            metadata: [
                "channels": [
                    choice.push ? "push" : nil, choice.email ? "email" : nil, choice.sms ? "sms" : nil,
                    choice.inApp ? "in_app" : nil,
                ].compactMap { $0 }.joined(separator: ","),
                "quiet_hours": choice.quietHours.map { "\($0.start)-\($0.end)" } ?? "none",
            ]
        ).dated(by: deps.clock)
        try await db.writeTransaction { transaction in
            let row =
                try await NotificationPreference.query(on: transaction).filter(\.$user.$id == userID).first()
                ?? NotificationPreference(id: deps.uuid(), userID: userID)
            row.pushEnabled = choice.push
            row.emailEnabled = choice.email
            row.smsEnabled = choice.sms
            row.inAppEnabled = choice.inApp
            row.quietHoursStart = choice.quietHours.map { $0.start.description }
            row.quietHoursEnd = choice.quietHours.map { $0.end.description }
            row.quietHoursWeekdays = choice.quietHours?.weekdays.map { $0.sorted().map(String.init).joined(separator: ",") }
            row.scenarioOverrides = choice.overrides
            try await row.save(on: transaction)
            try await AuditLog.append(event, on: transaction)
        }
        return try await preferences(of: userID, on: db)
    }

    // MARK: devices

    /// One page of the caller's push devices, newest first.
    static func devices(
        page: () throws -> KeysetPage, access: Access, on db: any Database
    ) async throws -> (items: [NotificationDevice], next: String?) {
        let principal = try access.authorizeSelf()
        let page = try page()
        let rows = try await NotificationDevice.query(on: db).filter(\.$user.$id == principal.userID).page(page).all()
        return try await page.finish(rows, id: { try $0.requireID() }, on: db)
    }

    /// Registers a device for the caller: a token already known moves to the caller and is enabled again. Returns
    /// the device and whether it is new.
    static func registerDevice(
        platform: NotificationDevice.Platform, token: String, label: String?, access: Access, deps: AppDependencies,
        on db: any Database
    ) async throws -> (device: NotificationDevice, created: Bool) {
        let principal = try access.authorizeSelf()
        let caller = access.caller
        return try await db.writeTransaction { transaction in
            let existing = try await NotificationDevice.query(on: transaction).filter(\.$platform == platform)
                .filter(\.$token == token).first()
            let device = existing ?? NotificationDevice(id: deps.uuid(), userID: principal.userID, platform: platform, token: token)
            device.$user.id = principal.userID
            device.label = label ?? device.label
            device.disabledAt = nil
            device.disabledReason = nil
            try await device.save(on: transaction)
            try await AuditLog.append(
                caller.event(
                    "device.registered", organizationID: nil, targetType: "device", targetID: try device.requireID(),
                    metadata: ["platform": platform.rawValue]
                ).dated(by: deps.clock),
                on: transaction)
            return (device, existing == nil)
        }
    }

    /// Removes one of the caller's devices, by id or by token; 404 when the caller has no such device.
    static func unregisterDevice(
        id: UUID?, token: (platform: NotificationDevice.Platform, token: String)?, access: Access, deps: AppDependencies,
        on db: any Database
    ) async throws {
        let principal = try access.authorizeSelf()
        let query = NotificationDevice.query(on: db).filter(\.$user.$id == principal.userID)
        if let id {
            query.filter(\.$id == id)
        } else if let token {
            query.filter(\.$platform == token.platform).filter(\.$token == token.token)
        } else {
            throw AppError(.notFound, "No such device of yours.")
        }
        guard let device = try await query.first() else { throw AppError(.notFound, "No such device of yours.") }
        let event = access.caller.event(
            "device.removed", organizationID: nil, targetType: "device", targetID: try device.requireID(),
            metadata: ["platform": device.platform.rawValue]
        ).dated(by: deps.clock)
        try await db.writeTransaction { transaction in
            try await device.delete(on: transaction)
            try await AuditLog.append(event, on: transaction)
        }
    }
}

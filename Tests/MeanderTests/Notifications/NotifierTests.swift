import FluentKit
import Foundation
import Testing
import Vapor

@testable import Meander

typealias Notification = AppNotification

/// Which channels a message takes and when: the preferences, overrides, addresses, deduplication and quiet hours as
/// a table of cases (`NotificationPlan` is a pure function).
@Suite("Notification plan")
struct NotificationPlanTests {
    static let oslo = TimeZone(identifier: "Europe/Oslo")!
    static let newYork = TimeZone(identifier: "America/New_York")!

    static func instant(_ text: String) -> Date {
        try! Date(text, strategy: .iso8601)
    }

    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var scenario: Notification.Scenario
        var settings = NotificationSettings()
        var urgent = false
        var addresses = NotificationPlan.Addresses(email: true, sms: false, push: true)
        var duplicates: Set<Notification.Channel> = []
        var now = NotificationPlanTests.instant("2026-06-10T10:00:00Z")
        var timeZone = NotificationPlanTests.oslo
        var expiresAt: Date?
        /// channel → "status" or "status@ISO-instant" or "suppressed:reason".
        var expected: [Notification.Channel: String]
    }

    static func quiet(_ start: String, _ end: String, weekdays: Set<Int>? = nil) -> NotificationSettings {
        var settings = NotificationSettings()
        settings.quietStart = WallClockTime(start)
        settings.quietEnd = WallClockTime(end)
        settings.quietWeekdays = weekdays
        return settings
    }

    static let cases: [Case] = {
        var pushOff = NotificationSettings()
        pushOff.push = false
        var emailOff = NotificationSettings()
        emailOff.email = false
        var overrideEmail = NotificationSettings()
        overrideEmail.overrides[.activityRejected] = [.email]
        var overrideSMS = NotificationSettings()
        overrideSMS.sms = true
        overrideSMS.overrides[.activityRejected] = [.sms, .inApp]
        var smsOffButChosen = NotificationSettings()
        smsOffButChosen.overrides[.activityRejected] = [.sms]
        let night = quiet("22:00", "07:00")
        return [
            Case(
                description: "defaults: push and in-app", scenario: .activityRejected,
                expected: [.push: "pending", .inApp: "delivered"]),
            Case(
                description: "push switched off", scenario: .activityRejected, settings: pushOff,
                expected: [.push: "suppressed:preference", .inApp: "delivered"]),
            Case(
                description: "no push device", scenario: .activityRejected,
                addresses: .init(email: true, sms: false, push: false),
                expected: [.push: "suppressed:no_address", .inApp: "delivered"]),
            Case(
                description: "the user's choice for the scenario replaces its defaults", scenario: .activityRejected,
                settings: overrideEmail,
                expected: [.push: "suppressed:preference", .email: "pending", .inApp: "suppressed:preference"]),
            Case(
                description: "SMS chosen and on, but no phone number", scenario: .activityRejected,
                settings: overrideSMS,
                expected: [.push: "suppressed:preference", .sms: "suppressed:no_address", .inApp: "delivered"]),
            Case(
                description: "SMS chosen and on, with a phone number", scenario: .activityRejected,
                settings: overrideSMS, addresses: .init(email: true, sms: true, push: true),
                expected: [.push: "suppressed:preference", .sms: "pending", .inApp: "delivered"]),
            Case(
                description: "a channel switched off stays off even when chosen for the scenario",
                scenario: .activityRejected, settings: smsOffButChosen, addresses: .init(email: true, sms: true, push: true),
                expected: [.push: "suppressed:preference", .sms: "suppressed:preference", .inApp: "suppressed:preference"]),
            Case(
                description: "a mandatory e-mail goes out with e-mail switched off", scenario: .passwordReset,
                settings: emailOff, expected: [.email: "pending"]),
            Case(
                description: "the same dedupe key again is suppressed", scenario: .activityRejected,
                duplicates: [.push], expected: [.push: "suppressed:deduplicated", .inApp: "delivered"]),
            Case(
                description: "in quiet hours: held until they end; in-app at once", scenario: .activityRejected,
                settings: night, now: instant("2026-06-10T21:30:00Z"),
                expected: [.push: "scheduled@2026-06-11T05:00:00Z", .inApp: "delivered"]),
            Case(
                description: "just before quiet hours: sent now", scenario: .activityRejected, settings: night,
                now: instant("2026-06-10T19:59:00Z"), expected: [.push: "pending", .inApp: "delivered"]),
            Case(
                description: "urgent in quiet hours, in a scenario that may be urgent: passes", scenario: .passwordReset,
                settings: night, urgent: true, now: instant("2026-06-10T23:00:00Z"), expected: [.email: "pending"]),
            Case(
                description: "urgent asked for, but the scenario may not be urgent: held",
                scenario: .activityRejected, settings: night, urgent: true, now: instant("2026-06-10T23:00:00Z"),
                expected: [.push: "scheduled@2026-06-11T05:00:00Z", .inApp: "delivered"]),
            Case(
                description: "held past when it lapses: suppressed", scenario: .activityRejected, settings: night,
                now: instant("2026-06-10T21:30:00Z"), expiresAt: instant("2026-06-11T04:00:00Z"),
                expected: [.push: "suppressed:quiet_hours_expired", .inApp: "delivered"]),
            Case(
                description: "spring change (29 March 2026): 22:00-07:00 ends at 07:00 summer time",
                scenario: .activityRejected, settings: night, now: instant("2026-03-28T22:30:00Z"),
                expected: [.push: "scheduled@2026-03-29T05:00:00Z", .inApp: "delivered"]),
            Case(
                description: "autumn change (25 October 2026): 22:00-07:00 ends at 07:00 winter time",
                scenario: .activityRejected, settings: night, now: instant("2026-10-24T21:30:00Z"),
                expected: [.push: "scheduled@2026-10-25T06:00:00Z", .inApp: "delivered"]),
            Case(
                description: "autumn night, in the repeated hour (02:30 the second time)", scenario: .activityRejected,
                settings: night, now: instant("2026-10-25T01:30:00Z"),
                expected: [.push: "scheduled@2026-10-25T06:00:00Z", .inApp: "delivered"]),
            Case(
                description: "a user in New York: their own 22:00-07:00", scenario: .activityRejected, settings: night,
                now: instant("2026-01-15T03:30:00Z"), timeZone: newYork,
                expected: [.push: "scheduled@2026-01-15T12:00:00Z", .inApp: "delivered"]),
            Case(
                description: "quiet on Friday and Saturday nights only: a Wednesday night is not",
                scenario: .activityRejected, settings: quiet("22:00", "07:00", weekdays: [5, 6]),
                now: instant("2026-06-10T21:30:00Z"), expected: [.push: "pending", .inApp: "delivered"]),
            Case(
                description: "quiet on Friday and Saturday nights only: a Friday night is",
                scenario: .activityRejected, settings: quiet("22:00", "07:00", weekdays: [5, 6]),
                now: instant("2026-06-12T21:30:00Z"), expected: [.push: "scheduled@2026-06-13T05:00:00Z", .inApp: "delivered"]),
        ]
    }()

    @Test("channels, suppression and delivery times", arguments: cases)
    func plan(_ item: Case) {
        let plan = NotificationPlan.make(
            scenario: item.scenario, settings: item.settings, urgent: item.urgent, addresses: item.addresses,
            duplicates: item.duplicates, now: item.now, timeZone: item.timeZone, expiresAt: item.expiresAt)
        var got: [Notification.Channel: String] = [:]
        for step in plan {
            var text = step.status.rawValue
            if let reason = step.suppressedReason { text += ":\(reason.rawValue)" }
            if let at = step.scheduledFor { text += "@\(at.formatted(.iso8601))" }
            got[step.channel] = text
        }
        #expect(got == item.expected, "\(item.description)")
        #expect(plan.allSatisfy { $0.needsDelivery == ($0.channel != .inApp && ($0.status == .pending || $0.status == .scheduled)) })
    }
}

/// `Notifier.notify` against the database, and delivery through the job queue to a real SMTP server.
@Suite("Notifier")
struct NotifierTests {
    static let start = Date(timeIntervalSince1970: 1_796_000_000)

    @Test("one row per channel in the user's language, delivery enqueued in the caller's transaction")
    func writesRowsAndJobs() async throws {
        try await withTestApp { app in
            let user = try await IdentityFixtures.user(app, email: "kari@example.no")
            user.locale = .nn
            try await user.save(on: app.db)
            let deps = app.meander.dependencies
            try await NotificationDevice(userID: try user.requireID(), platform: .android, token: "fcm-token-123456")
                .create(on: app.db)
            let rows = try await app.db.transaction { transaction in
                try await Notifier.notify(
                    try user.requireID(), .init(.activityRejected, values: ["link": "https://app/a/1"]), deps: deps,
                    on: transaction)
            }
            #expect(Set(rows.map(\.channel)) == [.push, .inApp])
            #expect(rows.allSatisfy { $0.locale == "nn" })
            let inApp = try #require(rows.first { $0.channel == .inApp })
            #expect(inApp.status == .delivered)
            #expect(
                inApp.title
                    == (try Notification.Scenario.activityRejected.render(
                        language: .nn, values: ["first_name": "Test", "link": "https://app/a/1"]
                    ).title))
            let jobs = try await Job.query(on: app.db).filter(\.$kind == NotificationDelivery.jobKindName).all()
            #expect(jobs.count == 1)
            #expect(jobs.first?.queue == JobQueues.notifications)

            // A notification in a transaction that rolls back leaves neither rows nor jobs.
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await app.db.transaction { transaction in
                    try await Notifier.notify(
                        try user.requireID(), .init(.activityRejected, values: ["link": "x"]), deps: deps, on: transaction)
                    throw Abort()
                }
            }
            #expect(try await Notification.query(on: app.db).count() == 2)
            #expect(try await Job.query(on: app.db).filter(\.$kind == NotificationDelivery.jobKindName).count() == 1)
        }
    }

    @Test("the same dedupe key twice: the second is suppressed, nothing is sent twice")
    func deduplicates() async throws {
        try await withTestApp { app in
            let user = try await IdentityFixtures.user(app, email: "kari@example.no")
            let deps = app.meander.dependencies
            let message = Notifier.Message(.activityApproved, values: ["link": "x"], dedupeKey: "activity:1:approved")
            let first = try await Notifier.notify(try user.requireID(), message, deps: deps, on: app.db)
            let second = try await Notifier.notify(try user.requireID(), message, deps: deps, on: app.db)
            #expect(first.allSatisfy { $0.status != .suppressed })
            #expect(second.allSatisfy { $0.status == .suppressed && $0.suppressedReason == .deduplicated })
        }
    }

    @Test("no phone number: SMS is suppressed as no_address, not failed")
    func noAddressIsSuppressed() async throws {
        try await withTestApp { app in
            let user = try await IdentityFixtures.user(app, email: "kari@example.no")
            let preference = NotificationPreference(
                userID: try user.requireID(), smsEnabled: true, scenarioOverrides: [.activityApproved: [.sms]])
            try await preference.create(on: app.db)
            let rows = try await Notifier.notify(
                try user.requireID(), .init(.activityApproved, values: ["link": "x"]), deps: app.meander.dependencies,
                on: app.db)
            let sms = try #require(rows.first { $0.channel == .sms })
            #expect(sms.status == .suppressed && sms.suppressedReason == .noAddress)
            #expect(try await Job.query(on: app.db).filter(\.$kind == NotificationDelivery.jobKindName).count() == 0)
        }
    }

    @Test("a channel without configuration fails its message with a clear error, once")
    func unconfiguredChannelFails() async throws {
        try await withTestApp { app in
            let user = try await IdentityFixtures.user(app, email: "kari@example.no")
            let rows = try await Notifier.notify(
                try user.requireID(), PasswordReset.message(link: "https://x/reset?token=t"),
                deps: app.meander.dependencies, on: app.db)
            #expect(rows.map(\.channel) == [.email])
            #expect(try await app.meander.jobs.workers.drain() == 1)
            let row = try #require(try await Notification.find(rows[0].id, on: app.db))
            #expect(row.status == .failed)
            #expect(row.lastError?.contains("SMTP_URL") == true)
            let job = try #require(try await Job.query(on: app.db).filter(\.$kind == NotificationDelivery.jobKindName).first())
            #expect(job.status == .failed && job.attempts == 1)
        }
    }
}

/// Delivery over SMTP to the aiosmtpd servers of `scripts/with-smtp`.
@Suite(
    "Notification delivery by e-mail",
    .enabled(if: SMTPTestServer.isRunning, "run under scripts/with-smtp (MEANDER_TEST_SMTP_URL is not set)"))
struct NotificationEmailDeliveryTests {
    @Test("an invitation reaches the mail server once, in Norwegian, and is marked sent")
    func delivers() async throws {
        let smtp = try SMTPTestServer.configuration()
        try await withTestApp(configure: { $0.mail = smtp }) { app in
            let email = "mottaker-\(UUID().uuidString.prefix(8).lowercased())@meander.example"
            let user = try await IdentityFixtures.user(app, email: email)
            let rows = try await Notifier.notify(
                try user.requireID(),
                .init(.invitation, values: ["organization": "Tromsø lokallag", "link": "https://app.test/i?token=abc"]),
                deps: app.meander.dependencies, on: app.db)
            #expect(try await app.meander.jobs.workers.drain() == 1)
            let delivered = try SMTPTestServer.delivered(to: email)
            #expect(delivered.count == 1)
            let expected = try Notification.Scenario.invitation.render(
                language: .nb,
                values: ["first_name": "Test", "organization": "Tromsø lokallag", "link": "https://app.test/i?token=abc"])
            #expect(delivered.first?.subject == expected.emailSubject)
            #expect(delivered.first?.text?.contains("https://app.test/i?token=abc") == true)
            #expect(delivered.first?.html != nil)
            let row = try #require(try await Notification.find(rows[0].id, on: app.db))
            #expect(row.status == .sent && row.attempts == 1 && row.sentAt != nil)
            #expect(delivered.first?.messageID == "<\(try row.requireID().uuidString.lowercased())@127.0.0.1>")
        }
    }

    @Test("the server drops the connection mid-message: the job retries on its backoff and exactly one copy arrives")
    func retriesAfterCutOff() async throws {
        let smtp = try SMTPTestServer.configuration("FLAKY_URL")
        let clock = TestClock(NotifierTests.start)
        try await withTestApp(dependencies: .init(clock: clock.clock, uuid: .live), configure: { $0.mail = smtp }) { app in
            let email = "mottaker-\(UUID().uuidString.prefix(8).lowercased())@meander.example"
            let user = try await IdentityFixtures.user(app, email: email)
            let rows = try await Notifier.notify(
                try user.requireID(), PasswordReset.message(link: "https://app.test/r?token=abc"),
                deps: app.meander.dependencies, on: app.db)
            #expect(try await app.meander.jobs.workers.drain() == 1)
            var row = try #require(try await Notification.find(rows[0].id, on: app.db))
            #expect(row.status == .pending && row.attempts == 1 && row.lastError != nil)
            #expect(try SMTPTestServer.delivered(to: email).isEmpty)
            let job = try #require(try await Job.query(on: app.db).filter(\.$kind == NotificationDelivery.jobKindName).first())
            #expect(job.status == .queued && job.runAt > clock.now)
            // Not before its backoff.
            #expect(try await app.meander.jobs.workers.drain() == 0)
            // (a second past it: the stored time may be finer than the one read back)
            clock.set(job.runAt.addingTimeInterval(1))
            #expect(try await app.meander.jobs.workers.drain() == 1)
            row = try #require(try await Notification.find(rows[0].id, on: app.db))
            #expect(row.status == .sent && row.attempts == 2)
            #expect(try SMTPTestServer.delivered(to: email).count == 1)
        }
    }
}

/// Delivery by push through the Notifier and the queue, to the fake APNs and FCM of `scripts/with-push`.
@Suite(
    "Notification delivery by push",
    .enabled(if: PushTestPeer.isRunning, "run under scripts/with-push (MEANDER_TEST_APNS_URL is not set)"))
struct NotificationPushDeliveryTests {
    @Test("to an iPhone and an Android phone; a phone the provider says is gone is disabled; a 429 is retried")
    func delivers() async throws {
        let push = try PushTestPeer.configuration()
        let clock = TestClock(Date())
        try await withTestApp(dependencies: .init(clock: clock.clock, uuid: .live), configure: { $0.push = push }) { app in
            let user = try await IdentityFixtures.user(app, email: "mentor@example.no")
            let userID = try user.requireID()
            let iphone = PushTestPeer.deviceToken()
            let android = PushTestPeer.deviceToken()
            let gone = PushTestPeer.deviceToken("gone-")
            for (platform, token) in [(NotificationDevice.Platform.ios, iphone), (.android, android), (.ios, gone)] {
                try await NotificationDevice(userID: userID, platform: platform, token: token).create(on: app.db)
            }
            let rows = try await Notifier.notify(
                userID, .init(.activityRejected, values: ["link": "https://app.test/a/1"]), deps: app.meander.dependencies,
                on: app.db)
            #expect(try await app.meander.jobs.workers.drain() == 1)
            let pushed = try #require(rows.first { $0.channel == .push })
            let row = try #require(try await Notification.find(pushed.id, on: app.db))
            #expect(row.status == .sent && row.attempts == 1)
            let records = try PushTestPeer.records()
            let apns = records.filter { $0.service == "apns" && $0.device == iphone && $0.status == 200 }
            let fcm = records.filter { $0.service == "fcm" && $0.status == 200 && $0.device == android }
            #expect(apns.count == 1 && fcm.count == 1)
            #expect(apns.first?.jwt?.verified == true)
            let disabled = try #require(try await NotificationDevice.query(on: app.db).filter(\.$token == gone).first())
            #expect(disabled.disabledAt != nil && disabled.disabledReason == "unregistered")

            // A phone whose provider says 429: the job is retried on its backoff (not before) and then delivered.
            let busy = PushTestPeer.deviceToken("busy-")
            try await NotificationDevice.query(on: app.db).filter(\.$user.$id == userID).delete()
            try await NotificationDevice(userID: userID, platform: .ios, token: busy).create(on: app.db)
            let second = try await Notifier.notify(
                userID, .init(.activityRejected, values: ["link": "https://app.test/a/2"]), deps: app.meander.dependencies,
                on: app.db)
            let pushRow = try #require(second.first { $0.channel == .push })
            #expect(try await app.meander.jobs.workers.drain() == 1)
            let waiting = try #require(try await Notification.find(pushRow.id, on: app.db))
            #expect(waiting.status == .pending && waiting.attempts == 1 && waiting.lastError?.contains("429") == true)
            #expect(waiting.lastError?.contains(busy) == false)
            let job = try #require(
                try await Job.query(on: app.db).filter(\.$kind == NotificationDelivery.jobKindName).filter(\.$status == .queued)
                    .first())
            // The fake asked for 7 s (Retry-After): the retry is not due before.
            // (SQLite keeps the time as a double: allow for its rounding)
            #expect(job.runAt.timeIntervalSince(clock.now) >= 7 - 0.001)
            #expect(try await app.meander.jobs.workers.drain() == 0)
            clock.set(job.runAt.addingTimeInterval(1))
            #expect(try await app.meander.jobs.workers.drain() == 1)
            #expect(try await Notification.find(pushRow.id, on: app.db)?.status == .sent)
        }
    }
}

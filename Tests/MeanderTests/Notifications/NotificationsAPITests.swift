import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

@testable import Meander

@Suite("Notifications API: preferences, my notifications, devices")
struct NotificationsAPITests {
    @Test("preferences: defaults, a full replacement read back, audited; bad input is a 400 that changes nothing")
    func preferences() async throws {
        try await withTestApp { app in
            let kari = try await IdentityFixtures.signedIn(app, email: "kari@example.no", roles: [])
            let defaults = try await API.send(app, .GET, "/api/v1/me/notification-preferences", as: kari)
            #expect(defaults.status == .ok)
            let initial = try defaults.decode(Components.Schemas.NotificationPreferences.self)
            #expect(initial.channels.push && initial.channels.email && !initial.channels.sms && initial.channels.inApp)
            #expect(initial.quietHours == nil)
            #expect(initial.timeZone == "Europe/Oslo")
            #expect(initial.scenarios.count == Notification.Scenario.allCases.count)

            let body = #"""
                {"channels": {"push": true, "email": false, "sms": true, "in_app": true},
                 "quiet_hours": {"start": "22:30", "end": "06:45", "weekdays": [5, 6]},
                 "scenario_overrides": {"activity_rejected": ["sms", "in_app"]}}
                """#
            let saved = try await API.send(app, .PUT, "/api/v1/me/notification-preferences", as: kari, json: body)
            #expect(saved.status == .ok, "\(saved.text)")
            let read = try await API.send(app, .GET, "/api/v1/me/notification-preferences", as: kari)
            let prefs = try read.decode(Components.Schemas.NotificationPreferences.self)
            #expect(!prefs.channels.email && prefs.channels.sms)
            guard let quiet = prefs.quietHours else {
                Issue.record("quiet hours missing: \(read.text)")
                return
            }
            #expect(quiet.start == "22:30" && quiet.end == "06:45" && quiet.weekdays == [5, 6])
            #expect(prefs.scenarioOverrides.additionalProperties["activity_rejected"] == [.sms, .inApp])
            let audit = try await AuditLogEntry.query(on: app.db).filter(\.$action == "notification_preferences.updated").count()
            #expect(audit == 1)

            for bad in [
                #"{"channels": {"push": true, "email": true, "sms": false, "in_app": true}, "quiet_hours": {"start": "25:00", "end": "07:00"}}"#,
                #"{"channels": {"push": true, "email": true, "sms": false, "in_app": true}, "quiet_hours": {"start": "07:00", "end": "07:00"}}"#,
                #"{"channels": {"push": true, "email": true, "sms": false, "in_app": true}, "scenario_overrides": {"no_such": ["push"]}}"#,
                #"{"channels": {"push": true}}"#,
                #"{"channels": {"push": true, "email": true, "sms": false, "in_app": true}, "quiet_hours": {"start": "22:00", "end": "07:00", "weekdays": [0]}}"#,
            ] {
                let refused = try await API.send(app, .PUT, "/api/v1/me/notification-preferences", as: kari, json: bad)
                #expect(refused.status == .badRequest, "\(bad): \(refused.text)")
                #expect(refused.problemCode != nil)
            }
            let after = try await API.send(app, .GET, "/api/v1/me/notification-preferences", as: kari)
            #expect(try after.decode(Components.Schemas.NotificationPreferences.self).channels.sms)
        }
    }

    @Test("my notifications: filters, pages, unread count, read one and all; another user's is 404")
    func inbox() async throws {
        try await withTestApp { app in
            let kari = try await IdentityFixtures.signedIn(app, email: "kari@example.no", roles: [])
            let ola = try await IdentityFixtures.signedIn(app, email: "ola@example.no", roles: [])
            let deps = app.meander.dependencies
            for index in 0..<3 {
                try await Notifier.notify(
                    kari.user.requireID(), .init(.activityApproved, values: ["link": "https://app/a/\(index)"]),
                    deps: deps, on: app.db)
            }
            let olas = try await Notifier.notify(
                ola.user.requireID(), .init(.activityApproved, values: ["link": "https://app/a/9"]), deps: deps,
                on: app.db)

            let count = try await API.send(app, .GET, "/api/v1/me/notifications/unread-count", as: kari)
            #expect(try count.decode(Components.Schemas.UnreadCount.self).unread == 3)
            let firstPage = try await API.send(app, .GET, "/api/v1/me/notifications?channel=in_app&limit=2", as: kari)
            let page = try firstPage.decode(Components.Schemas.NotificationPage.self)
            #expect(page.items.count == 2)
            let cursor = try #require(page.nextCursor ?? nil)
            let second = try await API.send(app, .GET, "/api/v1/me/notifications?channel=in_app&limit=2&cursor=\(cursor)", as: kari)
            #expect(try second.decode(Components.Schemas.NotificationPage.self).items.count == 1)
            #expect(page.items.allSatisfy { $0.data?.additionalProperties["link"] != nil })

            let id = page.items[0].id
            let read = try await API.send(app, .POST, "/api/v1/me/notifications/\(id)/read", as: kari)
            #expect(read.status == .ok)
            #expect(try read.decode(Components.Schemas.UserNotification.self).readAt != nil)
            let unread = try await API.send(app, .GET, "/api/v1/me/notifications?unread=true", as: kari)
            #expect(try unread.decode(Components.Schemas.NotificationPage.self).items.count == 2)
            let all = try await API.send(app, .POST, "/api/v1/me/notifications/read-all", as: kari)
            #expect(try all.decode(Components.Schemas.MarkedRead.self).marked == 2)
            let none = try await API.send(app, .GET, "/api/v1/me/notifications/unread-count", as: kari)
            #expect(try none.decode(Components.Schemas.UnreadCount.self).unread == 0)

            let foreign = try await API.send(
                app, .POST, "/api/v1/me/notifications/\(try olas[0].requireID().api)/read", as: kari)
            #expect(foreign.status == .notFound)
            let bad = try await API.send(app, .GET, "/api/v1/me/notifications?status=nonsense", as: kari)
            #expect(bad.status == .badRequest)
        }
    }

    @Test("e-mail rows never show their data (a reset link) in the list")
    func emailDataHidden() async throws {
        try await withTestApp { app in
            let kari = try await IdentityFixtures.signedIn(app, email: "kari@example.no", roles: [])
            try await Notifier.notify(
                kari.user.requireID(), PasswordReset.message(link: "https://app/reset?token=secret-token"),
                deps: app.meander.dependencies, on: app.db)
            let list = try await API.send(app, .GET, "/api/v1/me/notifications?channel=email", as: kari)
            #expect(list.status == .ok)
            #expect(try list.decode(Components.Schemas.NotificationPage.self).items.count == 1)
            #expect(!list.text.contains("secret-token"))
        }
    }

    @Test("devices: register (201), again (200, moved to me), list without the token, remove by id and by token")
    func devices() async throws {
        try await withTestApp { app in
            let kari = try await IdentityFixtures.signedIn(app, email: "kari@example.no", roles: [])
            let ola = try await IdentityFixtures.signedIn(app, email: "ola@example.no", roles: [])
            let token = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
            let body = #"{"platform": "ios", "token": "\#(token)", "label": "Karis iPhone"}"#
            let created = try await API.send(app, .POST, "/api/v1/me/devices", as: ola, json: body)
            #expect(created.status == .created)
            let moved = try await API.send(app, .POST, "/api/v1/me/devices", as: kari, json: body)
            #expect(moved.status == .ok)
            let device = try moved.decode(Components.Schemas.Device.self)
            #expect(device.fingerprint.count == 12 && !moved.text.contains(token))
            let olaList = try await API.send(app, .GET, "/api/v1/me/devices", as: ola)
            #expect(try olaList.decode(Components.Schemas.DevicePage.self).items.isEmpty)
            let kariList = try await API.send(app, .GET, "/api/v1/me/devices", as: kari)
            #expect(try kariList.decode(Components.Schemas.DevicePage.self).items.map(\.id) == [device.id])
            #expect(!kariList.text.contains(token))

            let notMine = try await API.send(app, .DELETE, "/api/v1/me/devices/\(device.id)", as: ola)
            #expect(notMine.status == .notFound)
            let removed = try await API.send(app, .DELETE, "/api/v1/me/devices/\(device.id)", as: kari)
            #expect(removed.status == .noContent)
            _ = try await API.send(app, .POST, "/api/v1/me/devices", as: kari, json: body)
            let byToken = try await API.send(
                app, .DELETE, "/api/v1/me/devices", as: kari, json: #"{"platform": "ios", "token": "\#(token)"}"#)
            #expect(byToken.status == .noContent)
            #expect(try await NotificationDevice.query(on: app.db).count() == 0)
            let tooShort = try await API.send(
                app, .POST, "/api/v1/me/devices", as: kari, json: #"{"platform": "ios", "token": "abc"}"#)
            #expect(tooShort.status == .badRequest)
            let actions = try await AuditLogEntry.query(on: app.db).filter(\.$targetType == "device").all().map(\.action)
            #expect(actions.filter { $0 == "device.registered" }.count == 3)
            #expect(actions.filter { $0 == "device.removed" }.count == 2)
        }
    }

    @Test("the contract's scenario list is the code's")
    func scenariosMatch() throws {
        let wire = Set(Components.Schemas.NotificationScenario.allCases.map(\.rawValue))
        #expect(wire == Set(Notification.Scenario.allCases.map(\.rawValue)))
    }
}

@Suite("Jobs admin API and CLI")
struct JobsAdminTests {
    @Test("platform admins list, show, cancel and retry jobs; others are refused; all audited")
    func adminAPI() async throws {
        try await withTestApp { app in
            let admin = try await IdentityFixtures.signedIn(app, email: "root@example.no", roles: [(.platformAdmin, nil)])
            let tree = try await IdentityFixtures.tree(app)
            let orgAdmin = try await IdentityFixtures.signedIn(app, email: "org@example.no", roles: [(.orgAdmin, tree.national)])
            let deps = app.meander.dependencies
            let (job, _) = try await JobQueue.enqueue(JobRequest(JobMaintenance.probeKind), deps: deps, on: app.db)
            let id = try job.requireID().api

            #expect(try await API.send(app, .GET, "/api/v1/admin/jobs", as: orgAdmin).status == .forbidden)
            #expect(try await API.send(app, .GET, "/api/v1/admin/jobs").status == .unauthorized)
            let list = try await API.send(app, .GET, "/api/v1/admin/jobs?status=queued&kind=probe", as: admin)
            #expect(list.status == .ok, "\(list.text)")
            #expect(try list.decode(Components.Schemas.AdminJobPage.self).items.map(\.id) == [id])
            let empty = try await API.send(app, .GET, "/api/v1/admin/jobs?status=failed", as: admin)
            #expect(try empty.decode(Components.Schemas.AdminJobPage.self).items.isEmpty)
            let shown = try await API.send(app, .GET, "/api/v1/admin/jobs/\(id)", as: admin)
            #expect(try shown.decode(Components.Schemas.AdminJob.self).queue == ._default)
            #expect(try await API.send(app, .GET, "/api/v1/admin/jobs/\(UUID().api)", as: admin).status == .notFound)

            let early = try await API.send(app, .POST, "/api/v1/admin/jobs/\(id)/retry", as: admin)
            #expect(early.status == .conflict)
            let cancelled = try await API.send(app, .POST, "/api/v1/admin/jobs/\(id)/cancel", as: admin)
            #expect(try cancelled.decode(Components.Schemas.AdminJob.self).status == .cancelled)
            #expect(try await app.meander.jobs.workers.drain() == 0)
            let retried = try await API.send(app, .POST, "/api/v1/admin/jobs/\(id)/retry", as: admin)
            #expect(try retried.decode(Components.Schemas.AdminJob.self).status == .queued)
            #expect(try await app.meander.jobs.workers.drain() == 1)
            let done = try await API.send(app, .GET, "/api/v1/admin/jobs/\(id)", as: admin)
            let finished = try done.decode(Components.Schemas.AdminJob.self)
            #expect(finished.status == .succeeded && finished.result.additionalProperties["worker"] != nil)
            let actions = try await AuditLogEntry.query(on: app.db).filter(\.$targetType == "job").sort(\.$sequence).all()
            #expect(actions.map(\.action) == ["job.cancelled", "job.retried"])
            #expect(actions.allSatisfy { $0.actorUserID == admin.user.id })
        }
    }
}

@Suite("Jobs and notify on the command line")
struct JobsCommandLineTests {
    @Test("probe, list, run, show, retry and cancel; notify a user; usage errors exit 64")
    func commands() async throws {
        let directory = try CommandLineRun.emptyDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = { (arguments: [String]) in await CommandLineRun.run(arguments, in: directory) }
        #expect(await run(["migrate"]).code == 0)
        #expect(await run(["jobs", "probe", "--count", "3"]).output.contains("enqueued 3 probe jobs"))
        let queued = await run(["jobs", "list", "--status", "queued"])
        let lines = queued.output.split(separator: "\n").filter { $0.contains("probe") }
        #expect(lines.count == 3)
        let id = try #require(lines.first.map { String($0.split(separator: " ")[0]) })
        #expect(await run(["jobs", "run"]).output.contains("ran 3 jobs"))
        let shown = await run(["jobs", "show", id])
        #expect(shown.code == 0 && shown.output.contains("status: succeeded") && shown.output.contains("attempts: 1 of 3"))
        let late = await run(["jobs", "cancel", id])
        #expect(late.code == 1)
        #expect(late.errors.joined().contains("already ended"))
        let again = await run(["jobs", "retry", id])
        #expect(again.code == 1, "a succeeded job is not retried")
        #expect(await run(["jobs", "list", "--status", "nonsense"]).code == 64)
        #expect(await run(["jobs", "show", "not-a-uuid"]).code == 64)
        #expect(await run(["worker", "--help"]).output.contains("MEANDER_QUEUES"))

        let values = #"{"occurred_at": "7. desember 2026 kl. 10.00", "link": "https://app.test/me/sessions"}"#
        #expect(await run(["notify", "--scenario", "security_alert", "--user", "nobody@example.no"]).code == 64)
        #expect(await run(["notify", "--scenario", "security_alert", "--user", "nobody@example.no", "--values", values]).code == 1)
        #expect(await run(["seed", "--size", "small"]).code == 0)
        let sent = await run(["notify", "--scenario", "security_alert", "--user", "peer_mentor@demo.meander.no", "--values", values])
        #expect(sent.code == 0 && sent.output.contains("notified 1 users"), "\(sent.output) \(sent.errors)")
        let delivery = await run(["jobs", "list", "--kind", "notification_delivery"])
        #expect(delivery.output.split(separator: "\n").filter { $0.contains("queued") }.count >= 1)
        let refused = await run(["notify", "--scenario", "no_such_thing", "--user", "x@example.no"])
        #expect(refused.code == 64)
        let both = await run(["notify", "--scenario", "security_alert"])
        #expect(both.code == 64)
    }
}

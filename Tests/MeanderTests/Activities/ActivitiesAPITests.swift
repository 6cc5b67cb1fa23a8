import Fluent
import Foundation
import SQLKit
import Testing
import Vapor
import VaporTesting

@testable import Meander

@Suite("Activities API")
struct ActivitiesAPITests {
    typealias View = Components.Schemas.Activity
    typealias Page = Components.Schemas.ActivityPage

    static func create(_ app: Application, _ caller: SignedIn, _ json: String) async throws -> APIResult {
        try await API.send(app, .POST, "/api/v1/activities", as: caller, json: json)
    }

    @Test("a mentor logs a home visit: 201, eligibility at once, the summary encrypted and audited")
    func logs() async throws {
        try await withTestApp { app in
            // given
            let world = try await ActivityWorld.make(app)
            let homeVisit = try await ActivityWorld.typeID(app, "home_visit")
            let summary = "Kari snakket om diagnosen MS-Sjeldenhet-4711"

            // when
            let response = try await Self.create(
                app, world.mentor,
                ActivityWorld.body(organization: world.tree.chapterA1, type: homeVisit, summary: summary))

            // then
            #expect(response.status == .created, "\(response.text)")
            let view = try response.decode(View.self)
            #expect(view.mentorId == world.mentor.user.id?.api)
            #expect(view.onBehalf == false)
            #expect(view.eligibility.counts)
            #expect(view.eligibility.reportingYear == 2025)
            #expect(view.summary == summary)
            #expect(view.status == .registered)
            let rows = try await (app.db as! any SQLDatabase).raw("SELECT * FROM activities").all()
            let dump = rows.map { row in
                row.allColumns.map { column in
                    (try? row.decode(column: column, as: String?.self)) ?? (try? row.decode(column: column, as: Data?.self))
                        .flatMap { $0 }.map { String(decoding: $0, as: UTF8.self) } ?? nil
                }
            }
            #expect(!"\(dump)".contains("MS-Sjeldenhet-4711"), "the summary is stored only encrypted")
            #expect(try await AuditLogEntry.query(on: app.db).filter(\.$action == "activity.created").count() == 1)
        }
    }

    @Test("the answer says why an activity does not count")
    func explainsEligibility() async throws {
        try await withTestApp { app in
            // given
            let world = try await ActivityWorld.make(app)
            let group = try await ActivityWorld.typeID(app, "group_meeting")
            let visit = try await ActivityWorld.typeID(app, "home_visit")

            // when
            let small = try await Self.create(
                app, world.mentor, ActivityWorld.body(organization: world.tree.chapterA1, type: group, participants: 2))
            let abroad = try await Self.create(
                app, world.mentor, ActivityWorld.body(organization: world.tree.chapterA1, type: visit, country: "SE"))

            // then
            #expect(try small.decode(View.self).eligibility.reason == "too_few_participants")
            #expect(try abroad.decode(View.self).eligibility.reason == "outside_norway")
            #expect(try abroad.decode(View.self).eligibility.counts == false)
        }
    }

    @Test("the answer follows the stored rules of the activity's year, and says when there are none")
    func judgedByTheYearsStoredRules() async throws {
        try await withTestApp { app in
            // given: a stricter group rule for 2026 only
            let world = try await ActivityWorld.make(app)
            let group = try await ActivityWorld.typeID(app, "group_meeting")
            let rule = try #require(
                try await BufdirCountingRule.query(on: app.db).filter(\.$reportingYear == 2026)
                    .filter(\.$ruleKey == "group_activity").first())
            rule.parameters = #"{"min_participants":5,"min_minutes":60}"#
            try await rule.save(on: app.db)
            func log(_ occurredAt: String) async throws -> View {
                try await Self.create(
                    app, world.mentor,
                    ActivityWorld.body(
                        organization: world.tree.chapterA1, type: group, occurredAt: occurredAt, minutes: 90,
                        participants: 4)
                ).decode(View.self)
            }

            // when: the same group of 4 in three years
            let in2025 = try await log("2025-05-05T10:00:00Z")
            let in2026 = try await log("2026-05-05T10:00:00Z")
            let in2019 = try await log("2019-05-05T10:00:00Z")

            // then
            #expect(in2025.eligibility.counts)
            #expect(in2026.eligibility.reason == "too_few_participants")
            #expect(in2026.eligibility.reportingYear == 2026)
            #expect(in2019.eligibility.reason == "no_rules_for_year")
            #expect(in2019.eligibility.counts == false)
        }
    }

    @Test("offline retries: the same client_id and content returns the original; other content is 409")
    func clientIDs() async throws {
        try await withTestApp { app in
            // given
            let world = try await ActivityWorld.make(app)
            let visit = try await ActivityWorld.typeID(app, "home_visit")
            let clientID = UUID()
            let json = ActivityWorld.body(organization: world.tree.chapterA1, type: visit, clientID: clientID, summary: "ok")

            // when
            let first = try await Self.create(app, world.mentor, json)
            let retry = try await Self.create(app, world.mentor, json)
            let changed = try await Self.create(
                app, world.mentor,
                ActivityWorld.body(organization: world.tree.chapterA1, type: visit, clientID: clientID, minutes: 90))

            // then
            #expect(first.status == .created)
            #expect(retry.status == .ok)
            #expect(try retry.decode(View.self).id == first.decode(View.self).id)
            #expect(changed.status == .conflict)
            #expect(changed.problemCode == "conflict")
            #expect(changed.text.contains(clientID.api))
            #expect(try await Activity.query(on: app.db).count() == 1)
        }
    }

    @Test("50 racing identical creates over real HTTP make 1 row and 0 5xx")
    func racingCreates() async throws {
        try await withTestApp { app in
            // given
            let world = try await ActivityWorld.make(app)
            let visit = try await ActivityWorld.typeID(app, "home_visit")
            let json = ActivityWorld.body(organization: world.tree.chapterA1, type: visit, summary: "racing")
            app.http.client.configuration.connectionPool = .init(
                idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
            try await app.server.start(address: .hostname("127.0.0.1", port: 0))
            let port = try #require(app.http.server.shared.localAddress?.port)

            // when
            let results = try await withThrowingTaskGroup(of: APIResult.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        try await API.send(app.client, port: port, .POST, "/api/v1/activities", as: world.mentor, json: json)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            await app.server.shutdown()

            // then
            #expect(results.filter { $0.status == .created }.count == 1, "\(results.map(\.status.code))")
            #expect(results.filter { $0.status == .ok }.count == 49)
            #expect(Set(try results.map { try $0.decode(View.self).id }).count == 1)
            #expect(try await Activity.query(on: app.db).count() == 1)
            #expect(try await AuditLogEntry.query(on: app.db).filter(\.$action == "activity.created").count() == 1)
        }
    }

    @Test("a batch answers per item; bad items lose nothing of the good ones")
    func batch() async throws {
        try await withTestApp { app in
            // given
            let world = try await ActivityWorld.make(app)
            let visit = try await ActivityWorld.typeID(app, "home_visit")
            let reused = UUID()
            let items = [
                ActivityWorld.body(organization: world.tree.chapterA1, type: visit, clientID: reused),
                ActivityWorld.body(organization: world.tree.chapterA1, type: visit, minutes: 0),
                ActivityWorld.body(organization: world.tree.chapterA1, type: UUID().api),
                ActivityWorld.body(organization: world.tree.chapterA1, type: visit, clientID: reused),
                ActivityWorld.body(organization: world.tree.chapterA1, type: visit, clientID: reused, minutes: 30),
                ActivityWorld.body(organization: world.tree.otherChapter, type: visit),
                #"{"not": "an activity"}"#,
                ActivityWorld.body(organization: world.tree.chapterA1, type: visit, summary: "fine"),
            ]

            // when
            let response = try await API.send(
                app, .POST, "/api/v1/activities/batch", as: world.mentor,
                json: #"{"items": [\#(items.joined(separator: ","))]}"#)

            // then
            #expect(response.status == .ok, "\(response.text)")
            let result = try response.decode(Components.Schemas.BatchResult.self)
            #expect(result.results.map(\.outcome) == [.created, .invalid, .invalid, .replayed, .conflict, .notFound, .invalid, .created])
            #expect(result.results.map(\.status) == [201, 400, 400, 200, 409, 404, 400, 201])
            #expect(result.results[1].problem?.errors?.map(\.field) == ["/items/1/duration_minutes"])
            #expect(result.results[2].problem?.errors?.map(\.field) == ["/items/2/activity_type_id"])
            #expect((result.created, result.replayed, result.failed) == (2, 1, 5))
            #expect(try await Activity.query(on: app.db).count() == 2)
        }
    }

    @Test("a batch over 500 items is refused whole, with the field named")
    func batchLimit() async throws {
        try await withTestApp { app in
            let world = try await ActivityWorld.make(app)
            let items = Array(repeating: "{}", count: 501).joined(separator: ",")
            let response = try await API.send(
                app, .POST, "/api/v1/activities/batch", as: world.mentor, json: #"{"items": [\#(items)]}"#)
            #expect(response.status == .badRequest)
            #expect(response.problemFields == ["/items"])
        }
    }

    @Test("a coordinator logs on a mentor's behalf (recorded); a mentor may not log for another")
    func onBehalf() async throws {
        try await withTestApp { app in
            // given
            let world = try await ActivityWorld.make(app)
            let visit = try await ActivityWorld.typeID(app, "home_visit")
            let mentorID = try world.mentor.user.requireID()

            // when
            let byCoordinator = try await Self.create(
                app, world.coordinator,
                ActivityWorld.body(organization: world.tree.chapterA1, type: visit, mentorID: mentorID))
            let byPeer = try await Self.create(
                app, world.otherMentor,
                ActivityWorld.body(organization: world.tree.chapterA1, type: visit, mentorID: mentorID))
            let forNonMentor = try await Self.create(
                app, world.coordinator,
                ActivityWorld.body(
                    organization: world.tree.chapterA1, type: visit, mentorID: try world.admin.user.requireID()))

            // then
            #expect(byCoordinator.status == .created, "\(byCoordinator.text)")
            let view = try byCoordinator.decode(View.self)
            #expect(view.onBehalf)
            #expect(view.registeredById == world.coordinator.user.id?.api)
            #expect(view.mentorId == mentorID.api)
            #expect(byPeer.status == .forbidden)
            #expect(forNonMentor.status == .badRequest)
            #expect(forNonMentor.problemFields == ["/mentor_id"])
        }
    }

    @Test("a paused member cannot log, but still reads their history")
    func pausedMember() async throws {
        try await withTestApp { app in
            // given
            let world = try await ActivityWorld.make(app)
            let visit = try await ActivityWorld.typeID(app, "home_visit")
            let before = try await Self.create(
                app, world.mentor, ActivityWorld.body(organization: world.tree.chapterA1, type: visit))
            let membership = try #require(
                try await OrganizationMembership.query(on: app.db).filter(\.$user.$id == world.mentor.user.requireID())
                    .first())
            membership.status = .paused
            try await membership.save(on: app.db)

            // when
            let blocked = try await Self.create(
                app, world.mentor, ActivityWorld.body(organization: world.tree.chapterA1, type: visit))
            let history = try await API.send(app, .GET, "/api/v1/activities", as: world.mentor)

            // then
            #expect(before.status == .created)
            #expect(blocked.status == .forbidden)
            #expect(blocked.text.contains("paused"))
            #expect(history.status == .ok)
            #expect(try history.decode(Page.self).items.count == 1)
        }
    }

    @Test("mentors see their own work; coordinators their subtree; other tenants nothing (404)")
    func scoping() async throws {
        try await withTestApp { app in
            // given
            let world = try await ActivityWorld.make(app)
            let visit = try await ActivityWorld.typeID(app, "home_visit")
            let mine = try await Self.create(
                app, world.mentor, ActivityWorld.body(organization: world.tree.chapterA1, type: visit, summary: "mine")
            )
            .decode(View.self)
            _ = try await Self.create(app, world.otherMentor, ActivityWorld.body(organization: world.tree.chapterA1, type: visit))

            // when
            let mentorList = try await API.send(app, .GET, "/api/v1/activities", as: world.mentor).decode(Page.self)
            let coordinatorList = try await API.send(app, .GET, "/api/v1/activities", as: world.coordinator).decode(Page.self)
            let byPeer = try await API.send(app, .GET, "/api/v1/activities/\(mine.id)", as: world.otherMentor)
            let byForeign = try await API.send(app, .GET, "/api/v1/activities/\(mine.id)", as: world.foreignMentor)
            let byCoordinator = try await API.send(app, .GET, "/api/v1/activities/\(mine.id)", as: world.coordinator)
            let foreignList = try await API.send(app, .GET, "/api/v1/activities", as: world.foreignMentor).decode(Page.self)

            // then
            #expect(mentorList.items.map(\.id) == [mine.id])
            #expect(mentorList.items.allSatisfy { $0.summary == nil }, "lists leave the encrypted summary out")
            #expect(coordinatorList.items.count == 2)
            #expect(byPeer.status == .notFound)
            #expect(byForeign.status == .notFound)
            #expect(byCoordinator.status == .ok)
            #expect(try byCoordinator.decode(View.self).summary == "mine")
            #expect(foreignList.items.isEmpty)
            let reads = try await AuditLogEntry.query(on: app.db).filter(\.$action == "activity.sensitive_read").all()
            #expect(reads.count == 1)
            #expect(reads.first?.actorUserID == world.coordinator.user.id)
        }
    }

    @Test("list filters and cursor pagination visit every activity once, newest first")
    func listing() async throws {
        try await withTestApp { app in
            // given: 7 activities over 7 days, 2 of them phone calls
            let world = try await ActivityWorld.make(app)
            let visit = try await ActivityWorld.typeID(app, "home_visit")
            let call = try await ActivityWorld.typeID(app, "phone_call")
            for day in 1...7 {
                let response = try await Self.create(
                    app, world.mentor,
                    ActivityWorld.body(
                        organization: world.tree.chapterA1, type: day.isMultiple(of: 3) ? call : visit,
                        occurredAt: String(format: "2025-05-%02dT09:00:00Z", day)))
                #expect(response.status == .created)
            }

            // when: pages of 3
            var seen: [String] = []
            var cursor: String?
            repeat {
                let query = "/api/v1/activities?limit=3" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await API.send(app, .GET, query, as: world.coordinator).decode(Page.self)
                seen += page.items.map { $0.occurredAt.formatted(.iso8601) }
                cursor = page.nextCursor
            } while cursor != nil
            let calls = try await API.send(app, .GET, "/api/v1/activities?activity_type_id=\(call)", as: world.coordinator)
                .decode(Page.self)
            let window = try await API.send(
                app, .GET, "/api/v1/activities?from=2025-05-03T00:00:00Z&to=2025-05-05T00:00:00Z", as: world.coordinator
            ).decode(Page.self)
            let badCursor = try await API.send(app, .GET, "/api/v1/activities?cursor=bogus", as: world.coordinator)

            // then
            #expect(seen.count == 7)
            #expect(seen == seen.sorted(by: >))
            #expect(Set(seen).count == 7)
            #expect(calls.items.count == 2)
            #expect(window.items.count == 2)
            #expect(badCursor.status == .badRequest)
        }
    }

    @Test("review: approve or reject with a reason; approved work is read-only; racing reviewers, one wins")
    func review() async throws {
        try await withTestApp { app in
            // given
            let world = try await ActivityWorld.make(app)
            let visit = try await ActivityWorld.typeID(app, "home_visit")
            let first = try await Self.create(app, world.mentor, ActivityWorld.body(organization: world.tree.chapterA1, type: visit))
                .decode(View.self)
            let second = try await Self.create(app, world.mentor, ActivityWorld.body(organization: world.tree.chapterA1, type: visit))
                .decode(View.self)

            // when
            let byMentor = try await API.send(app, .POST, "/api/v1/activities/\(first.id)/approve", as: world.mentor)
            let approvals = try await withThrowingTaskGroup(of: HTTPStatus.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await API.send(app, .POST, "/api/v1/activities/\(first.id)/approve", as: world.coordinator).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let edit = try await API.send(
                app, .PATCH, "/api/v1/activities/\(first.id)", as: world.mentor, json: #"{"duration_minutes": 10}"#)
            let rejected = try await API.send(
                app, .POST, "/api/v1/activities/\(second.id)/reject", as: world.coordinator,
                json: #"{"reason": "Mangler dato"}"#)
            let corrected = try await API.send(
                app, .PATCH, "/api/v1/activities/\(second.id)", as: world.mentor, json: #"{"duration_minutes": 75}"#)

            // then
            #expect(byMentor.status == .forbidden)
            #expect(approvals.filter { $0 == .ok }.count == 1, "\(approvals)")
            #expect(approvals.filter { $0 == .conflict }.count == 7)
            #expect(edit.status == .conflict)
            #expect(try rejected.decode(View.self).rejectionReason == "Mangler dato")
            #expect(try rejected.decode(View.self).eligibility.reason == "rejected")
            let correctedView = try corrected.decode(View.self)
            #expect(correctedView.status == .registered, "a corrected rejection goes back for review")
            #expect(correctedView.eligibility.counts)
            #expect(try await AuditLogEntry.query(on: app.db).filter(\.$action == "activity.approved").count() == 1)
        }
    }

    @Test("a finalised Bufdir period is read-only, but a retried upload from before still gets its original; soft delete is audited")
    func closedPeriod() async throws {
        try await withTestApp { app in
            // given
            let world = try await ActivityWorld.make(app)
            let visit = try await ActivityWorld.typeID(app, "home_visit")
            let oldBody = ActivityWorld.body(
                organization: world.tree.chapterA1, type: visit, occurredAt: "2024-06-01T10:00:00Z")
            let old = try await Self.create(app, world.mentor, oldBody).decode(View.self)
            let recent = try await Self.create(app, world.mentor, ActivityWorld.body(organization: world.tree.chapterA1, type: visit))
                .decode(View.self)
            let report = BufdirReport(
                organizationID: try world.tree.national.requireID(), reportingYear: 2024, periodStart: "2024-01-01",
                periodEnd: "2024-12-31", status: .finalized)
            report.finalizedAt = Date()
            report.contentSHA256 = String(repeating: "0", count: 64)
            try await report.create(on: app.db)

            // when
            let retried = try await Self.create(app, world.mentor, oldBody)
            let late = try await Self.create(
                app, world.mentor,
                ActivityWorld.body(organization: world.tree.chapterA1, type: visit, occurredAt: "2024-06-02T10:00:00Z"))
            let edit = try await API.send(
                app, .PATCH, "/api/v1/activities/\(old.id)", as: world.coordinator, json: #"{"duration_minutes": 10}"#)
            let delete = try await API.send(app, .DELETE, "/api/v1/activities/\(old.id)", as: world.mentor)
            let move = try await API.send(
                app, .PATCH, "/api/v1/activities/\(recent.id)", as: world.mentor,
                json: #"{"occurred_at": "2024-11-11T10:00:00Z"}"#)
            let deleteRecent = try await API.send(app, .DELETE, "/api/v1/activities/\(recent.id)", as: world.mentor)
            let gone = try await API.send(app, .GET, "/api/v1/activities/\(recent.id)", as: world.mentor)

            // then
            #expect(retried.status == .ok)
            #expect(try retried.decode(View.self).id == old.id)
            #expect(late.status == .conflict)
            #expect(String(decoding: late.body, as: UTF8.self).contains("finalised Bufdir period"))
            #expect(edit.status == .conflict)
            #expect(delete.status == .conflict)
            #expect(move.status == .conflict)
            #expect(deleteRecent.status == .noContent)
            #expect(gone.status == .notFound)
            #expect(try await Activity.query(on: app.db).withDeleted().count() == 2)
            #expect(try await AuditLogEntry.query(on: app.db).filter(\.$action == "activity.deleted").count() == 1)
        }
    }

    @Test("a deactivated type cannot be chosen for new work but stays valid on old records")
    func deactivatedType() async throws {
        try await withTestApp { app in
            // given
            let world = try await ActivityWorld.make(app)
            let created = try await API.send(
                app, .POST, "/api/v1/organizations/\(world.tree.national.apiID)/activity-types", as: world.admin,
                json:
                    #"{"key": "kafe_treff", "name_nb": "Kafétreff", "name_en": "Café meet-up", "bufdir_category": "group", "reportable": true, "requires_evidence": false, "default_duration_minutes": 90}"#
            ).decode(Components.Schemas.ActivityType.self)
            let old = try await Self.create(
                app, world.mentor,
                ActivityWorld.body(organization: world.tree.chapterA1, type: created.id, minutes: 90, participants: 4))
            let deactivate = try await API.send(
                app, .PATCH, "/api/v1/activity-types/\(created.id)", as: world.admin, json: #"{"active": false}"#)

            // when
            let fresh = try await Self.create(
                app, world.mentor, ActivityWorld.body(organization: world.tree.chapterA1, type: created.id))
            let oldView = try await API.send(
                app, .GET, "/api/v1/activities/\(try old.decode(View.self).id)", as: world.mentor)
            let oldEdit = try await API.send(
                app, .PATCH, "/api/v1/activities/\(try old.decode(View.self).id)", as: world.mentor,
                json: #"{"participant_count": 5}"#)

            // then
            #expect(old.status == .created, "\(old.text)")
            #expect(try old.decode(View.self).eligibility.counts)
            #expect(deactivate.status == .ok)
            #expect(fresh.status == .badRequest)
            #expect(fresh.problemFields == ["/activity_type_id"])
            #expect(oldView.status == .ok)
            #expect(oldEdit.status == .ok, "\(oldEdit.text)")
            #expect(
                try await AuditLogEntry.query(on: app.db).filter(\.$action == "activity_type.deactivated").count() == 1)
        }
    }

    @Test("Idempotency-Key: same key and body replays; another body with the key is 422")
    func idempotencyKey() async throws {
        try await withTestApp { app in
            // given
            let world = try await ActivityWorld.make(app)
            let visit = try await ActivityWorld.typeID(app, "home_visit")
            let json = ActivityWorld.body(organization: world.tree.chapterA1, type: visit, clientID: nil)
            func send(_ body: String, key: String) async throws -> (HTTPStatus, HTTPHeaders, String) {
                var headers = world.mentor.headers
                headers.replaceOrAdd(name: "Idempotency-Key", value: key)
                var result: (HTTPStatus, HTTPHeaders, String)?
                try await app.testing().test(.POST, "/api/v1/activities", headers: headers, body: ByteBuffer(string: body)) {
                    result = ($0.status, $0.headers, $0.body.string)
                }
                return try #require(result)
            }

            // when
            let first = try await send(json, key: "sync-42")
            let replay = try await send(json, key: "sync-42")
            let other = try await send(
                ActivityWorld.body(organization: world.tree.chapterA1, type: visit, clientID: nil, minutes: 15), key: "sync-42")
            let bad = try await send(json, key: "has space")

            // then
            #expect(first.0 == .created)
            #expect(replay.0 == .created)
            #expect(replay.1.first(name: "Idempotent-Replayed") == "true")
            #expect(replay.2 == first.2)
            #expect(other.0 == .unprocessableEntity)
            #expect(bad.0 == .badRequest)
            #expect(try await Activity.query(on: app.db).count() == 1, "without a client_id, only the key kept it once")
            let stored = try #require(try await IdempotencyKey.query(on: app.db).first())
            #expect(stored.responseStatus == 201)
            let storedBody = try #require(stored.responseBody)
            #expect(!String(decoding: storedBody, as: UTF8.self).contains("activity_type_id"), "stored answers are sealed")
        }
    }
}

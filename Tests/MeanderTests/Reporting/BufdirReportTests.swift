import Fluent
import Foundation
import SQLKit
import Testing
import Vapor

@testable import Meander

@Suite("Bufdir report")
struct BufdirReportTests {
    typealias Report = Components.Schemas.BufdirReport
    typealias Cell = Components.Schemas.BufdirCell

    static func category(_ cell: Cell, _ name: String) throws -> Components.Schemas.BufdirCategoryFigures {
        try #require(cell.categories.first { $0.category.rawValue == name })
    }

    @Test("golden figures: every counting edge of the hand-built year, by organisation and county")
    func golden() async throws {
        try await withTestApp { app in
            // given
            let world = try await BufdirWorld.make(app)

            // when
            let report = try await world.createReport(app)

            // then: the national totals
            let totals = report.figures.totals
            #expect(report.status == .draft)
            #expect(report.periodStart == "2025-01-01" && report.periodEnd == "2025-12-31")
            #expect(totals.activities == 6, "rows 1, 2, 3, 9, 10, 12")
            #expect(totals.minutes == 360)
            #expect(totals.hours == 6)
            #expect(totals.days == 5, "rows 1 and 2 are one mentor's one day")
            #expect(totals.contactsReached == 3)
            #expect(totals.participantsGroup == 9)
            #expect(totals.activeMentors == 4)
            #expect(totals.registeredMentors == 4)
            #expect(totals.mentorsTrained == 1)
            #expect(totals.members == 6)
            #expect(totals.events == 1)
            #expect(totals.courseDays == 2)
            #expect(totals.chapters == 3)
            #expect(totals.countiesCovered == 3)
            #expect(totals.evidenceRequired == 2)
            #expect(totals.evidenceMissing == 1)
            let oneToOne = try Self.category(totals, "one_to_one")
            #expect(oneToOne.activities == 4 && oneToOne.minutes == 195 && oneToOne.hours == 3.25 && oneToOne.days == 3)
            let group = try Self.category(totals, "group")
            #expect(group.activities == 2 && group.minutes == 165 && group.hours == 2.75 && group.days == 2)
            #expect(group.participants == 9 && group.evidenceRequired == 2 && group.evidenceMissing == 1)
            #expect(try Self.category(totals, "course").activities == 0)

            // then: up the tree
            let byName = Dictionary(uniqueKeysWithValues: report.figures.organizations.map { ($0.name, $0) })
            #expect(
                report.figures.organizations.map(\.name) == [
                    "Norges Testforbund", "Region Nord", "Bodø lokallag", "Tromsø lokallag", "Region Vest", "Bergen lokallag",
                ])
            let regionA = try #require(byName["Region Nord"]).figures
            #expect(regionA.activities == 5 && regionA.minutes == 300)
            #expect(regionA.contactsReached == 2 && regionA.activeMentors == 3 && regionA.members == 4)
            #expect(regionA.chapters == 2 && regionA.countiesCovered == 2 && regionA.events == 1 && regionA.courseDays == 0)
            let chapterA2 = try #require(byName["Bodø lokallag"])
            #expect(chapterA2.depth == 2 && chapterA2.figures.activities == 1 && chapterA2.figures.mentorsTrained == 1)
            let regionB = try #require(byName["Region Vest"]).figures
            #expect(regionB.activities == 1 && regionB.minutes == 60 && regionB.contactsReached == 1 && regionB.members == 1)

            // then: by county
            let counties = Dictionary(uniqueKeysWithValues: report.figures.counties.map { ($0.code, $0) })
            #expect(counties.keys.sorted() == ["18", "46", "55"])
            let troms = try #require(counties["55"])
            #expect(troms.name == "Troms")
            #expect(troms.figures.activities == 4 && troms.figures.minutes == 180 && troms.figures.days == 3)
            #expect(troms.figures.contactsReached == 2 && troms.figures.activeMentors == 2)
            #expect(troms.figures.registeredMentors == nil, "mentor counts are per organisation, not per county")
        }
    }

    @Test("drill-down lists the activities behind a figure, paginated, without names or free text")
    func drillDown() async throws {
        try await withTestApp { app in
            // given
            let world = try await BufdirWorld.make(app)
            let report = try await world.createReport(app)
            func ids(_ query: String) async throws -> [String] {
                var ids: [String] = []
                var cursor: String?
                repeat {
                    let response = try await API.send(
                        app, .GET,
                        "/api/v1/bufdir-reports/\(report.id)/activities?limit=2" + (query.isEmpty ? "" : "&\(query)")
                            + (cursor.map { "&cursor=\($0)" } ?? ""),
                        as: world.admin)
                    try #require(response.status == .ok, "\(response.text)")
                    #expect(!response.text.contains("Gunnhild") && !response.text.contains("dobbeltført"))
                    let page = try response.decode(Components.Schemas.BufdirActivityPage.self)
                    ids += page.items.map(\.id)
                    cursor = page.nextCursor
                } while cursor != nil
                return ids
            }
            let row = world.activities

            // then
            #expect(try await ids("") == [row[12]!, row[1]!, row[2]!, row[3]!, row[9]!, row[10]!])
            #expect(try await ids("evidence_missing=true") == [row[3]!])
            #expect(try await ids("category=group") == [row[3]!, row[9]!])
            #expect(try await ids("organization_id=\(world.tree.regionA.apiID)").count == 5)
            #expect(try await ids("county=55") == [row[12]!, row[1]!, row[2]!, row[3]!])
            let outside = try await API.send(
                app, .GET, "/api/v1/bufdir-reports/\(report.id)/activities?organization_id=\(world.tree.other.apiID)",
                as: world.admin)
            #expect(outside.status == .badRequest && outside.problemCode == "invalid_parameter")
            let stray = try await API.send(app, .GET, "/api/v1/bufdir-reports/\(report.id)/activities?limit=2&&county=55", as: world.admin)
            #expect(stray.status == .badRequest, "a malformed query is the client's error, not a 500: \(stray.text)")
        }
    }

    @Test("a report is created once per organisation and period; bad periods answer 400 with the field")
    func createRules() async throws {
        try await withTestApp { app in
            // given
            let world = try await BufdirWorld.make(app)
            _ = try await world.createReport(app)
            let path = "/api/v1/organizations/\(world.tree.national.apiID)/bufdir-reports"

            // when
            let again = try await API.send(app, .POST, path, as: world.admin, json: #"{"reporting_year": 2025}"#)
            let crossYear = try await API.send(
                app, .POST, path, as: world.admin,
                json: #"{"reporting_year": 2025, "period_start": "2025-06-01", "period_end": "2026-01-31"}"#)
            let backwards = try await API.send(
                app, .POST, path, as: world.admin,
                json: #"{"reporting_year": 2025, "period_start": "2025-06-01", "period_end": "2025-05-31"}"#)
            let half = try await API.send(
                app, .POST, path, as: world.admin,
                json: #"{"reporting_year": 2025, "period_start": "2025-01-01", "period_end": "2025-03-31"}"#)
            let list = try await API.send(app, .GET, path + "?reporting_year=2025&limit=1", as: world.admin)

            // then
            #expect(again.status == .conflict && again.problemCode == "conflict")
            #expect(crossYear.status == .badRequest && crossYear.problemFields == ["/period_start"])
            #expect(backwards.status == .badRequest && backwards.problemCode == "validation_failed")
            #expect(half.status == .created)
            #expect(try half.decode(Report.self).figures.totals.activities == 3, "rows 1, 2 and 12 fall in the first quarter")
            let page = try list.decode(Components.Schemas.BufdirReportPage.self)
            #expect(page.items.count == 1 && page.nextCursor != nil)
        }
    }

    @Test("finalising freezes the figures, closes the period for editing, and hashes the JSON export")
    func finalize() async throws {
        try await withTestApp { app in
            // given
            let world = try await BufdirWorld.make(app)
            let report = try await world.createReport(app)

            // when
            let finalized = try await API.send(app, .POST, "/api/v1/bufdir-reports/\(report.id)/finalize", as: world.admin)

            // then: frozen, with the hash of its JSON export
            #expect(finalized.status == .ok, "\(finalized.text)")
            let frozen = try finalized.decode(Report.self)
            #expect(frozen.status == .finalized && frozen.finalizedAt != nil)
            let hash = try #require(frozen.contentSha256)
            let json = try await BufdirWorld.export(app, report: report.id, format: "json", as: world.admin)
            let file = try await BufdirWorld.download(app, export: try #require(json.exportId), as: world.admin)
            #expect(Digest.sha256Hex(file.body) == hash)

            // then: the period's activities are read-only, in the chapter below too
            let edit = try await API.send(
                app, .PATCH, "/api/v1/activities/\(world.activities[1]!)", as: world.admin, json: #"{"duration_minutes": 50}"#)
            #expect(edit.status == .conflict, "\(edit.text)")
            let delete = try await API.send(app, .DELETE, "/api/v1/activities/\(world.activities[9]!)", as: world.admin)
            #expect(delete.status == .conflict)
            let late = try await API.send(
                app, .POST, "/api/v1/activities", as: world.admin,
                json: ActivityWorld.body(
                    organization: world.tree.chapterA2, type: try await ActivityWorld.typeID(app, "group_meeting"),
                    occurredAt: "2025-10-01T10:00:00Z", minutes: 60, participants: 4,
                    mentorID: try world.mentors[2].user.requireID()))
            #expect(late.status == .conflict, "a new activity cannot land in a closed period: \(late.text)")

            // then: the report itself is immutable
            let recompute = try await API.send(app, .POST, "/api/v1/bufdir-reports/\(report.id)/recompute", as: world.admin)
            let again = try await API.send(app, .POST, "/api/v1/bufdir-reports/\(report.id)/finalize", as: world.admin)
            #expect(recompute.status == .conflict && again.status == .conflict)
            let reread = try await API.send(app, .GET, "/api/v1/bufdir-reports/\(report.id)", as: world.admin).decode(Report.self)
            #expect(reread.figures == frozen.figures && reread.contentSha256 == hash)
            #expect(try await AuditLogEntry.query(on: app.db).filter(\.$action == "bufdir_report.finalized").count() == 1)

            // then: a correction found later is an audited adjustment, not an edit
            let adjustPath = "/api/v1/bufdir-reports/\(report.id)/adjustments"
            let adjusted = try await API.send(
                app, .POST, adjustPath, as: world.admin,
                json:
                    #"{"figure": "totals.activities", "delta": -1, "reason": "Aktivitet 3 ble ført to ganger.", "activity_id": "\#(world.activities[3]!)"}"#
            )
            #expect(adjusted.status == .created, "\(adjusted.text)")
            let unknown = try await API.send(
                app, .POST, adjustPath, as: world.admin, json: #"{"figure": "totals.nonsense", "delta": 0, "reason": "x"}"#)
            #expect(unknown.status == .badRequest && Set(unknown.problemFields) == ["/figure", "/delta"])
            let withAdjustment = try await API.send(app, .GET, "/api/v1/bufdir-reports/\(report.id)", as: world.admin)
                .decode(Report.self)
            #expect(withAdjustment.adjustments?.map(\.delta) == [-1])
            #expect(withAdjustment.figures.totals.activities == 6, "the frozen figure itself does not change")
            #expect(try await AuditLogEntry.query(on: app.db).filter(\.$action == "bufdir_report.adjusted").count() == 1)
            let stillSame = try await BufdirWorld.export(app, report: report.id, format: "json", as: world.admin)
            let sameFile = try await BufdirWorld.download(app, export: try #require(stillSame.exportId), as: world.admin)
            #expect(Digest.sha256Hex(sameFile.body) == hash)

            // then: submission moves it on, once
            let submitted = try await API.send(app, .POST, "/api/v1/bufdir-reports/\(report.id)/submit", as: world.admin)
            #expect(try submitted.decode(Report.self).status == .submitted)
            let twice = try await API.send(app, .POST, "/api/v1/bufdir-reports/\(report.id)/submit", as: world.admin)
            #expect(twice.status == .conflict)
        }
    }

    @Test("a draft is not adjusted: its activities are edited and it is recomputed")
    func draftAdjustment() async throws {
        try await withTestApp { app in
            let world = try await BufdirWorld.make(app)
            let report = try await world.createReport(app)
            let response = try await API.send(
                app, .POST, "/api/v1/bufdir-reports/\(report.id)/adjustments", as: world.admin,
                json: #"{"figure": "totals.activities", "delta": 1, "reason": "x"}"#)
            #expect(response.status == .conflict)
        }
    }

    @Test("a draft follows the data: recomputing picks up a new activity")
    func recompute() async throws {
        try await withTestApp { app in
            // given
            let world = try await BufdirWorld.make(app)
            let report = try await world.createReport(app)
            let logged = try await API.send(
                app, .POST, "/api/v1/activities", as: world.admin,
                json: ActivityWorld.body(
                    organization: world.tree.chapterB1, type: try await ActivityWorld.typeID(app, "home_visit"),
                    occurredAt: "2025-09-01T10:00:00Z", minutes: 90, channel: "in_person",
                    mentorID: try world.mentors[3].user.requireID(), extra: ["municipality_code": "\"4601\""]))
            try #require(logged.status == .created)

            // when
            let response = try await API.send(app, .POST, "/api/v1/bufdir-reports/\(report.id)/recompute", as: world.admin)

            // then
            let recomputed = try response.decode(Report.self)
            #expect(recomputed.figures.totals.activities == 7 && recomputed.figures.totals.minutes == 450)
            #expect(recomputed.status == .draft)
        }
    }

    @Test("access: a chapter coordinator cannot see or export the region's report; the other tenant gets 404")
    func access() async throws {
        try await withTestApp { app in
            // given
            let world = try await BufdirWorld.make(app)
            let region = try await world.createReport(app, for: world.tree.regionA)
            let chapter = try await world.createReport(app, for: world.tree.chapterA1)
            let foreign = try await IdentityFixtures.signedIn(app, email: "annen@bufdir.test", roles: [(.nationalAdmin, world.tree.other)])

            // when
            let export = try await API.send(
                app, .POST, "/api/v1/bufdir-reports/\(region.id)/exports", as: world.coordinatorA1, json: #"{"format": "csv"}"#)
            let read = try await API.send(app, .GET, "/api/v1/bufdir-reports/\(region.id)", as: world.coordinatorA1)
            let foreignRead = try await API.send(app, .GET, "/api/v1/bufdir-reports/\(region.id)", as: foreign)
            let finalize = try await API.send(app, .POST, "/api/v1/bufdir-reports/\(chapter.id)/finalize", as: world.coordinatorA1)
            let own = try await BufdirWorld.export(app, report: chapter.id, format: "csv", as: world.coordinatorA1)

            // then
            #expect(export.status == .notFound && read.status == .notFound && foreignRead.status == .notFound)
            #expect(finalize.status == .forbidden, "coordinators read and export; admins finalise")
            #expect(own.job.status == .succeeded && own.exportId != nil)
            #expect(try await BufdirExportAudit.query(on: app.db).filter(\.$reportID == UUID(uuidString: region.id)).count() == 0)
        }
    }

    @Test("counting rules are data: a platform admin changes a year's rules and the year's activities are re-judged")
    func rulesChange() async throws {
        try await withTestApp { app in
            // given
            let world = try await BufdirWorld.make(app)
            let path = "/api/v1/bufdir-rules/2025"
            let current = try await API.send(app, .GET, path, as: world.admin).decode(Components.Schemas.BufdirRuleSet.self)
            #expect(current.rules.count == 6 && !current.frozen)
            let rules = """
                {"rules": [
                  {"key": "countries", "parameters": {"allowed": ["NO"]}, "valid_from": "2025-01-01"},
                  {"key": "one_to_one", "parameters": {"channels": ["in_person", "phone", "video"]}, "valid_from": "2025-01-01"},
                  {"key": "group_activity", "parameters": {"min_participants": 2, "min_minutes": 45}, "valid_from": "2025-01-01"},
                  {"key": "mentor_training", "parameters": {"min_minutes": 90}, "valid_from": "2025-01-01"},
                  {"key": "scoring", "parameters": {"per": "day"}, "valid_from": "2025-01-01"},
                  {"key": "small_cell_suppression", "parameters": {"min_people": 5}, "valid_from": "2025-01-01"}
                ]}
                """

            // when: a tenant admin tries, then a bad rule set, then the platform admin
            let tenant = try await API.send(app, .PUT, path, as: world.admin, json: rules)
            let bad = try await API.send(
                app, .PUT, path, as: world.platformAdmin,
                json:
                    #"{"rules": [{"key": "group_activity", "parameters": {"min_participants": "tre", "min_minutes": 45}, "valid_from": "2025-01-01"}, {"key": "group_activity", "parameters": {"min_participants": 3, "min_minutes": 45}, "valid_from": "2030-01-01"}]}"#
            )
            let changed = try await API.send(app, .PUT, path, as: world.platformAdmin, json: rules)
            try await app.meander.jobs.workers.drain()

            // then
            #expect(tenant.status == .forbidden)
            #expect(bad.status == .badRequest)
            #expect(Set(bad.problemFields) == ["/rules/0/parameters/min_participants", "/rules/1/key", "/rules/1/valid_from"])
            #expect(changed.status == .ok, "\(changed.text)")
            let set = try changed.decode(Components.Schemas.BufdirRuleSet.self)
            let job = try await API.send(app, .GET, "/api/v1/jobs/\(try #require(set.rejudgeJobId))", as: world.platformAdmin)
            #expect(try job.decode(Components.Schemas.Job.self).status == .succeeded)
            let five = try #require(try await Activity.find(UUID(uuidString: world.activities[5]!), on: app.db))
            #expect(five.countsForBufdir, "2 participants count under the new rule")
            let report = try await world.createReport(app)
            #expect(report.figures.totals.activities == 7)
            #expect(try await AuditLogEntry.query(on: app.db).filter(\.$action == "bufdir_rules.replaced").count() == 1)

            // then: once a report of the year is final, its rules are frozen
            let finalized = try await API.send(app, .POST, "/api/v1/bufdir-reports/\(report.id)/finalize", as: world.admin)
            #expect(finalized.status == .ok)
            let frozen = try await API.send(app, .PUT, path, as: world.platformAdmin, json: rules)
            #expect(frozen.status == .conflict)
        }
    }

    @Test("the same rule code judges at logging time and in the report: a type made unreportable drops out")
    func sameRuleCode() async throws {
        let rules = BufdirRules(
            year: 2025,
            parameters: [
                "group_activity": ["min_participants": .integer(3), "min_minutes": .integer(45)],
                "countries": ["allowed": .array([.string("NO")])],
            ])
        func verdict(_ participants: Int, _ minutes: Int, _ country: String = "NO") -> Bool {
            BufdirEligibility.evaluate(
                .init(
                    category: .group, reportable: true, channel: nil, participants: participants, minutes: minutes,
                    countryCode: country, status: .registered),
                rules: rules, year: 2025
            ).counts
        }
        #expect(verdict(3, 45))
        #expect(!verdict(2, 45))
        #expect(!verdict(3, 44))
        #expect(!verdict(3, 45, "SE"))
        #expect(
            BufdirRuleChange.problems(
                [
                    .init(
                        key: "group_activity", parameters: ["min_participants": .integer(3), "min_minutes": .integer(45)],
                        validFrom: "2025-01-01")
                ],
                year: 2025
            ).isEmpty)
    }
}

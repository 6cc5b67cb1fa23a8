import Fluent
import Foundation
import SQLKit
import Testing
import Vapor

@testable import Meander

/// A hand-built year (2025) whose report figures are written out in the tests.
///
/// ```
/// national ── regionA ─┬─ chapterA1   mentors m1, m2; contacts c1, c2 (Tromsø, county 55)
///                      └─ chapterA2   mentor m3 (Bodø, county 18)
///          └─ regionB ─── chapterB1   mentor m4; contact c4 (Bergen, county 46)
/// ```
///
/// Activities, logged through the API by the national admin on the mentors' behalf (so eligibility is judged by the
/// real code):
///
/// | #  | where | who | type | facts | counts? |
/// |----|-------|-----|------|-------|---------|
/// | 1  | A1 | m1 | home_visit | c1, 45 min, 10 Mar | yes |
/// | 2  | A1 | m1 | home_visit | c2, 60 min, 10 Mar (same mentor and day as #1) | yes |
/// | 3  | A1 | m2 | group_meeting | exactly 45 min, 3 participants, no evidence | yes |
/// | 4  | A1 | m2 | group_meeting | 44 min, 5 participants | no: too short |
/// | 5  | A1 | m2 | group_meeting | 90 min, 2 participants | no: too few |
/// | 6  | A1 | m1 | home_visit | c1, held in Sweden | no: abroad |
/// | 7  | A1 | m1 | home_visit | c2, then deleted | no |
/// | 8  | A1 | m2 | home_visit | c1, then rejected | no |
/// | 9  | A2 | m3 | group_meeting | 120 min, 6 participants, with evidence | yes (child chapter) |
/// | 10 | B1 | m4 | phone_call | c4, 60 min | yes (sibling region) |
/// | 11 | A1 | m1 | home_visit | 2025-12-31 23:30 UTC = 1 Jan 2026 in Norway | no: outside the period |
/// | 12 | A1 | m2 | phone_call | c2, 30 min, 2024-12-31 23:30 UTC = 1 Jan 2025 in Norway | yes |
/// | 13 | A1 | m1 | digital_message | c1 | no: type not reportable |
/// | 14 | other tenant | foreign | home_visit | 60 min | not in this tenant's report |
///
/// Besides: one published Bufdir event in A1 (June), one published two-day course of the national organisation
/// (September) which m3 completed, and every role and membership dating from 2024.
struct BufdirWorld: Sendable {
    let tree: OrganizationTreeFixture
    let admin: SignedIn
    let coordinatorA1: SignedIn
    let platformAdmin: SignedIn
    let mentors: [SignedIn]
    let contacts: [String: String]
    /// Activity ids by row number of the table above.
    let activities: [Int: String]

    static let contactNames = ["Gunnhild Fjellstue", "Torbjørn Skjærvik", "Sigvald Øyehaug"]

    static func make(_ app: Application) async throws -> BufdirWorld {
        let tree = try await IdentityFixtures.tree(app)
        let admin = try await IdentityFixtures.signedIn(app, email: "admin@bufdir.test", roles: [(.nationalAdmin, tree.national)])
        let coordinatorA1 = try await IdentityFixtures.signedIn(
            app, email: "koordinator@bufdir.test", roles: [(.coordinator, tree.chapterA1)])
        let platformAdmin = try await IdentityFixtures.signedIn(app, email: "platform@bufdir.test", roles: [(.platformAdmin, nil)])
        var mentors: [SignedIn] = []
        for (index, chapter) in [tree.chapterA1, tree.chapterA1, tree.chapterA2, tree.chapterB1].enumerated() {
            mentors.append(
                try await IdentityFixtures.signedIn(app, email: "m\(index + 1)@bufdir.test", roles: [(.peerMentor, chapter)]))
        }
        let foreign = try await IdentityFixtures.signedIn(
            app, email: "foreign@bufdir.test", roles: [(.orgAdmin, tree.other), (.peerMentor, tree.otherChapter)])

        var contacts: [String: String] = [:]
        for (key, chapter, name) in [
            ("c1", tree.chapterA1, contactNames[0]), ("c2", tree.chapterA1, contactNames[1]), ("c4", tree.chapterB1, contactNames[2]),
        ] {
            let parts = name.split(separator: " ").map(String.init)
            contacts[key] = try await ContactFixtures.create(app, as: admin, in: chapter, first: parts[0], last: parts[1]).id
        }

        func log(
            _ caller: SignedIn, _ chapter: Organization, _ mentor: SignedIn?, _ type: String, at: String, minutes: Int,
            participants: Int = 1, contact: String? = nil, country: String? = nil, channel: String? = nil,
            municipality: String
        ) async throws -> String {
            var extra = ["municipality_code": "\"\(municipality)\""]
            if let contact { extra["contact_id"] = "\"\(contact)\"" }
            let body = ActivityWorld.body(
                organization: chapter, type: try await ActivityWorld.typeID(app, type), occurredAt: at, minutes: minutes,
                participants: participants, country: country, channel: channel, mentorID: try mentor?.user.requireID(),
                extra: extra)
            let response = try await API.send(app, .POST, "/api/v1/activities", as: caller, json: body)
            try #require(response.status == .created, "\(response.text)")
            return try response.decode(Components.Schemas.Activity.self).id
        }
        let (m1, m2, m3, m4) = (mentors[0], mentors[1], mentors[2], mentors[3])
        let a1 = tree.chapterA1
        var ids: [Int: String] = [:]
        ids[1] = try await log(
            admin, a1, m1, "home_visit", at: "2025-03-10T10:00:00Z", minutes: 45, contact: contacts["c1"], channel: "in_person",
            municipality: "5501")
        ids[2] = try await log(
            admin, a1, m1, "home_visit", at: "2025-03-10T14:00:00Z", minutes: 60, contact: contacts["c2"], channel: "in_person",
            municipality: "5501")
        ids[3] = try await log(
            admin, a1, m2, "group_meeting", at: "2025-04-02T16:00:00Z", minutes: 45, participants: 3, municipality: "5501")
        ids[4] = try await log(
            admin, a1, m2, "group_meeting", at: "2025-04-09T16:00:00Z", minutes: 44, participants: 5, municipality: "5501")
        ids[5] = try await log(
            admin, a1, m2, "group_meeting", at: "2025-04-16T16:00:00Z", minutes: 90, participants: 2, municipality: "5501")
        ids[6] = try await log(
            admin, a1, m1, "home_visit", at: "2025-05-01T10:00:00Z", minutes: 60, contact: contacts["c1"], country: "SE",
            channel: "in_person", municipality: "5501")
        ids[7] = try await log(
            admin, a1, m1, "home_visit", at: "2025-05-05T10:00:00Z", minutes: 30, contact: contacts["c2"], channel: "in_person",
            municipality: "5501")
        ids[8] = try await log(
            admin, a1, m2, "home_visit", at: "2025-05-06T10:00:00Z", minutes: 30, contact: contacts["c1"], channel: "in_person",
            municipality: "5501")
        ids[9] = try await log(
            admin, tree.chapterA2, m3, "group_meeting", at: "2025-06-12T17:00:00Z", minutes: 120, participants: 6, municipality: "1804")
        ids[10] = try await log(
            admin, tree.chapterB1, m4, "phone_call", at: "2025-08-20T09:00:00Z", minutes: 60, contact: contacts["c4"], channel: "phone",
            municipality: "4601")
        ids[11] = try await log(
            admin, a1, m1, "home_visit", at: "2025-12-31T23:30:00Z", minutes: 60, contact: contacts["c1"], channel: "in_person",
            municipality: "5501")
        ids[12] = try await log(
            admin, a1, m2, "phone_call", at: "2024-12-31T23:30:00Z", minutes: 30, contact: contacts["c2"], channel: "phone",
            municipality: "5501")
        ids[13] = try await log(
            admin, a1, m1, "digital_message", at: "2025-07-01T10:00:00Z", minutes: 15, contact: contacts["c1"], channel: "digital",
            municipality: "5501")
        ids[14] = try await log(
            foreign, tree.otherChapter, nil, "home_visit", at: "2025-03-10T10:00:00Z", minutes: 60, channel: "in_person",
            municipality: "0301")

        let deleted = try await API.send(app, .DELETE, "/api/v1/activities/\(ids[7]!)", as: admin)
        try #require(deleted.status == .noContent, "\(deleted.text)")
        let rejected = try await API.send(
            app, .POST, "/api/v1/activities/\(ids[8]!)/reject", as: admin, json: #"{"reason": "dobbeltført"}"#)
        try #require(rejected.status == .ok, "\(rejected.text)")
        let evidenced = try #require(try await Activity.find(UUID(uuidString: ids[9]!), on: app.db))
        try await ContactFixtures.attachment(app, to: evidenced, uploadedBy: admin, name: "deltakerliste.pdf")

        // Roles and memberships date from 2024, so they were in force during 2025.
        let sql = try app.db.sqlDatabase()
        let early = Date(timeIntervalSince1970: 1_704_067_200)  // 2024-01-01
        try await sql.raw("UPDATE user_roles SET granted_at = \(bind: early)").run()
        try await sql.raw("UPDATE organization_memberships SET joined_at = \(bind: early)").run()

        let national = try tree.national.requireID()
        let event = Event(
            organizationID: try a1.requireID(), createdByID: try admin.user.requireID(), title: "Sommertreff",
            startsAt: Date(timeIntervalSince1970: 1_748_772_000), endsAt: Date(timeIntervalSince1970: 1_748_786_400),
            status: .published, countsForBufdir: true)
        try await event.create(on: app.db)
        let course = Course(
            organizationID: national, title: "Likepersonkurs", startsAt: Date(timeIntervalSince1970: 1_756_713_600),
            endsAt: Date(timeIntervalSince1970: 1_756_800_000), status: .published)
        try await course.create(on: app.db)
        try await CourseEnrollment(
            organizationID: national, courseID: try course.requireID(), userID: try m3.user.requireID(), status: .completed,
            completedAt: Date(timeIntervalSince1970: 1_756_800_000)
        ).create(on: app.db)

        return BufdirWorld(
            tree: tree, admin: admin, coordinatorA1: coordinatorA1, platformAdmin: platformAdmin, mentors: mentors,
            contacts: contacts, activities: ids)
    }

    /// Creates the national 2025 report through the API.
    func createReport(_ app: Application, for organization: Organization? = nil) async throws -> Components.Schemas.BufdirReport {
        let target = organization ?? tree.national
        let response = try await API.send(
            app, .POST, "/api/v1/organizations/\(target.apiID)/bufdir-reports", as: admin, json: #"{"reporting_year": 2025}"#)
        try #require(response.status == .created, "\(response.text)")
        return try response.decode(Components.Schemas.BufdirReport.self)
    }

    /// Starts an export, waits for its job and returns the export's id (nil when the job failed) and the job.
    static func export(
        _ app: Application, report: String, format: String, as caller: SignedIn
    ) async throws -> (exportId: String?, job: Components.Schemas.Job) {
        let started = try await API.send(
            app, .POST, "/api/v1/bufdir-reports/\(report)/exports", as: caller, json: #"{"format": "\#(format)"}"#)
        try #require(started.status == .accepted, "\(started.text)")
        let location = try #require(started.headers.first(name: .location))
        try await app.meander.jobs.workers.drain()
        let answer = try await API.send(app, .GET, location, as: caller)
        try #require(answer.status == .ok, "GET \(location): \(answer.text)")
        let job = try answer.decode(Components.Schemas.Job.self)
        return (job.exportId, job)
    }

    /// The bytes of an export's file.
    static func download(_ app: Application, export: String, as caller: SignedIn) async throws -> APIResult {
        try await API.send(app, .GET, "/api/v1/bufdir-exports/\(export)/file", as: caller)
    }
}

import Fluent
import Foundation
import SQLKit
import Testing
import Vapor
import ZIPFoundation

@testable import Meander

@Suite("Bufdir exports")
struct BufdirExportTests {
    /// The entries of a ZIP archive, by path.
    static func entries(of data: Data) throws -> [String: Data] {
        let archive = try Archive(data: data, accessMode: .read)
        var entries: [String: Data] = [:]
        for entry in archive {
            var bytes = Data()
            _ = try archive.extract(entry, skipCRC32: false) { bytes.append($0) }
            entries[entry.path] = bytes
        }
        return entries
    }

    @Test("a finalised report exported twice gives byte-identical files, in every format")
    func reproducible() async throws {
        try await withTestApp { app in
            // given
            let world = try await BufdirWorld.make(app)
            let report = try await world.createReport(app)
            let finalized = try await API.send(app, .POST, "/api/v1/bufdir-reports/\(report.id)/finalize", as: world.admin)
            try #require(finalized.status == .ok)

            for format in ["json", "csv", "xlsx", "zip"] {
                // when
                let first = try await BufdirWorld.export(app, report: report.id, format: format, as: world.admin)
                let second = try await BufdirWorld.export(app, report: report.id, format: format, as: world.admin)
                let one = try await BufdirWorld.download(app, export: try #require(first.exportId), as: world.admin)
                let two = try await BufdirWorld.download(app, export: try #require(second.exportId), as: world.admin)

                // then
                #expect(one.status == .ok && !one.body.isEmpty, "\(format): \(one.status)")
                #expect(one.body == two.body, "\(format) exports differ")
                #expect(first.exportId != second.exportId, "each export has its own audit record")
                let audit = try #require(try await BufdirExportAudit.find(UUID(uuidString: first.exportId!), on: app.db))
                #expect(audit.sha256 == Digest.sha256Hex(one.body) && audit.sizeBytes == one.body.count)
                let name =
                    "bufdir-\(world.tree.national.apiID.prefix(8))-2025-01-01_2025-12-31"
                    + (format == "zip" ? "-bevis.zip" : ".\(format)")
                #expect(one.headers.first(name: .contentDisposition) == ContentDisposition.attachment(fileName: name))
            }

            // when: a correction is recorded
            let adjusted = try await API.send(
                app, .POST, "/api/v1/bufdir-reports/\(report.id)/adjustments", as: world.admin,
                json: #"{"figure": "totals.minutes", "delta": 15, "reason": "Et møte varte lenger enn ført."}"#)
            try #require(adjusted.status == .created)
            let bundle = try await BufdirWorld.export(app, report: report.id, format: "zip", as: world.admin)
            let entries = try Self.entries(
                of: try await BufdirWorld.download(app, export: try #require(bundle.exportId), as: world.admin).body)

            // then: the bundle carries it, hashed in the manifest; the report's own file is unchanged
            let adjustments = try #require(entries["adjustments.json"])
            #expect(String(decoding: adjustments, as: UTF8.self).contains("\"figure\" : \"totals.minutes\""))
            #expect(String(decoding: try #require(entries["manifest.json"]), as: UTF8.self).contains(Digest.sha256Hex(adjustments)))
            #expect(
                Digest.sha256Hex(try #require(entries["report.json"]))
                    == (try #require(try await BufdirReport.find(UUID(uuidString: report.id), on: app.db))).contentSHA256)
        }
    }

    @Test("a draft whose data has not changed exports the same bytes; a change shows in the export history")
    func draftAndChanges() async throws {
        try await withTestApp { app in
            // given
            let world = try await BufdirWorld.make(app)
            let report = try await world.createReport(app)
            let first = try await BufdirWorld.export(app, report: report.id, format: "json", as: world.admin)
            let second = try await BufdirWorld.export(app, report: report.id, format: "json", as: world.admin)
            let one = try await BufdirWorld.download(app, export: try #require(first.exportId), as: world.admin)
            let two = try await BufdirWorld.download(app, export: try #require(second.exportId), as: world.admin)
            #expect(one.body == two.body)

            // when: one more counted group activity, then a third export
            let logged = try await API.send(
                app, .POST, "/api/v1/activities", as: world.admin,
                json: ActivityWorld.body(
                    organization: world.tree.chapterA2, type: try await ActivityWorld.typeID(app, "group_meeting"),
                    occurredAt: "2025-11-03T17:00:00Z", minutes: 60, participants: 4,
                    mentorID: try world.mentors[2].user.requireID(), extra: ["municipality_code": "\"1804\""]))
            try #require(logged.status == .created)
            let third = try await BufdirWorld.export(app, report: report.id, format: "json", as: world.admin)
            let list = try await API.send(app, .GET, "/api/v1/bufdir-reports/\(report.id)/exports", as: world.admin)

            // then
            let page = try list.decode(Components.Schemas.BufdirExportPage.self)
            #expect(page.items.map(\.id) == [third.exportId, second.exportId, first.exportId].compactMap { $0 })
            let newest = try #require(page.items.first)
            #expect(newest.previousExportId == second.exportId)
            let moved = Dictionary(uniqueKeysWithValues: newest.changes.map { ($0.figure, $0) })
            #expect(moved["totals.activities"]?.delta == 1)
            #expect(moved["totals.minutes"]?.previous == 360 && moved["totals.minutes"]?.current == 420)
            #expect(moved["totals.categories.group.participants"]?.delta == 4)
            #expect(page.items[1].changes.isEmpty, "nothing moved between the first two")
            #expect(newest.client == .api && newest.result == .succeeded && newest.auditSequence != nil)
            let filtered = try await API.send(
                app, .GET, "/api/v1/bufdir-reports/\(report.id)/exports?result=failed", as: world.admin)
            #expect(try filtered.decode(Components.Schemas.BufdirExportPage.self).items.isEmpty)
        }
    }

    @Test("the evidence bundle holds the report, every evidence file, and a manifest whose hashes match")
    func bundle() async throws {
        try await withTestApp { app in
            // given
            let world = try await BufdirWorld.make(app)
            let report = try await world.createReport(app)

            // when
            let export = try await BufdirWorld.export(app, report: report.id, format: "zip", as: world.admin)
            let file = try await BufdirWorld.download(app, export: try #require(export.exportId), as: world.admin)

            // then
            #expect(export.job.status == .succeeded && export.job.progressDone == export.job.progressTotal)
            let entries = try Self.entries(of: file.body)
            let manifest = try #require(entries["manifest.json"])
            struct Manifest: Decodable {
                struct File: Decodable {
                    var path: String
                    var sha256: String
                    var size: Int
                }
                struct Head: Decodable {
                    var sequence: Int64
                    var hash: String
                }
                var files: [File]
                var auditChainHead: Head?
                var evidenceFiles: Int
            }
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            let listed = try decoder.decode(Manifest.self, from: manifest)
            #expect(Set(listed.files.map(\.path)) == Set(entries.keys).subtracting(["manifest.json"]))
            for file in listed.files {
                let bytes = try #require(entries[file.path])
                #expect(Digest.sha256Hex(bytes) == file.sha256, "\(file.path)")
                #expect(bytes.count == file.size)
            }
            #expect(listed.evidenceFiles == 1)
            let evidence = try #require(listed.files.first { $0.path.hasPrefix("evidence/\(world.activities[9]!)/") })
            #expect(entries[evidence.path] == ContactSecretsFixture.fileBytes)
            let head = try #require(listed.auditChainHead)
            let entry = try #require(try await AuditLogEntry.query(on: app.db).filter(\.$sequence == head.sequence).first())
            #expect(entry.hash == head.hash)

            // then: nothing that names a contact or carries free text leaves the tenant
            for (path, bytes) in entries where !path.hasPrefix("evidence/") && !path.hasSuffix(".xlsx") {
                let text = String(decoding: bytes, as: UTF8.self)
                for name in BufdirWorld.contactNames.flatMap({ $0.split(separator: " ").map(String.init) }) {
                    #expect(!text.contains(name), "\(path) names a contact")
                }
                #expect(!text.contains("deltakerliste"), "\(path) carries a file name")
            }
            let workbook = try Self.entries(of: try #require(entries["report.xlsx"]))
            #expect(workbook.keys.filter { $0.hasPrefix("xl/worksheets/") }.count == 6, "a sheet per breakdown")
        }
    }

    @Test("small cells are suppressed in what leaves the tenant, not in the tenant's own view")
    func suppression() async throws {
        try await withTestApp { app in
            // given
            let world = try await BufdirWorld.make(app)
            let report = try await world.createReport(app)
            #expect(report.figures.totals.contactsReached == 3, "the tenant sees its own figures")

            // when
            let export = try await BufdirWorld.export(app, report: report.id, format: "json", as: world.admin)
            let file = try await BufdirWorld.download(app, export: try #require(export.exportId), as: world.admin)
            let csvExport = try await BufdirWorld.export(app, report: report.id, format: "csv", as: world.admin)
            let csv = try await BufdirWorld.download(app, export: try #require(csvExport.exportId), as: world.admin)

            // then
            let document = try #require(try JSONSerialization.jsonObject(with: file.body) as? [String: Any])
            let figures = try #require(document["figures"] as? [String: Any])
            let totals = try #require(figures["totals"] as? [String: Any])
            #expect(totals["contacts_reached"] == nil && totals["active_mentors"] == nil && totals["members"] != nil)
            #expect(totals["members"] as? Int == 6, "6 members is not a small cell")
            let hidden = try #require(totals["suppressed"] as? [String])
            #expect(Set(hidden) == ["contacts_reached", "active_mentors", "registered_mentors", "mentors_trained"])
            #expect(totals["participants_group"] as? Int == 9, "nine participants is not a small cell")
            #expect(totals["activities"] as? Int == 6, "activity counts are not people")
            #expect(csv.body.starts(with: [0xEF, 0xBB, 0xBF]), "CSV for Norwegian Excel: UTF-8 with BOM")
            let text = String(decoding: csv.body, as: UTF8.self)
            #expect(text.contains("Kontakter nådd;<5"))
            #expect(!text.contains("Kontakter nådd;3"))
        }
    }

    /// The Norwegian headings of each section, in order, as a Norwegian reader expects them.
    static let categoryHeadings = [
        "Kategori", "Aktiviteter", "Timer", "Dager", "Deltakere", "Krever dokumentasjon", "Mangler dokumentasjon",
    ]
    /// Every Bufdir category, in the report's order, as a Norwegian reader names it.
    static let categoryLabels = ["Én-til-én", "Gruppe", "Kurs", "Informasjon", "Arrangement", "Annet"]
    static let sectionHeadings: [(name: String, headings: [String])] = [
        ("Oversikt", ["Tall", "Verdi"]),
        ("Kategorier", categoryHeadings),
        (
            "Fylker",
            [
                "Fylkesnummer", "Fylke", "Aktiviteter", "Timer", "Dager", "Kontakter nådd", "Deltakere i grupper",
                "Aktive likepersoner", "Krever dokumentasjon", "Mangler dokumentasjon",
            ]
        ),
        ("Fylker per kategori", ["Fylkesnummer", "Fylke"] + categoryHeadings),
        (
            "Organisasjoner",
            [
                "Organisasjon-ID", "Navn", "Nivå", "Dybde", "Aktiviteter", "Timer", "Dager", "Kontakter nådd",
                "Deltakere i grupper", "Aktive likepersoner", "Registrerte likepersoner", "Likepersoner kurset", "Medlemmer",
                "Arrangementer", "Kursdager", "Lokallag", "Fylker dekket", "Krever dokumentasjon", "Mangler dokumentasjon",
            ]
        ),
        ("Organisasjoner per kategori", ["Organisasjon-ID", "Navn"] + categoryHeadings),
    ]

    @Test("the CSV is one section per sheet with Norwegian headings, decimal commas and Norwegian labels, one width throughout")
    func csvForNorwegianExcel() async throws {
        try await withTestApp { app in
            // given
            let world = try await BufdirWorld.make(app)
            let report = try await world.createReport(app)

            // when
            let export = try await BufdirWorld.export(app, report: report.id, format: "csv", as: world.admin)
            let file = try await BufdirWorld.download(app, export: try #require(export.exportId), as: world.admin)

            // then: UTF-8 with a BOM, and every record as wide as the first
            #expect(file.headers.contentType?.description.hasPrefix("text/csv") == true)
            #expect(file.body.starts(with: [0xEF, 0xBB, 0xBF]))
            let records = try CSVRecords.parse(String(decoding: file.body.dropFirst(3), as: UTF8.self))
            let width = try #require(records.first).count
            #expect(width == 19, "the widest section, Organisasjoner")
            for (number, record) in records.enumerated() {
                #expect(record.count == width, "record \(number + 1) has \(record.count) fields, not \(width)")
            }

            // then: sections apart by one empty record, each its name, its headings, then rows no wider than the headings
            let trimmed = records.map { Array($0.reversed().drop(while: \.isEmpty).reversed()) }
            let sections = trimmed.split(whereSeparator: \.isEmpty).map(Array.init)
            #expect(sections.map { $0.first ?? [] } == Self.sectionHeadings.map { [$0.name] })
            #expect(sections.map { $0.dropFirst().first ?? [] } == Self.sectionHeadings.map(\.headings))
            for section in sections where section.count > 2 {
                for row in section.dropFirst(2) {
                    #expect(!row.isEmpty && row.count <= section[1].count, "\(section[0]): \(row)")
                }
            }

            // then: the figures under their headings, categories in Norwegian, hours with a decimal comma
            func rows(_ name: String) throws -> [[String: String]] {
                let section = try #require(sections.first { $0.first == [name] })
                return section.dropFirst(2).map { row in
                    Dictionary(uniqueKeysWithValues: zip(section[1], row + Array(repeating: "", count: section[1].count - row.count)))
                }
            }
            let categories = try rows("Kategorier")
            #expect(categories.map { $0["Kategori"] } == Self.categoryLabels)
            let oneToOne = try #require(categories.first)
            #expect(oneToOne["Aktiviteter"] == "4" && oneToOne["Timer"] == "3,25", "45 + 60 + 60 + 30 minutes")
            let group = try #require(categories.first { $0["Kategori"] == "Gruppe" })
            #expect(group["Aktiviteter"] == "2" && group["Timer"] == "2,75" && group["Deltakere"] == "9")
            let summary = Dictionary(try rows("Oversikt").map { ($0["Tall"] ?? "", $0["Verdi"] ?? "") }, uniquingKeysWith: { a, _ in a })
            #expect(summary["Timer"] == "6" && summary["Kontakter nådd"] == "<5" && summary["Rapporteringsår"] == "2025")
            let levels = try rows("Organisasjoner").map { $0["Nivå"] ?? "" }
            #expect(levels.first == "Sentralledd" && Set(levels) == ["Sentralledd", "Regionledd", "Lokallag"])
            #expect(try rows("Fylker per kategori").allSatisfy { Self.categoryLabels.contains($0["Kategori"] ?? "") })
            #expect(categories.first { $0["Kategori"] == "Kurs" }?["Aktiviteter"] == "0")
            let fields = records.joined()
            #expect(!fields.contains { $0.range(of: #"^-?[0-9]+\.[0-9]+$"#, options: .regularExpression) != nil }, "no decimal point")
            for key in ["one_to_one", "group", "national", "regional", "local", "Kolonne 1", "Ark"] {
                #expect(!fields.contains(key), "\(key) is not what a Norwegian reader sees")
            }
        }
    }

    @Test("the workbook's sheets carry the same Norwegian headings and labels, and its numbers stay numbers")
    func xlsxForNorwegianExcel() async throws {
        try await withTestApp { app in
            // given
            let world = try await BufdirWorld.make(app)
            let report = try await world.createReport(app)

            // when
            let export = try await BufdirWorld.export(app, report: report.id, format: "xlsx", as: world.admin)
            let file = try await BufdirWorld.download(app, export: try #require(export.exportId), as: world.admin)

            // then
            let entries = try Self.entries(of: file.body)
            let workbook = String(decoding: try #require(entries["xl/workbook.xml"]), as: UTF8.self)
            for (index, section) in Self.sectionHeadings.enumerated() {
                #expect(workbook.contains(#"<sheet name="\#(section.name)" sheetId="\#(index + 1)""#), "\(section.name)")
                let sheet = String(decoding: try #require(entries["xl/worksheets/sheet\(index + 1).xml"]), as: UTF8.self)
                let firstRow = try #require(sheet.range(of: #"<row r="1">.*?</row>"#, options: .regularExpression))
                let headings = sheet[firstRow].matches(of: /<t>([^<]*)<\/t>/).map { String($0.output.1) }
                #expect(headings == section.headings, "\(section.name)")
            }
            let categories = String(decoding: try #require(entries["xl/worksheets/sheet2.xml"]), as: UTF8.self)
            #expect(
                categories.contains(
                    #"<c r="A2" t="inlineStr"><is><t>Én-til-én</t></is></c><c r="B2"><v>4</v></c><c r="C2"><v>3.25</v></c>"#))
            #expect(categories.contains(#"<c r="A3" t="inlineStr"><is><t>Gruppe</t></is></c>"#))
            #expect(!categories.contains("one_to_one"))
        }
    }

    @Test("the export audit cannot be changed, and a failed export is recorded too")
    func auditImmutable() async throws {
        try await withTestApp { app in
            // given: an export, then an evidence file that vanished from storage
            let world = try await BufdirWorld.make(app)
            let report = try await world.createReport(app)
            let good = try await BufdirWorld.export(app, report: report.id, format: "csv", as: world.admin)
            let attachment = try #require(try await ActivityAttachment.query(on: app.db).first())
            try await app.meander.files.delete(attachment.storageKey)

            // when
            let failed = try await BufdirWorld.export(app, report: report.id, format: "zip", as: world.admin)
            let sql = try app.db.sqlDatabase()

            // then: the failure is on record, in the table and the chain
            #expect(failed.job.status == .failed)
            let failedID = try #require(failed.exportId)
            let record = try #require(try await BufdirExportAudit.find(UUID(uuidString: failedID), on: app.db))
            #expect(record.result == .failed && record.error != nil && record.sha256 == nil)
            #expect(try await AuditLogEntry.query(on: app.db).filter(\.$action == "bufdir_report.export_failed").count() == 1)
            #expect(try await AuditLogEntry.query(on: app.db).filter(\.$action == "bufdir_report.exported").count() == 1)
            let listed = try await API.send(app, .GET, "/api/v1/bufdir-exports/\(failedID)", as: world.admin)
            #expect(try listed.decode(Components.Schemas.BufdirExport.self).result == .failed)
            let noFile = try await BufdirWorld.download(app, export: failedID, as: world.admin)
            #expect(noFile.status == .notFound)

            // then: the database refuses every change
            let goodID = try #require(good.exportId)
            await #expect(throws: (any Error).self) {
                try await sql.raw("UPDATE bufdir_export_audits SET result = 'failed' WHERE id = \(bind: UUID(uuidString: goodID))").run()
            }
            await #expect(throws: (any Error).self) {
                try await sql.raw("DELETE FROM bufdir_export_audits WHERE id = \(bind: UUID(uuidString: goodID))").run()
            }
            await #expect(throws: (any Error).self) {
                try await sql.raw("DELETE FROM bufdir_export_audits").run()
            }
            #expect(try await BufdirExportAudit.query(on: app.db).count() == 2)
            let kept = try #require(try await BufdirExportAudit.find(UUID(uuidString: goodID), on: app.db))
            #expect(kept.result == .succeeded)
        }
    }

    @Test("the CLI exports the same file the API does")
    func cli() async throws {
        try await withTestApp { app in
            // given
            let world = try await BufdirWorld.make(app)
            let report = try await world.createReport(app)
            let viaAPI = try await BufdirWorld.export(app, report: report.id, format: "xlsx", as: world.admin)
            let apiFile = try await BufdirWorld.download(app, export: try #require(viaAPI.exportId), as: world.admin)
            let out = FileManager.default.temporaryDirectory.appendingPathComponent("bufdir-\(UUID().api).xlsx")
            defer { try? FileManager.default.removeItem(at: out) }

            // when
            let console = CapturingConsole()
            try await AuditFixtures.run(
                app,
                [
                    "bufdir", "export", "--org", world.tree.national.apiID, "--year", "2025", "--format", "xlsx", "--out",
                    out.path,
                ],
                console: console)

            // then
            #expect(try Data(contentsOf: out) == apiFile.body)
            let audits = try await BufdirExportAudit.query(on: app.db).filter(\.$client == .cli).all()
            #expect(audits.count == 1 && audits.first?.actorUserID == nil)
        }
    }

    @Test("an export whose node died is taken again after its lease, finishes with its progress, and tells whoever asked")
    func survivesItsNode() async throws {
        let clock = TestClock(Date())
        try await withTestApp(dependencies: .init(clock: clock.clock, uuid: .live)) { app in
            // given: an export started over the API, claimed by a node that then died
            let world = try await BufdirWorld.make(app)
            let report = try await world.createReport(app)
            let started = try await API.send(
                app, .POST, "/api/v1/bufdir-reports/\(report.id)/exports", as: world.admin, json: #"{"format": "csv"}"#)
            try #require(started.status == .accepted)
            let jobID = try started.decode(Components.Schemas.Job.self).id
            let claimed = try await JobQueue.claim(
                queue: JobQueues.exports, limit: 1, worker: "node-that-died", lease: 60, now: clock.now, on: app.db)
            #expect(claimed.map { $0.id.api } == [jobID])
            let running = try await API.send(app, .GET, "/api/v1/jobs/\(jobID)", as: world.admin)
            #expect(try running.decode(Components.Schemas.Job.self).status == .running)

            // when: its lease runs out and this node's workers look
            #expect(try await app.meander.jobs.workers.drain() == 0)
            clock.advance(by: .seconds(61))
            #expect(try await app.meander.jobs.workers.drain(queues: [JobQueues.exports]) == 1)

            // then
            let finished = try await API.send(app, .GET, "/api/v1/jobs/\(jobID)", as: world.admin)
            let job = try finished.decode(Components.Schemas.Job.self)
            #expect(job.status == .succeeded && job.exportId != nil)
            #expect(job.progressTotal != nil && job.progressDone == job.progressTotal)
            let row = try #require(try await Job.find(UUID(uuidString: jobID), on: app.db))
            #expect(row.attempts == 2 && row.lockedBy == app.meander.jobs.workers.name)
            #expect(try await BufdirExportAudit.query(on: app.db).filter(\.$result == .succeeded).count() == 1)
            let told = try await Notification.query(on: app.db).filter(\.$user.$id == world.admin.user.requireID())
                .filter(\.$scenario == .bufdirExportReady).all()
            #expect(Set(told.map(\.channel)) == [.email, .inApp])
            #expect(told.allSatisfy { $0.data.contains(job.exportId ?? "-") })
        }
    }
}

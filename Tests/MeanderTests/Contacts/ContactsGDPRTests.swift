import Fluent
import FluentSQL
import Foundation
import Testing
import Vapor
import VaporTesting

@testable import Meander

@Suite("Contacts API: GDPR export and erasure")
struct ContactsGDPRTests {
    typealias S = ContactSecretsFixture

    /// A contact with a full record, two activities (one with an evidence file), a mentor, a dispatch; and a control
    /// contact in the same chapter with an activity of its own.
    struct Seeded {
        let world: ContactWorld
        let contactID: UUID
        let controlID: UUID
        let activities: [Activity]
        let attachment: ActivityAttachment
        let dispatch: EncryptedDispatch
    }

    static func seed(_ app: Application) async throws -> Seeded {
        let world = try await ContactWorld.make(app)
        let chapter = world.tree.chapterA1
        let contact = try await ContactFixtures.create(
            app, as: world.coordinator, in: chapter, first: S.firstName, last: S.lastName,
            extra: ContactFixtures.fullRecordFields + #", "mentor_ids": ["\#(world.mentor.user.id!.api)"]"#)
        let contactID = try #require(UUID(uuidString: contact.id))
        let control = try await ContactFixtures.create(app, as: world.coordinator, in: chapter, first: "Kontroll")
        let controlID = try #require(UUID(uuidString: control.id))
        let first = try await ContactFixtures.activity(app, contactID: contactID, organization: chapter, mentor: world.mentor)
        let second = try await ContactFixtures.activity(
            app, contactID: contactID, organization: chapter, mentor: world.mentor, summary: nil, place: nil,
            countsForBufdir: false)
        try await ContactFixtures.activity(
            app, contactID: controlID, organization: chapter, mentor: world.mentor, summary: "Kontrollsamtale",
            place: "Kontrollkafé")
        let attachment = try await ContactFixtures.attachment(app, to: first, uploadedBy: world.mentor)
        let dispatch = try await ContactFixtures.dispatch(
            app, contactID: contactID, organization: chapter, from: world.coordinator, to: world.mentor)
        return Seeded(
            world: world, contactID: contactID, controlID: controlID, activities: [first, second],
            attachment: attachment, dispatch: dispatch)
    }

    /// The tables with a `contact_id` column, read straight from the database's catalogue.
    static func contactIDTables(_ app: Application) async throws -> Set<String> {
        struct Row: Decodable {
            var table: String

            enum CodingKeys: String, CodingKey { case table = "table_name" }
        }
        let sql = try app.db.sqlDatabase()
        let rows: [Row]
        switch TestEngine.current {
        case .sqlite:
            rows = try await sql.raw(
                """
                SELECT m.name AS table_name FROM sqlite_master m, pragma_table_info(m.name) p
                WHERE m.type = 'table' AND p.name = 'contact_id'
                """
            ).all(decoding: Row.self)
        case .postgres:
            rows = try await sql.raw(
                """
                SELECT table_name::text AS table_name FROM information_schema.columns
                WHERE table_schema = current_schema() AND column_name = 'contact_id'
                """
            ).all(decoding: Row.self)
        }
        return Set(rows.map(\.table))
    }

    /// Every table of the database, from its catalogue.
    static func allTables(_ app: Application) async throws -> [String] {
        try await DatabaseCatalog.columns(on: try app.db.sqlDatabase()).keys.sorted()
    }

    /// The report totals that erasure must leave alone: activities of the chapter, and those counting for Bufdir.
    static func totals(_ app: Application, _ organization: Organization) async throws -> (Int, Int) {
        let all = try await Activity.query(on: app.db).filter(\.$organization.$id == organization.id!).count()
        let counting = try await Activity.query(on: app.db).filter(\.$organization.$id == organization.id!)
            .filter(\.$countsForBufdir == true).count()
        return (all, counting)
    }

    static func json(_ response: APIResult) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: Any])
    }

    @Test("the export holds every table with a contact_id column (from the live schema), decrypted, with the files")
    func exportCoversEverything() async throws {
        try await withTestApp { app in
            // given
            let seeded = try await Self.seed(app)
            let expectedTables = try await Self.contactIDTables(app)
            #expect(expectedTables.isSuperset(of: ["contact_mentor_assignments", "activities", "encrypted_dispatches"]))

            // when
            let response = try await API.send(
                app, .GET, "/api/v1/contacts/\(seeded.contactID.api)/export", as: seeded.world.regionAdmin)

            // then
            #expect(response.status == .ok, "\(response.text)")
            let export = try Self.json(response)
            #expect(export["contact_id"] as? String == seeded.contactID.api)
            let tables = try #require(export["tables"] as? [String: [[String: Any]]])
            #expect(Set(tables.keys).isSuperset(of: expectedTables.union(["contacts"])), "\(tables.keys.sorted())")
            for table in expectedTables {
                #expect(tables[table]?.isEmpty == false, "\(table) has rows about the contact")
                for row in tables[table] ?? [] {
                    #expect(row["contact_id"] as? String == seeded.contactID.api, "\(table) holds only this contact")
                }
            }

            // every column of the contact, with the sealed ones opened under their plain names
            let contact = try #require(tables["contacts"]?.first)
            let columns = try await DatabaseCatalog.columns(on: try app.db.sqlDatabase())["contacts"] ?? []
            let expectedKeys = Set(columns.map { $0.name.replacingOccurrences(of: "_ciphertext", with: "") })
            #expect(Set(contact.keys) == expectedKeys)
            #expect(contact["needs"] as? String == S.needs)
            #expect(contact["notes"] as? String == S.notes)
            #expect(contact["first_name"] as? String == S.firstName)
            #expect(contact["id"] as? String == seeded.contactID.api)
            #expect(contact["erased_at"] is NSNull)
            let activities = try #require(tables["activities"])
            #expect(activities.count == 2)
            #expect(activities.contains { $0["summary"] as? String == S.summary && $0["place"] as? String == S.place })
            #expect(activities.allSatisfy { $0["summary_ciphertext"] == nil })
            let dispatch = try #require(tables["encrypted_dispatches"]?.first)
            #expect(dispatch["payload"] is NSNull, "only the recipient reads a dispatch")
            #expect(dispatch["payload_withheld"] as? Bool == true)
            #expect(tables["contact_mentor_assignments"]?.first?["mentor_id"] as? String == seeded.world.mentor.user.id!.api)
            #expect(tables["activity_attachments"]?.first?["file_name"] as? String == S.fileName)
            let trail = try #require(tables["audit_log_entries"])
            #expect(trail.contains { $0["action"] as? String == "contact.created" })
            #expect(trail.allSatisfy { $0["ip"] == nil && $0["user_agent"] == nil })

            let files = try #require(export["files"] as? [[String: Any]])
            #expect(files.count == 1)
            #expect(files.first?["attachment_id"] as? String == seeded.attachment.id!.api)
            #expect(files.first?["sha256"] as? String == Digest.sha256Hex(S.fileBytes))
            let content = try #require(files.first?["content_base64"] as? String)
            #expect(Data(base64Encoded: content) == S.fileBytes)
            #expect(!response.text.contains("Kontroll"), "nothing of another contact")

            let audit = try #require(
                try await AuditLogEntry.query(on: app.db).filter(\.$action == "contact.exported").first())
            #expect(audit.targetID == seeded.contactID)
            #expect(audit.actorUserID == seeded.world.regionAdmin.user.id)
            for secret in S.identifying { #expect(!audit.metadata.contains(secret)) }
        }
    }

    @Test("export and erasure need contacts.gdpr: coordinators and mentors are refused")
    func gdprNeedsAdmin() async throws {
        try await withTestApp { app in
            // given
            let seeded = try await Self.seed(app)
            let path = "/api/v1/contacts/\(seeded.contactID.api)"

            for caller in [seeded.world.coordinator, seeded.world.mentor] {
                // when / then
                #expect(try await API.send(app, .GET, path + "/export", as: caller).status == .forbidden)
                #expect(try await API.send(app, .POST, path + "/erase", as: caller).status == .forbidden)
            }
            #expect(try await Contact.find(seeded.contactID, on: app.db)?.erasedAt == nil)
        }
    }

    @Test("erasure handles every table with a contact_id column in the live schema")
    func erasureKnowsEveryTable() async throws {
        try await withTestApp { app in
            // when
            let tables = try await Self.contactIDTables(app)

            // then: a new table referring to contacts must come with a decision about erasure
            #expect(tables == ContactGDPR.erasedTables)
        }
    }

    @Test("erasure removes the person from every table, keeps the counts, and the audit chain still verifies")
    func erases() async throws {
        try await withTestApp { app in
            // given
            let seeded = try await Self.seed(app)
            let chapter = seeded.world.tree.chapterA1
            let before = try await Self.totals(app, chapter)
            let files = app.meander.files
            #expect(try await files.get(seeded.attachment.storageKey) == S.fileBytes)
            var found: [String] = []
            for table in try await Self.allTables(app) {
                found += try await RawTables.occurrences(of: S.identifying, in: table, on: app)
            }
            #expect(!found.isEmpty, "the seeded identifiers are there to begin with")

            // when
            let response = try await API.send(
                app, .POST, "/api/v1/contacts/\(seeded.contactID.api)/erase", as: seeded.world.regionAdmin)

            // then
            #expect(response.status == .ok, "\(response.text)")
            let erasure = try response.decode(Components.Schemas.ContactErasure.self)
            #expect(erasure.contactId == seeded.contactID.api)
            #expect(erasure.activitiesScrubbed == 2)
            #expect(erasure.attachmentsDeleted == 1)

            var left: [String] = []
            for table in try await Self.allTables(app) {
                left += try await RawTables.occurrences(of: S.identifying, in: table, on: app)
            }
            #expect(left.isEmpty, "\(left)")
            let control = try await RawTables.cells(of: Contact.schema, on: app)
            #expect(control.contains("Kontroll"), "other contacts are untouched")

            // the counts stay
            let after = try await Self.totals(app, chapter)
            #expect(after == before)
            let activities = try await Activity.query(on: app.db).filter(\.$contact.$id == seeded.contactID).all()
            #expect(activities.count == 2)
            #expect(activities.allSatisfy { $0.summaryCiphertext == nil && $0.place == nil })
            #expect(activities.map(\.durationMinutes) == [60, 60])

            let contact = try #require(try await Contact.find(seeded.contactID, on: app.db))
            #expect(contact.erasedAt != nil)
            #expect(contact.firstName == nil && contact.lastName == nil && contact.phone == nil)
            #expect(contact.needsCiphertext == nil && contact.notesCiphertext == nil && contact.consentScope == nil)
            #expect(contact.municipalityCode == "5501" && contact.countyCode == "55" && contact.birthYear == 1961)
            #expect(contact.status == .archived)

            // the file is gone, its row scrubbed; assignments ended; the dispatch destroyed
            await #expect(throws: BlobStoreError.notFound(key: seeded.attachment.storageKey)) {
                _ = try await files.get(seeded.attachment.storageKey)
            }
            let attachment = try #require(
                try await ActivityAttachment.query(on: app.db).withDeleted().filter(\.$id == seeded.attachment.id!).first())
            #expect(attachment.fileName == "erased")
            #expect(attachment.deletedAt != nil)
            #expect(
                try await ContactMentorAssignment.query(on: app.db).filter(\.$contact.$id == seeded.contactID)
                    .filter(\.$unassignedAt == nil).count() == 0)
            let dispatch = try #require(try await EncryptedDispatch.find(seeded.dispatch.id, on: app.db))
            #expect(dispatch.payloadCiphertext == nil && dispatch.destroyedAt != nil && dispatch.status == .revoked)

            // audited without content, and the chain verifies
            let audit = try #require(try await AuditLogEntry.query(on: app.db).filter(\.$action == "contact.erased").first())
            #expect(audit.targetID == seeded.contactID)
            #expect(audit.metadata.contains("\"activities_scrubbed\":\"2\""))
            let verification = try await AuditChain.verify(on: app.db)
            #expect(verification.isValid, "\(verification.problem ?? "")")

            // once only; what is left is an anonymous record
            let again = try await API.send(
                app, .POST, "/api/v1/contacts/\(seeded.contactID.api)/erase", as: seeded.world.regionAdmin)
            #expect(again.status == .conflict)
            let view = try await API.send(
                app, .GET, "/api/v1/contacts/\(seeded.contactID.api)", as: seeded.world.regionAdmin)
            #expect(view.status == .ok)
            let erased = try view.decode(Components.Schemas.Contact.self)
            #expect(erased.erasedAt != nil && erased.firstName == nil && erased.needs == nil && erased.mentorIds.isEmpty)
            #expect(try await API.send(app, .GET, "/api/v1/contacts/\(seeded.contactID.api)", as: seeded.world.mentor).status == .notFound)
            let update = try await API.send(
                app, .PATCH, "/api/v1/contacts/\(seeded.contactID.api)", as: seeded.world.coordinator,
                json: #"{"first_name": "Igjen"}"#)
            #expect(update.status == .conflict)
            let export = try await API.send(
                app, .GET, "/api/v1/contacts/\(seeded.contactID.api)/export", as: seeded.world.regionAdmin)
            #expect(export.status == .ok)
            for secret in S.identifying { #expect(!export.text.contains(secret), "\(secret) in the export") }
        }
    }
}

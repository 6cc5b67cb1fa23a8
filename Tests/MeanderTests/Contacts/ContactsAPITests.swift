import Fluent
import FluentSQL
import Foundation
import Testing
import Vapor
import VaporTesting

@testable import Meander

@Suite("Contacts API")
struct ContactsAPITests {
    typealias ContactView = Components.Schemas.Contact
    typealias S = ContactSecretsFixture

    @Test("a coordinator registers a contact: county from the municipality, consent, mentors; audited without content")
    func createsContact() async throws {
        try await withTestApp { app in
            // given
            let world = try await ContactWorld.make(app)

            // when
            let response = try await API.send(
                app, .POST, "/api/v1/contacts", as: world.coordinator,
                json: """
                    {"organization_id": "\(world.tree.chapterA1.apiID)", "first_name": " \(S.firstName) ",
                     "last_name": "\(S.lastName)", \(ContactFixtures.fullRecordFields),
                     "mentor_ids": ["\(world.mentor.user.id!.api)", "\(world.mentor.user.id!.api)"]}
                    """)

            // then
            #expect(response.status == .created, "\(response.text)")
            let created = try response.decode(ContactView.self)
            #expect(created.view == .full)
            #expect(created.organizationId == world.tree.chapterA1.apiID)
            #expect(created.firstName == S.firstName, "names are trimmed")
            #expect(created.status == .active)
            #expect(created.birthYear == 1961)
            #expect(created.municipalityCode == "5501")
            #expect(created.countyCode == "55", "the county follows from the municipality")
            #expect(created.needs == S.needs)
            #expect(created.notes == S.notes)
            #expect(created.consent?.scope == "registration,contact_by_phone")
            #expect(created.consent?.withdrawnAt == nil)
            #expect(created.mentorIds == [world.mentor.user.id!.api], "a repeated mentor is assigned once")
            let stored = try #require(try await Contact.find(UUID(uuidString: created.id), on: app.db))
            #expect(stored.keyVersion == 1)
            #expect(stored.$createdBy.id == world.coordinator.user.id)
            let audit = try await AuditLogEntry.query(on: app.db).filter(\.$action == "contact.created").all()
            #expect(audit.count == 1)
            #expect(audit.first?.targetID == stored.id)
            #expect(audit.first?.actorUserID == world.coordinator.user.id)
            let metadata = audit.first?.metadata ?? ""
            for secret in S.identifying { #expect(!metadata.contains(secret)) }
            #expect(
                try await AuditLogEntry.query(on: app.db).filter(\.$action == "contact.sensitive_read").count() == 0,
                "echoing what the caller just sent is not a read")
        }
    }

    @Test("bad input answers problem+json naming each field")
    func validation() async throws {
        try await withTestApp { app in
            // given
            let world = try await ContactWorld.make(app)
            let chapter = world.tree.chapterA1.apiID
            func create(_ fields: String) async throws -> APIResult {
                try await API.send(
                    app, .POST, "/api/v1/contacts", as: world.coordinator,
                    json: #"{"organization_id": "\#(chapter)", "first_name": "Ola", "last_name": "Nordmann", \#(fields)}"#)
            }
            let cases: [(String, String, String)] = [
                (#""municipality_code": "9999""#, "/municipality_code", "unknown_municipality"),
                (#""birth_year": 2099"#, "/birth_year", "out_of_range"),
                (#""consent": {"scope": "   "}"#, "/consent/scope", "required"),
                (#""consent": {"scope": "registration", "given_at": "2099-01-01T00:00:00Z"}"#, "/consent/given_at", "out_of_range"),
                (#""mentor_ids": ["\#(world.coordinator.user.id!.api)"]"#, "/mentor_ids/0", "not_a_mentor"),
                (#""mentor_ids": ["\#(world.siblingMentor.user.id!.api)"]"#, "/mentor_ids/0", "not_a_mentor"),
            ]

            for (fields, pointer, code) in cases {
                // when
                let response = try await create(fields)

                // then
                #expect(response.status == .badRequest, "\(fields): \(response.text)")
                #expect(response.problemCode == "validation_failed")
                #expect(response.problemFields == [pointer], "\(fields)")
                #expect(response.text.contains(code), "\(fields): \(response.text)")
                #expect(response.headers.contentType?.description.contains("problem+json") == true)
            }
            // blank names, unknown properties and malformed values are refused as well
            let blank = try await API.send(
                app, .POST, "/api/v1/contacts", as: world.coordinator,
                json: #"{"organization_id": "\#(chapter)", "first_name": "  ", "last_name": "Nordmann"}"#)
            #expect(blank.status == .badRequest)
            #expect(blank.problemFields == ["/first_name"])
            #expect(try await create(#""shoe_size": 44"#).problemCode == "validation_failed")
            #expect(try await create(#""postal_code": "12""#).problemCode == "validation_failed")
            #expect(try await create(#""status": "archived""#).problemCode == "validation_failed")
            #expect(try await Contact.query(on: app.db).count() == 0)
        }
    }

    @Test("who may create: staff in their subtree; a mentor 403; another tenant or the platform admin 404")
    func createAccess() async throws {
        try await withTestApp { app in
            // given
            let world = try await ContactWorld.make(app)
            func create(_ caller: SignedIn, in organization: Organization) async throws -> HTTPStatus {
                try await API.send(
                    app, .POST, "/api/v1/contacts", as: caller,
                    json: #"{"organization_id": "\#(organization.apiID)", "first_name": "Ola", "last_name": "N"}"#
                ).status
            }

            // when / then
            #expect(try await create(world.regionAdmin, in: world.tree.chapterA2) == .created)
            #expect(try await create(world.coordinator, in: world.tree.chapterA1) == .created)
            #expect(try await create(world.coordinator, in: world.tree.chapterA2) == .notFound)
            #expect(try await create(world.coordinator, in: world.tree.regionA) == .notFound)
            #expect(try await create(world.mentor, in: world.tree.chapterA1) == .forbidden)
            #expect(try await create(world.foreignCoordinator, in: world.tree.chapterA1) == .notFound)
            #expect(try await create(world.platformAdmin, in: world.tree.chapterA1) == .notFound)
            #expect(try await Contact.query(on: app.db).count() == 2)
        }
    }

    @Test("a paused coordinator reads but no longer changes contacts")
    func pausedCoordinator() async throws {
        try await withTestApp { app in
            // given
            let world = try await ContactWorld.make(app)
            let contact = try await ContactFixtures.create(app, as: world.coordinator, in: world.tree.chapterA1)
            let paused = try await IdentityFixtures.signIn(
                app,
                try await IdentityFixtures.user(
                    app, email: "paused@test.no", roles: [(.coordinator, world.tree.chapterA1)], membershipStatus: .paused))

            // when
            let read = try await API.send(app, .GET, "/api/v1/contacts/\(contact.id)", as: paused)
            let update = try await API.send(
                app, .PATCH, "/api/v1/contacts/\(contact.id)", as: paused, json: #"{"phone": "+4799999999"}"#)

            // then
            #expect(read.status == .ok)
            #expect(update.status == .forbidden)
        }
    }

    @Test("reading a contact returns the full view and audits the read of needs and notes, without content")
    func readsAndAuditsSensitive() async throws {
        try await withTestApp { app in
            // given
            let world = try await ContactWorld.make(app)
            let created = try await ContactFixtures.create(
                app, as: world.coordinator, in: world.tree.chapterA1, first: S.firstName, last: S.lastName,
                extra: ContactFixtures.fullRecordFields)
            let plain = try await ContactFixtures.create(app, as: world.coordinator, in: world.tree.chapterA1)

            // when
            let response = try await API.send(app, .GET, "/api/v1/contacts/\(created.id)", as: world.regionAdmin)
            let plainResponse = try await API.send(app, .GET, "/api/v1/contacts/\(plain.id)", as: world.regionAdmin)

            // then
            #expect(response.status == .ok, "\(response.text)")
            let contact = try response.decode(ContactView.self)
            #expect(contact.view == .full)
            #expect(contact.needs == S.needs)
            #expect(contact.notes == S.notes)
            #expect(contact.address == S.address)
            #expect(contact.consent != nil)
            #expect(plainResponse.status == .ok)
            let reads = try await AuditLogEntry.query(on: app.db).filter(\.$action == "contact.sensitive_read").all()
            #expect(reads.count == 1, "a contact without needs or notes reveals nothing sensitive")
            #expect(reads.first?.targetType == "contact")
            #expect(reads.first?.targetID == UUID(uuidString: created.id))
            #expect(reads.first?.actorUserID == world.regionAdmin.user.id)
            #expect(reads.first?.organizationID == world.tree.chapterA1.id)
            let metadata = reads.first?.metadata ?? ""
            #expect(metadata.contains("needs,notes"))
            for secret in S.identifying { #expect(!metadata.contains(secret)) }
        }
    }

    @Test("a peer mentor sees only assigned contacts, in the mentor view; unassigned ones answer 404")
    func mentorScoping() async throws {
        try await withTestApp { app in
            // given
            let world = try await ContactWorld.make(app)
            let contact = try await ContactFixtures.create(
                app, as: world.coordinator, in: world.tree.chapterA1, first: S.firstName, last: S.lastName,
                extra: ContactFixtures.fullRecordFields)
            try await ContactFixtures.assign(app, world.mentor, to: contact.id, as: world.coordinator)

            // when
            let assigned = try await API.send(app, .GET, "/api/v1/contacts/\(contact.id)", as: world.mentor)
            let unassigned = try await API.send(app, .GET, "/api/v1/contacts/\(contact.id)", as: world.otherMentor)
            let sibling = try await API.send(app, .GET, "/api/v1/contacts/\(contact.id)", as: world.siblingMentor)

            // then
            #expect(assigned.status == .ok, "\(assigned.text)")
            let view = try assigned.decode(ContactView.self)
            #expect(view.view == .mentor)
            #expect(view.firstName == S.firstName)
            #expect(view.phone == S.phone)
            #expect(view.needs == S.needs)
            #expect(view.municipalityCode == "5501")
            #expect(view.address == nil && view.postalCode == nil && view.postalPlace == nil)
            #expect(view.notes == nil)
            #expect(view.consent == nil)
            #expect(view.birthYear == nil)
            #expect(!assigned.text.contains(S.notes) && !assigned.text.contains(S.address))
            #expect(unassigned.status == .notFound)
            #expect(unassigned.problemCode == "not_found")
            #expect(sibling.status == .notFound)
            let read = try await AuditLogEntry.query(on: app.db).filter(\.$action == "contact.sensitive_read")
                .filter(\.$actorUserID == world.mentor.user.id).all()
            #expect(read.count == 1)
            #expect(read.first?.metadata.contains("\"fields\":\"needs\"") == true, "\(read.first?.metadata ?? "")")
            // a mentor changes nothing
            let update = try await API.send(
                app, .PATCH, "/api/v1/contacts/\(contact.id)", as: world.mentor, json: #"{"phone": null}"#)
            #expect(update.status == .forbidden)

            // when the assignment ends, so does the access
            let unassign = try await API.send(
                app, .DELETE, "/api/v1/contacts/\(contact.id)/mentors/\(world.mentor.user.id!.api)",
                as: world.coordinator)
            #expect(unassign.status == .ok)
            #expect(try await API.send(app, .GET, "/api/v1/contacts/\(contact.id)", as: world.mentor).status == .notFound)
        }
    }

    @Test("another tenant's contact answers 404 to everything; the platform admin gets nothing")
    func otherTenant() async throws {
        try await withTestApp { app in
            // given
            let world = try await ContactWorld.make(app)
            let contact = try await ContactFixtures.create(app, as: world.coordinator, in: world.tree.chapterA1)
            let path = "/api/v1/contacts/\(contact.id)"

            for caller in [world.foreignCoordinator, world.platformAdmin] {
                // when / then
                #expect(try await API.send(app, .GET, path, as: caller).status == .notFound, "\(caller.user.email)")
                #expect(
                    try await API.send(app, .PATCH, path, as: caller, json: #"{"phone": null}"#).status == .notFound)
                #expect(try await API.send(app, .POST, path + "/archive", as: caller).status == .notFound)
                #expect(try await API.send(app, .GET, path + "/export", as: caller).status == .notFound)
                #expect(try await API.send(app, .POST, path + "/erase", as: caller).status == .notFound)
                #expect(
                    try await API.send(
                        app, .POST, path + "/consent", as: caller, json: #"{"scope": "registration"}"#
                    ).status == .notFound)
            }
            let foreignList = try await API.send(app, .GET, "/api/v1/contacts", as: world.foreignCoordinator)
            #expect(foreignList.status == .ok)
            #expect(try foreignList.decode(Components.Schemas.ContactPage.self).items.isEmpty)
            #expect(try await API.send(app, .GET, "/api/v1/contacts", as: world.platformAdmin).status == .forbidden)
            let unknown = try await API.send(app, .GET, "/api/v1/contacts/\(UUID().api)", as: world.coordinator)
            #expect(unknown.status == .notFound)
            #expect(try await API.send(app, .GET, path).status == .unauthorized)
        }
    }

    @Test("PATCH changes only the fields given, null clears, the county follows; audited by field name")
    func updates() async throws {
        try await withTestApp { app in
            // given
            let world = try await ContactWorld.make(app)
            let contact = try await ContactFixtures.create(
                app, as: world.coordinator, in: world.tree.chapterA1, extra: ContactFixtures.fullRecordFields)
            let path = "/api/v1/contacts/\(contact.id)"

            // when
            let response = try await API.send(
                app, .PATCH, path, as: world.coordinator,
                json: #"{"phone": null, "municipality_code": "0301", "needs": "Ny vurdering", "status": "inactive"}"#)

            // then
            #expect(response.status == .ok, "\(response.text)")
            let updated = try response.decode(ContactView.self)
            #expect(updated.phone == nil)
            #expect(updated.municipalityCode == "0301")
            #expect(updated.countyCode == "03")
            #expect(updated.needs == "Ny vurdering")
            #expect(updated.notes == S.notes, "notes were not given and stay")
            #expect(updated.address == S.address)
            #expect(updated.status == .inactive)
            let stored = try #require(try await Contact.find(UUID(uuidString: contact.id), on: app.db))
            #expect(stored.phone == nil)
            #expect(stored.keyVersion == 1)
            let audit = try #require(
                try await AuditLogEntry.query(on: app.db).filter(\.$action == "contact.updated").first())
            #expect(audit.metadata.contains("phone,municipality_code,county_code,status,needs"), "\(audit.metadata)")
            #expect(!audit.metadata.contains("Ny vurdering"))

            // clearing the municipality clears the county; an unchanged body changes (and audits) nothing
            let cleared = try await API.send(app, .PATCH, path, as: world.coordinator, json: #"{"municipality_code": null}"#)
            #expect(try cleared.decode(ContactView.self).countyCode == nil)
            let same = try await API.send(app, .PATCH, path, as: world.coordinator, json: #"{"needs": "Ny vurdering"}"#)
            #expect(same.status == .ok)
            #expect(try await AuditLogEntry.query(on: app.db).filter(\.$action == "contact.updated").count() == 2)
            // removing the needs leaves only the notes sealed
            let noNeeds = try await API.send(app, .PATCH, path, as: world.coordinator, json: #"{"needs": null}"#)
            #expect(try noNeeds.decode(ContactView.self).needs == nil)
            let reloaded = try #require(try await Contact.find(UUID(uuidString: contact.id), on: app.db))
            #expect(reloaded.needsCiphertext == nil && reloaded.notesCiphertext != nil)
            // bad values
            let bad = try await API.send(
                app, .PATCH, path, as: world.coordinator, json: #"{"municipality_code": "0000", "last_name": " "}"#)
            #expect(bad.status == .badRequest)
            #expect(Set(bad.problemFields) == ["/municipality_code", "/last_name"])
        }
    }

    @Test("archiving ends the mentors' assignments; archiving twice is a conflict; PATCH brings a contact back")
    func archives() async throws {
        try await withTestApp { app in
            // given
            let world = try await ContactWorld.make(app)
            let contact = try await ContactFixtures.create(app, as: world.coordinator, in: world.tree.chapterA1)
            try await ContactFixtures.assign(app, world.mentor, to: contact.id, as: world.coordinator)
            let path = "/api/v1/contacts/\(contact.id)"

            // when
            let archived = try await API.send(app, .POST, path + "/archive", as: world.coordinator)
            let again = try await API.send(app, .POST, path + "/archive", as: world.coordinator)

            // then
            #expect(archived.status == .ok, "\(archived.text)")
            let view = try archived.decode(ContactView.self)
            #expect(view.status == .archived)
            #expect(view.mentorIds.isEmpty)
            #expect(again.status == .conflict)
            #expect(again.problemCode == "conflict")
            #expect(try await API.send(app, .GET, path, as: world.mentor).status == .notFound)
            let assign = try await API.send(
                app, .POST, path + "/mentors", as: world.coordinator, json: #"{"mentor_id": "\#(world.mentor.user.id!.api)"}"#)
            #expect(assign.status == .conflict)
            #expect(try await AuditLogEntry.query(on: app.db).filter(\.$action == "contact.archived").count() == 1)
            let restored = try await API.send(app, .PATCH, path, as: world.coordinator, json: #"{"status": "active"}"#)
            #expect(try restored.decode(ContactView.self).status == .active)
        }
    }

    @Test("consent: recorded (now by default), withdrawn once; withdrawing none or twice is a conflict")
    func consent() async throws {
        try await withTestApp { app in
            // given
            let world = try await ContactWorld.make(app)
            let contact = try await ContactFixtures.create(app, as: world.coordinator, in: world.tree.chapterA1)
            let path = "/api/v1/contacts/\(contact.id)/consent"
            let before = Date().addingTimeInterval(-1)

            // when / then: nothing to withdraw yet
            let none = try await API.send(app, .DELETE, path, as: world.coordinator)
            #expect(none.status == .conflict)

            let recorded = try await API.send(app, .POST, path, as: world.coordinator, json: #"{"scope": "registration"}"#)
            #expect(recorded.status == .ok, "\(recorded.text)")
            let consent = try #require(try recorded.decode(ContactView.self).consent)
            #expect(consent.scope == "registration")
            #expect(consent.givenAt >= before && consent.givenAt <= Date().addingTimeInterval(1))
            #expect(consent.withdrawnAt == nil)

            let withdrawn = try await API.send(app, .DELETE, path, as: world.coordinator)
            #expect(withdrawn.status == .ok)
            #expect(try withdrawn.decode(ContactView.self).consent?.withdrawnAt != nil)
            let twice = try await API.send(app, .DELETE, path, as: world.coordinator)
            #expect(twice.status == .conflict)

            // a new consent, dated in the past, replaces the withdrawn one
            let renewed = try await API.send(
                app, .POST, path, as: world.coordinator,
                json: #"{"scope": "registration,contact_by_phone", "given_at": "2024-03-01T10:00:00Z"}"#)
            let renewedConsent = try #require(try renewed.decode(ContactView.self).consent)
            #expect(renewedConsent.withdrawnAt == nil)
            #expect(renewedConsent.givenAt == Date(timeIntervalSince1970: 1_709_287_200))
            let future = try await API.send(
                app, .POST, path, as: world.coordinator, json: #"{"scope": "x", "given_at": "2999-01-01T00:00:00Z"}"#)
            #expect(future.status == .badRequest)
            #expect(future.problemFields == ["/given_at"])
            #expect(try await API.send(app, .DELETE, path, as: world.mentor).status == .forbidden)
            let actions = try await AuditLogEntry.query(on: app.db).filter(\.$targetID == UUID(uuidString: contact.id))
                .sort(\.$sequence).all().map(\.action)
            #expect(
                actions == [
                    "contact.created", "contact.consent_recorded", "contact.consent_withdrawn", "contact.consent_recorded",
                ])
        }
    }

    @Test("mentors: assigned when they hold peer_mentor here or above; once at a time; unassigned; re-assigned as a new row")
    func assignments() async throws {
        try await withTestApp { app in
            // given
            let world = try await ContactWorld.make(app)
            let contact = try await ContactFixtures.create(app, as: world.coordinator, in: world.tree.chapterA1)
            let regionMentor = try await IdentityFixtures.signedIn(
                app, email: "region-mentor@test.no", roles: [(.peerMentor, world.tree.regionA)])
            let pausedMentor = try await IdentityFixtures.signIn(
                app,
                try await IdentityFixtures.user(
                    app, email: "paused-mentor@test.no", roles: [(.peerMentor, world.tree.chapterA1)],
                    membershipStatus: .paused))
            let path = "/api/v1/contacts/\(contact.id)/mentors"
            func assign(_ mentor: SignedIn) async throws -> APIResult {
                try await API.send(
                    app, .POST, path, as: world.coordinator, json: #"{"mentor_id": "\#(mentor.user.id!.api)"}"#)
            }

            // when / then
            let first = try await assign(world.mentor)
            #expect(first.status == .ok, "\(first.text)")
            #expect(try first.decode(ContactView.self).mentorIds == [world.mentor.user.id!.api])
            #expect(try await assign(world.mentor).status == .conflict)
            #expect(try await assign(regionMentor).status == .ok, "a mentor of the region above")
            let sibling = try await assign(world.siblingMentor)
            #expect(sibling.status == .badRequest)
            #expect(sibling.problemFields == ["/mentor_id"])
            #expect(try await assign(world.coordinator).status == .badRequest, "not a peer mentor")
            #expect(try await assign(pausedMentor).status == .conflict)
            let nobody = try await API.send(
                app, .POST, path, as: world.coordinator, json: #"{"mentor_id": "\#(UUID().api)"}"#)
            #expect(nobody.status == .badRequest)
            #expect(try await assign(world.otherMentor).status == .ok)
            #expect(
                try await API.send(
                    app, .POST, path, as: world.mentor, json: #"{"mentor_id": "\#(world.mentor.user.id!.api)"}"#
                ).status == .forbidden)

            let unassigned = try await API.send(
                app, .DELETE, "\(path)/\(world.mentor.user.id!.api)", as: world.coordinator)
            #expect(unassigned.status == .ok)
            #expect(Set(try unassigned.decode(ContactView.self).mentorIds) == [regionMentor.user.id!.api, world.otherMentor.user.id!.api])
            let twice = try await API.send(app, .DELETE, "\(path)/\(world.mentor.user.id!.api)", as: world.coordinator)
            #expect(twice.status == .notFound)
            #expect(try await assign(world.mentor).status == .ok)

            let rows = try await ContactMentorAssignment.query(on: app.db)
                .filter(\.$mentor.$id == world.mentor.user.id!).sort(\.$assignedAt).all()
            #expect(rows.count == 2, "re-assignment is a new row; the history stays")
            #expect(rows.first?.unassignedAt != nil && rows.last?.unassignedAt == nil)
            #expect(rows.last?.$assignedBy.id == world.coordinator.user.id)
            let actions = try await AuditLogEntry.query(on: app.db)
                .filter(\.$action ~~ ["contact.mentor_assigned", "contact.mentor_unassigned"]).count()
            #expect(actions == 5)
        }
    }

    @Test("needs and notes are never stored in clear: a raw dump of the contacts table holds none of them")
    func encryptedAtRest() async throws {
        try await withTestApp { app in
            // given
            let world = try await ContactWorld.make(app)
            let created = try await ContactFixtures.create(
                app, as: world.coordinator, in: world.tree.chapterA1, first: S.firstName, last: S.lastName,
                extra: ContactFixtures.fullRecordFields)
            _ = try await API.send(
                app, .PATCH, "/api/v1/contacts/\(created.id)", as: world.coordinator,
                json: #"{"notes": "Oppdatert: \#(S.notes)"}"#)

            // when
            let cells = try await RawTables.cells(of: Contact.schema, on: app)

            // then
            #expect(!cells.isEmpty)
            #expect(cells.contains(S.firstName), "names are in clear, for search")
            for secret in [S.needs, S.notes, "Diagnose", "Solveig"] {
                #expect(!cells.contains { $0.localizedCaseInsensitiveContains(secret) }, "\(secret) found in clear")
            }
            let stored = try #require(try await Contact.find(UUID(uuidString: created.id), on: app.db))
            #expect(stored.needsCiphertext.map(FieldCipher.keyVersion(of:)) == 1)
            #expect(stored.keyVersion == 1)
            // the envelope is bound to its row and column: it does not open as the notes
            let context = FieldContext(
                organizationID: world.tree.chapterA1.id!, table: "contacts", column: "notes_ciphertext",
                rowID: stored.id!)
            await #expect(throws: FieldCipherError.self) {
                _ = try await app.meander.cipher.open(stored.needsCiphertext, context, on: app.db)
            }
        }
    }
}

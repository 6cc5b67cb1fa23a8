import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

@testable import Meander

@Suite("Contacts API: races")
struct ContactsRaceTests {
    typealias ContactView = Components.Schemas.Contact

    @Test("concurrent edits of needs and of notes both land; an edit racing an erasure never brings the name back")
    func races() async throws {
        try await withTestApp { app in
            // given
            let world = try await ContactWorld.make(app)
            for round in 0..<5 {
                let contact = try await ContactFixtures.create(
                    app, as: world.coordinator, in: world.tree.chapterA1, first: "Rase\(round)",
                    extra: #""needs": "gammelt behov", "notes": "gammelt notat""#)
                let path = "/api/v1/contacts/\(contact.id)"

                // when: needs and notes edited at once, and an edit of the name racing the erasure
                let statuses = try await withThrowingTaskGroup(of: (String, HTTPStatus).self) { group in
                    group.addTask {
                        ("needs", try await API.send(app, .PATCH, path, as: world.coordinator, json: #"{"needs": "nytt behov"}"#).status)
                    }
                    group.addTask {
                        ("notes", try await API.send(app, .PATCH, path, as: world.coordinator, json: #"{"notes": "nytt notat"}"#).status)
                    }
                    var results: [String: HTTPStatus] = [:]
                    for try await (name, status) in group { results[name] = status }
                    return results
                }

                // then
                #expect(statuses == ["needs": .ok, "notes": .ok])
                let read = try await API.send(app, .GET, path, as: world.coordinator).decode(ContactView.self)
                #expect(read.needs == "nytt behov" && read.notes == "nytt notat", "round \(round): a lost update")

                // when
                async let erase = API.send(app, .POST, path + "/erase", as: world.regionAdmin)
                async let rename = API.send(app, .PATCH, path, as: world.coordinator, json: #"{"first_name": "Tilbake"}"#)
                let (erased, renamed) = try await (erase, rename)

                // then
                #expect(erased.status == .ok)
                #expect([.ok, .conflict].contains(renamed.status))
                let stored = try #require(try await Contact.find(UUID(uuidString: contact.id), on: app.db))
                #expect(stored.erasedAt != nil && stored.firstName == nil, "round \(round)")
            }
        }
    }
}

import Fluent
import FluentSQL
import Foundation
import Testing
import Vapor

@testable import Meander

/// The people of the contact tests, on the two-tenant tree of `IdentityFixtures.tree`:
/// staff of chapter A1 and region A, two peer mentors of chapter A1, one of chapter A2, and outsiders.
struct ContactWorld: Sendable {
    let tree: OrganizationTreeFixture
    /// coordinator of chapter A1
    let coordinator: SignedIn
    /// org_admin of region A (holds contacts.gdpr)
    let regionAdmin: SignedIn
    /// peer mentors of chapter A1
    let mentor: SignedIn
    let otherMentor: SignedIn
    /// peer mentor of chapter A2 (a sibling chapter)
    let siblingMentor: SignedIn
    /// coordinator of the other tenant
    let foreignCoordinator: SignedIn
    let platformAdmin: SignedIn

    static func make(_ app: Application) async throws -> ContactWorld {
        let tree = try await IdentityFixtures.tree(app)
        return ContactWorld(
            tree: tree,
            coordinator: try await IdentityFixtures.signedIn(
                app, email: "coordinator@test.no", roles: [(.coordinator, tree.chapterA1)]),
            regionAdmin: try await IdentityFixtures.signedIn(
                app, email: "region-admin@test.no", roles: [(.orgAdmin, tree.regionA)]),
            mentor: try await IdentityFixtures.signedIn(
                app, email: "mentor@test.no", roles: [(.peerMentor, tree.chapterA1)]),
            otherMentor: try await IdentityFixtures.signedIn(
                app, email: "mentor2@test.no", roles: [(.peerMentor, tree.chapterA1)]),
            siblingMentor: try await IdentityFixtures.signedIn(
                app, email: "sibling-mentor@test.no", roles: [(.peerMentor, tree.chapterA2)]),
            foreignCoordinator: try await IdentityFixtures.signedIn(
                app, email: "foreign@test.no", roles: [(.coordinator, tree.otherChapter)]),
            platformAdmin: try await IdentityFixtures.signedIn(
                app, email: "platform@test.no", roles: [(.platformAdmin, nil)]))
    }
}

/// Sensitive strings seeded into a contact's record, to look for afterwards.
enum ContactSecretsFixture {
    static let firstName = "Kristoffersine"
    static let lastName = "Wergelandsen"
    static let phone = "+4791234567"
    static let address = "Blåbærveien 17B"
    static let postalPlace = "Fjellbygda"
    static let needs = "Diagnose: bipolar lidelse type II, trenger tett oppfølging"
    static let notes = "Notat: datteren Solveig ringer om kvelden"
    static let summary = "Samtale om medisinering og søvnvansker"
    static let place = "Kafé Nordlys, Storgata 3"
    static let fileName = "innkalling-kristoffersine.pdf"
    static let fileBytes = Data("%PDF-1.4 innkalling for Kristoffersine".utf8)

    /// Every string that must not be found in the database after erasure, nor (the sealed ones) ever in clear.
    static let identifying = [firstName, lastName, phone, address, postalPlace, needs, notes, summary, place, fileName]
    static let sealed = [needs, notes, summary]
}

enum ContactFixtures {
    typealias ContactView = Components.Schemas.Contact

    /// Creates a contact through the API and returns its view; fails the test on anything but 201.
    static func create(
        _ app: Application, as caller: SignedIn, in organization: Organization, first: String = "Ola",
        last: String = "Nordmann", extra: String = ""
    ) async throws -> ContactView {
        let json = """
            {"organization_id": "\(organization.apiID)", "first_name": \(API.quote(first)),
             "last_name": \(API.quote(last))\(extra.isEmpty ? "" : ", " + extra)}
            """
        let response = try await API.send(app, .POST, "/api/v1/contacts", as: caller, json: json)
        try #require(response.status == .created, "\(response.text)")
        return try response.decode(ContactView.self)
    }

    /// The fields that make up a full record with every sensitive string of `ContactSecretsFixture`.
    static var fullRecordFields: String {
        typealias S = ContactSecretsFixture
        return """
            "birth_year": 1961, "phone": \(API.quote(S.phone)), "address": \(API.quote(S.address)),
            "postal_code": "9990", "postal_place": \(API.quote(S.postalPlace)), "municipality_code": "5501",
            "needs": \(API.quote(S.needs)), "notes": \(API.quote(S.notes)),
            "consent": {"scope": "registration,contact_by_phone"}
            """
    }

    static func assign(_ app: Application, _ mentor: SignedIn, to contactID: String, as caller: SignedIn) async throws {
        let response = try await API.send(
            app, .POST, "/api/v1/contacts/\(contactID)/mentors", as: caller,
            json: #"{"mentor_id": "\#(mentor.user.id!.api)"}"#)
        try #require(response.status == .ok, "\(response.text)")
    }

    /// A registered activity for a contact, with a sealed summary and a place, written through the models.
    @discardableResult
    static func activity(
        _ app: Application, contactID: UUID, organization: Organization, mentor: SignedIn,
        summary: String? = ContactSecretsFixture.summary, place: String? = ContactSecretsFixture.place,
        countsForBufdir: Bool = true
    ) async throws -> Activity {
        let type = try #require(try await ActivityType.query(on: app.db).first())
        let activity = Activity(
            id: UUID(), organizationID: try organization.requireID(), mentorID: try mentor.user.requireID(),
            activityTypeID: try type.requireID(), occurredAt: Date().addingTimeInterval(-86_400), durationMinutes: 60,
            contactID: contactID, place: place, channel: .inPerson, municipalityCode: "5501",
            countsForBufdir: countsForBufdir)
        let context = FieldContext(
            organizationID: try organization.requireID(), table: Activity.schema, column: "summary_ciphertext",
            rowID: try activity.requireID())
        activity.summaryCiphertext = try await app.meander.cipher.seal(summary, context, on: app.db)
        activity.keyVersion = activity.summaryCiphertext.flatMap(FieldCipher.keyVersion(of:))
        try await activity.create(on: app.db)
        return activity
    }

    /// An evidence file stored in the app's file store, with its attachment row.
    @discardableResult
    static func attachment(
        _ app: Application, to activity: Activity, uploadedBy: SignedIn,
        name: String = ContactSecretsFixture.fileName, bytes: Data = ContactSecretsFixture.fileBytes
    ) async throws -> ActivityAttachment {
        let id = UUID()
        let organizationID = activity.$organization.id
        let key = BlobKey.attachment(organizationID: organizationID, attachmentID: id)
        try await app.meander.files.put(key, bytes, contentType: "application/pdf")
        let attachment = ActivityAttachment(
            id: id, organizationID: organizationID, activityID: try activity.requireID(),
            uploadedByID: try uploadedBy.user.requireID(), fileName: name, mediaType: "application/pdf",
            sizeBytes: bytes.count, sha256: Digest.sha256Hex(bytes), storageKey: key, kind: .invitation)
        try await attachment.create(on: app.db)
        return attachment
    }

    /// A dispatch about a contact from the coordinator to a mentor, with an opaque payload.
    @discardableResult
    static func dispatch(
        _ app: Application, contactID: UUID, organization: Organization, from sender: SignedIn, to recipient: SignedIn
    ) async throws -> EncryptedDispatch {
        let dispatch = EncryptedDispatch(
            organizationID: try organization.requireID(), senderID: try sender.user.requireID(),
            recipientID: try recipient.user.requireID(), expiresAt: Date().addingTimeInterval(86_400),
            contactID: contactID, payloadCiphertext: Data((0..<64).map { _ in UInt8.random(in: 0...255) }),
            keyVersion: 1)
        try await dispatch.create(on: app.db)
        return dispatch
    }
}

/// Reads tables as raw SQL, every column as text or bytes, to check what is stored on disk.
enum RawTables {
    /// Every non-null cell of a table, as text (bytes decoded as UTF-8, lossily).
    static func cells(of table: String, on app: Application) async throws -> [String] {
        let sql = try app.db.sqlDatabase()
        let columns = try await DatabaseCatalog.columns(on: sql)[table] ?? []
        let rows = try await sql.raw("SELECT * FROM \(ident: table)").all()
        var cells: [String] = []
        for row in rows {
            for column in columns where !(try row.decodeNil(column: column.name)) {
                if let text = try? row.decode(column: column.name, as: String.self) {
                    cells.append(text)
                } else if let bytes = try? row.decode(column: column.name, as: Data.self) {
                    cells.append(String(decoding: bytes, as: UTF8.self))
                    cells.append(bytes.base64EncodedString())
                }
            }
        }
        return cells
    }

    /// Which of `needles` appear anywhere in the table, as `table: needle`.
    static func occurrences(of needles: [String], in table: String, on app: Application) async throws -> [String] {
        let cells = try await cells(of: table, on: app)
        return needles.filter { needle in cells.contains { $0.localizedCaseInsensitiveContains(needle) } }
            .map { "\(table): \($0)" }
    }
}

import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

@testable import Meander

@Suite("Evidence attachments API")
struct AttachmentsAPITests {
    typealias Attachment = Components.Schemas.Attachment

    /// A minimal PDF (header, one empty page, trailer).
    static let pdf = Data(
        "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
            .utf8)
    static let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) + Data(repeating: 7, count: 64)

    static func upload(
        _ app: Application, _ caller: SignedIn, activity: String, name: String, bytes: Data,
        contentType: String = "application/octet-stream", kind: String = "attendance_list"
    ) async throws -> APIResult {
        var headers = caller.headers
        headers.replaceOrAdd(name: .contentType, value: contentType)
        var result: APIResult?
        let path = "/api/v1/activities/\(activity)/attachments?file_name=\(name)&kind=\(kind)"
        try await app.testing().test(.POST, path, headers: headers, body: ByteBuffer(data: bytes)) { response in
            result = APIResult(status: response.status, body: Data(buffer: response.body), headers: response.headers)
        }
        return try #require(result)
    }

    static func groupMeeting(_ app: Application, _ world: ActivityWorld) async throws -> Components.Schemas.Activity {
        let group = try await ActivityWorld.typeID(app, "group_meeting")
        return try await API.send(
            app, .POST, "/api/v1/activities", as: world.mentor,
            json: ActivityWorld.body(organization: world.tree.chapterA1, type: group, minutes: 90, participants: 5)
        ).decode(Components.Schemas.Activity.self)
    }

    @Test("upload, list, download and delete; the type comes from the bytes; duplicates are flagged")
    func lifecycle() async throws {
        try await withTestApp { app in
            // given: a group meeting, whose type needs evidence
            let world = try await ActivityWorld.make(app)
            let activity = try await Self.groupMeeting(app, world)
            #expect(activity.evidence.missing)
            let missingBefore = try await API.send(app, .GET, "/api/v1/activities?missing_evidence=true", as: world.coordinator)
                .decode(Components.Schemas.ActivityPage.self)

            // when: a PDF sent as octet-stream under a .jpg name, then the same bytes again
            let first = try await Self.upload(app, world.mentor, activity: activity.id, name: "liste.jpg", bytes: Self.pdf)
            let second = try await Self.upload(
                app, world.coordinator, activity: activity.id, name: "kopi.pdf", bytes: Self.pdf, contentType: "application/pdf")
            let list = try await API.send(app, .GET, "/api/v1/activities/\(activity.id)/attachments", as: world.mentor)
            let firstView = try first.decode(Attachment.self)
            var download: (HTTPStatus, HTTPHeaders, Data)?
            try await app.testing().test(.GET, "/api/v1/attachments/\(firstView.id)/content", headers: world.mentor.headers) {
                download = ($0.status, $0.headers, Data(buffer: $0.body))
            }
            let missingAfter = try await API.send(app, .GET, "/api/v1/activities?missing_evidence=true", as: world.coordinator)
                .decode(Components.Schemas.ActivityPage.self)
            let deleted = try await API.send(app, .DELETE, "/api/v1/attachments/\(firstView.id)", as: world.mentor)
            let again = try await API.send(app, .GET, "/api/v1/attachments/\(firstView.id)/content", as: world.mentor)

            // then
            #expect(missingBefore.items.map(\.id) == [activity.id])
            #expect(first.status == .created, "\(first.text)")
            #expect(firstView.mediaType == .applicationPdf)
            #expect(firstView.sha256 == Digest.sha256Hex(Self.pdf))
            #expect(firstView.sizeBytes == Int64(Self.pdf.count))
            #expect(firstView.duplicateOf.isEmpty)
            #expect(try second.decode(Attachment.self).duplicateOf == [firstView.id])
            #expect(try list.decode(Components.Schemas.AttachmentPage.self).items.count == 2)
            #expect(download?.0 == .ok)
            #expect(download?.1.first(name: .contentType) == "application/pdf")
            #expect(download?.1.first(name: "Content-Disposition") == ContentDisposition.attachment(fileName: "liste.jpg"))
            #expect(download?.2 == Self.pdf)
            #expect(missingAfter.items.isEmpty)
            #expect(deleted.status == .noContent)
            #expect(again.status == .notFound)
            let actions = try await AuditLogEntry.query(on: app.db).filter(\.$targetType == "attachment").all().map(\.action)
            #expect(actions.sorted() == ["attachment.deleted", "attachment.downloaded", "attachment.uploaded", "attachment.uploaded"])
        }
    }

    @Test("bytes that are not JPEG, PNG, HEIC or PDF are refused (415), whatever the name and Content-Type")
    func sniffing() async throws {
        try await withTestApp { app in
            let world = try await ActivityWorld.make(app)
            let activity = try await Self.groupMeeting(app, world)
            let text = try await Self.upload(
                app, world.mentor, activity: activity.id, name: "scan.pdf", bytes: Data("just text".utf8),
                contentType: "application/pdf")
            let image = try await Self.upload(app, world.mentor, activity: activity.id, name: "bilde", bytes: Self.png)
            #expect(text.status == .unsupportedMediaType)
            #expect(text.problemCode == "unsupported_media_type")
            #expect(try image.decode(Attachment.self).mediaType == .imagePng)
            #expect(try await ActivityAttachment.query(on: app.db).count() == 1)
        }
    }

    @Test("the size limit comes from configuration (413 above it)")
    func sizeLimit() async throws {
        try await withTestApp(configure: { $0.maxUploadSize = 4096 }) { app in
            let world = try await ActivityWorld.make(app)
            let activity = try await Self.groupMeeting(app, world)
            let big = Self.pdf + Data(repeating: 0x20, count: 5000)
            let response = try await Self.upload(app, world.mentor, activity: activity.id, name: "stor.pdf", bytes: big)
            let small = try await Self.upload(app, world.mentor, activity: activity.id, name: "liten.pdf", bytes: Self.pdf)
            #expect(response.status == .payloadTooLarge)
            #expect(small.status == .created)
        }
    }

    @Test("only those who may see the activity reach its files")
    func scoping() async throws {
        try await withTestApp { app in
            let world = try await ActivityWorld.make(app)
            let activity = try await Self.groupMeeting(app, world)
            let uploaded = try await Self.upload(app, world.mentor, activity: activity.id, name: "a.pdf", bytes: Self.pdf)
                .decode(Attachment.self)
            let peer = try await API.send(app, .GET, "/api/v1/attachments/\(uploaded.id)/content", as: world.otherMentor)
            let foreign = try await API.send(app, .GET, "/api/v1/attachments/\(uploaded.id)/content", as: world.foreignMentor)
            let foreignUpload = try await Self.upload(
                app, world.foreignMentor, activity: activity.id, name: "x.pdf", bytes: Self.pdf)
            let foreignDelete = try await API.send(app, .DELETE, "/api/v1/attachments/\(uploaded.id)", as: world.foreignMentor)
            #expect(peer.status == .notFound)
            #expect(foreign.status == .notFound)
            #expect(foreignUpload.status == .notFound)
            #expect(foreignDelete.status == .notFound)
        }
    }
}

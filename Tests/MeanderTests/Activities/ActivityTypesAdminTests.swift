import Fluent
import Foundation
import Testing
import Vapor

@testable import Meander

@Suite("Activity types of organisations")
struct ActivityTypesAdminTests {
    typealias TypeView = Components.Schemas.ActivityType
    typealias Page = Components.Schemas.ActivityTypePage

    static let cafe =
        #"{"key": "kafe_treff", "name_nb": "Kafétreff", "name_en": "Café meet-up", "bufdir_category": "group", "reportable": true, "requires_evidence": true, "default_duration_minutes": 90, "sort_order": 45}"#

    @Test("an organisation's own types apply to it and below, never to siblings or other tenants")
    func ownTypes() async throws {
        try await withTestApp { app in
            // given
            let world = try await ActivityWorld.make(app)
            let regionalAdmin = try await IdentityFixtures.signedIn(
                app, email: "region@example.no", roles: [(.orgAdmin, world.tree.regionA)])
            let siblingMentor = try await IdentityFixtures.signedIn(
                app, email: "bergen@example.no", roles: [(.peerMentor, world.tree.chapterB1)])

            // when
            let created = try await API.send(
                app, .POST, "/api/v1/organizations/\(world.tree.regionA.apiID)/activity-types", as: regionalAdmin,
                json: Self.cafe)
            let duplicate = try await API.send(
                app, .POST, "/api/v1/organizations/\(world.tree.regionA.apiID)/activity-types", as: regionalAdmin,
                json: Self.cafe)
            let clashWithGlobal = try await API.send(
                app, .POST, "/api/v1/organizations/\(world.tree.regionA.apiID)/activity-types", as: regionalAdmin,
                json: Self.cafe.replacingOccurrences(of: "kafe_treff", with: "home_visit"))
            let inChapter = try await API.send(
                app, .GET, "/api/v1/organizations/\(world.tree.chapterA1.apiID)/activity-types?limit=200", as: world.mentor
            )
            .decode(Page.self)
            let inSibling = try await API.send(
                app, .GET, "/api/v1/organizations/\(world.tree.chapterB1.apiID)/activity-types?limit=200", as: siblingMentor
            )
            .decode(Page.self)
            let foreign = try await API.send(
                app, .GET, "/api/v1/organizations/\(world.tree.chapterA1.apiID)/activity-types", as: world.foreignMentor)

            // then
            #expect(created.status == .created, "\(created.text)")
            let view = try created.decode(TypeView.self)
            #expect(view.organizationId == world.tree.regionA.apiID)
            #expect(duplicate.status == .conflict)
            #expect(clashWithGlobal.status == .conflict)
            #expect(inChapter.items.contains { $0.key == "kafe_treff" })
            #expect(inChapter.items.contains { $0.key == "home_visit" })
            #expect(inChapter.items.map(\.sortOrder) == inChapter.items.map(\.sortOrder).sorted())
            #expect(!inSibling.items.contains { $0.key == "kafe_treff" })
            #expect(foreign.status == .notFound)
            #expect(try await AuditLogEntry.query(on: app.db).filter(\.$action == "activity_type.created").count() == 1)
        }
    }

    @Test("global types: only platform admins change them, through the admin operation")
    func globalTypes() async throws {
        try await withTestApp { app in
            // given
            let world = try await ActivityWorld.make(app)
            let platform = try await IdentityFixtures.signedIn(app, email: "ops@example.no", roles: [(.platformAdmin, nil)])
            let call = try await ActivityWorld.typeID(app, "phone_call")

            // when
            let byAdminTenantRoute = try await API.send(
                app, .PATCH, "/api/v1/activity-types/\(call)", as: world.admin, json: #"{"sort_order": 1}"#)
            let byAdminGlobalRoute = try await API.send(
                app, .PATCH, "/api/v1/admin/activity-types/\(call)", as: world.admin, json: #"{"sort_order": 1}"#)
            let byPlatform = try await API.send(
                app, .PATCH, "/api/v1/admin/activity-types/\(call)", as: platform,
                json: #"{"name_en": "Telephone call", "requires_evidence": true}"#)
            let platformOnTenantType = try await API.send(
                app, .POST, "/api/v1/organizations/\(world.tree.national.apiID)/activity-types", as: platform,
                json: Self.cafe)

            // then
            #expect(byAdminTenantRoute.status == .forbidden)
            #expect(byAdminGlobalRoute.status == .forbidden)
            #expect(byPlatform.status == .ok, "\(byPlatform.text)")
            let view = try byPlatform.decode(TypeView.self)
            #expect(view.nameEn == "Telephone call")
            #expect(view.requiresEvidence)
            #expect(platformOnTenantType.status == .notFound, "a platform admin holds no tenant rights")
            let entry = try #require(
                try await AuditLogEntry.query(on: app.db).filter(\.$action == "activity_type.updated").first())
            #expect(entry.metadata.contains("name_en"))
        }
    }
}

import Fluent
import Foundation
import Testing
import Vapor
import VaporTesting

@testable import Meander

@Suite("Organisations API")
struct OrganizationsAPITests {
    typealias OrganizationView = Components.Schemas.Organization
    typealias Page = Components.Schemas.OrganizationPage

    @Test("a platform admin creates a national organisation with settings; it is audited")
    func createsNational() async throws {
        try await withTestApp { app in
            // given
            let admin = try await IdentityFixtures.signedIn(app, email: "platform@test.no", roles: [(.platformAdmin, nil)])

            // when
            let response = try await API.send(
                app, .POST, "/api/v1/organizations", as: admin,
                json: """
                    {"name": "Norsk Forbund", "kind": "national", "org_number": "923609016",
                     "settings": {"mileage_rate_kind": "tax_free", "expense_auto_approval_limit_ore": 50000,
                                  "enabled_products": ["mobile"], "evidence_activity_type_keys": ["home_visit"]}}
                    """)

            // then
            #expect(response.status == .created, "\(response.text)")
            let created = try response.decode(OrganizationView.self)
            #expect(created.kind == .national)
            #expect(created.parentId == nil)
            #expect(created.orgNumber == "923609016")
            #expect(created.status == .active)
            #expect(created.settings.mileageRateKind == .taxFree)
            #expect(created.settings.expenseAutoApprovalLimitOre == 50000)
            #expect(created.settings.enabledProducts == [.mobile])
            #expect(created.settings.evidenceActivityTypeKeys == ["home_visit"])
            let stored = try #require(try await Organization.find(UUID(uuidString: created.id), on: app.db))
            #expect(stored.mileageRateKind == .taxFree)
            let audit = try await AuditLogEntry.query(on: app.db).filter(\.$action == "organization.created").all()
            #expect(audit.count == 1)
            #expect(audit.first?.targetID == stored.id)
            #expect(audit.first?.actorUserID == admin.user.id)
        }
    }

    @Test("only a platform admin creates national organisations")
    func nationalNeedsPlatformAdmin() async throws {
        try await withTestApp { app in
            // given
            let tree = try await IdentityFixtures.tree(app)
            let national = try await IdentityFixtures.signedIn(
                app, email: "national@test.no", roles: [(.nationalAdmin, tree.national)])
            let orgAdmin = try await IdentityFixtures.signedIn(app, email: "org@test.no", roles: [(.orgAdmin, tree.regionA)])
            let mentor = try await IdentityFixtures.signedIn(
                app, email: "mentor@test.no", roles: [(.peerMentor, tree.chapterA1)])

            for caller in [national, orgAdmin, mentor] {
                // when
                let response = try await API.send(
                    app, .POST, "/api/v1/organizations", as: caller, json: #"{"name": "Nytt", "kind": "national"}"#)

                // then
                #expect(response.status == .forbidden, "\(caller.user.email): \(response.text)")
            }
            #expect(try await Organization.query(on: app.db).count() == 9)
        }
    }

    @Test("admins create regions and chapters below their own organisation only, in the right kind")
    func createsBelow() async throws {
        try await withTestApp { app in
            // given
            let tree = try await IdentityFixtures.tree(app)
            let regionAdmin = try await IdentityFixtures.signedIn(
                app, email: "region@test.no", roles: [(.orgAdmin, tree.regionA)])
            let nationalAdmin = try await IdentityFixtures.signedIn(
                app, email: "national@test.no", roles: [(.nationalAdmin, tree.national)])
            func create(_ caller: SignedIn, _ kind: String, under parent: Organization) async throws -> APIResult {
                try await API.send(
                    app, .POST, "/api/v1/organizations", as: caller,
                    json: #"{"name": "Ny \#(kind)", "kind": "\#(kind)", "parent_id": "\#(parent.apiID)"}"#)
            }

            // when / then: a chapter below the own region
            let chapter = try await create(regionAdmin, "local", under: tree.regionA)
            #expect(chapter.status == .created, "\(chapter.text)")
            #expect(try chapter.decode(OrganizationView.self).parentId == tree.regionA.apiID)
            // a sibling region is out of reach: 404
            #expect(try await create(regionAdmin, "local", under: tree.regionB).status == .notFound)
            // another tenant: 404
            #expect(try await create(nationalAdmin, "regional", under: tree.other).status == .notFound)
            // upwards: a region admin cannot add below the national organisation
            #expect(try await create(regionAdmin, "regional", under: tree.national).status == .notFound)
            // kinds must fit: no region under a region, nothing under a chapter
            let wrongKind = try await create(regionAdmin, "regional", under: tree.regionA)
            #expect(wrongKind.status == .badRequest)
            #expect(wrongKind.problemFields == ["/kind"])
            #expect(try await create(nationalAdmin, "local", under: tree.chapterA1).status == .badRequest)
            // a chapter may sit directly under the national organisation
            #expect(try await create(nationalAdmin, "local", under: tree.national).status == .created)
            #expect(try await create(nationalAdmin, "regional", under: tree.national).status == .created)
            // a national organisation never has a parent
            let nationalWithParent = try await create(nationalAdmin, "national", under: tree.national)
            #expect(nationalWithParent.status == .badRequest)
            #expect(nationalWithParent.problemFields == ["/parent_id"])
            // a region needs one
            let orphan = try await API.send(
                app, .POST, "/api/v1/organizations", as: nationalAdmin, json: #"{"name": "X", "kind": "regional"}"#)
            #expect(orphan.status == .badRequest)
            #expect(orphan.problemFields == ["/parent_id"])
        }
    }

    @Test("the organisation number is checked (mod-11) and unique")
    func orgNumber() async throws {
        try await withTestApp { app in
            // given
            let tree = try await IdentityFixtures.tree(app)
            let admin = try await IdentityFixtures.signedIn(app, email: "platform@test.no", roles: [(.platformAdmin, nil)])

            // when: a bad check digit
            let bad = try await API.send(
                app, .POST, "/api/v1/organizations", as: admin,
                json: #"{"name": "X", "kind": "national", "org_number": "923609017"}"#)
            // then
            #expect(bad.status == .badRequest)
            #expect(bad.problemCode == "validation_failed")
            #expect(bad.problemFields == ["/org_number"])

            // when: a valid number, twice
            let first = try await API.send(
                app, .POST, "/api/v1/organizations", as: admin,
                json: #"{"name": "A", "kind": "national", "org_number": "923609016"}"#)
            let second = try await API.send(
                app, .POST, "/api/v1/organizations", as: admin,
                json: #"{"name": "B", "kind": "national", "org_number": "923609016"}"#)
            // then
            #expect(first.status == .created)
            #expect(second.status == .conflict)
            #expect(second.problemCode == "conflict")

            // when: updating another organisation to the taken number
            let taken = try await API.send(
                app, .PATCH, "/api/v1/organizations/\(tree.regionA.apiID)", as: admin,
                json: #"{"org_number": "923609016"}"#)
            // then
            #expect(taken.status == .conflict)
        }
    }

    @Test("lists only organisations within reach, with filters")
    func listsWithinReach() async throws {
        try await withTestApp { app in
            // given
            let tree = try await IdentityFixtures.tree(app)
            try await IdentityFixtures.organization(app, "ØSTFOLD lokallag", kind: .local, parent: tree.regionB)
            let coordinator = try await IdentityFixtures.signedIn(
                app, email: "coord@test.no", roles: [(.coordinator, tree.regionA)])
            let national = try await IdentityFixtures.signedIn(
                app, email: "national@test.no", roles: [(.nationalAdmin, tree.national)])
            let platform = try await IdentityFixtures.signedIn(app, email: "platform@test.no", roles: [(.platformAdmin, nil)])
            func names(_ caller: SignedIn, _ query: String = "") async throws -> [String] {
                let response = try await API.send(app, .GET, "/api/v1/organizations" + query, as: caller)
                #expect(response.status == .ok, "\(response.text)")
                return try response.decode(Page.self).items.map(\.name)
            }

            // then: rights flow down, never up or sideways
            #expect(try await names(coordinator) == ["Bodø lokallag", "Region Nord", "Tromsø lokallag"])
            #expect(try await names(national).count == 7)
            #expect(try await names(platform).count == 10)
            // filters
            #expect(try await names(national, "?kind=regional") == ["Region Nord", "Region Vest"])
            #expect(try await names(national, "?parent_id=\(tree.regionA.apiID)") == ["Bodø lokallag", "Tromsø lokallag"])
            #expect(try await names(platform, "?kind=national") == ["Annet Forbund", "Norges Testforbund"])
            // case-insensitive substring, also for Norwegian letters, on both engines
            #expect(try await names(national, "?q=TROMS%C3%98") == ["Tromsø lokallag"])
            #expect(try await names(national, "?q=%C3%B8stfold") == ["ØSTFOLD lokallag"])
            #expect(try await names(national, "?q=LOKAL").count == 4)
            // LIKE wildcards in q are literal
            #expect(try await names(national, "?q=%25") == [])
            #expect(try await names(national, "?q=_") == [])
            // status
            tree.regionB.status = .suspended
            try await tree.regionB.save(on: app.db)
            #expect(try await names(platform, "?status=suspended") == ["Region Vest"])
        }
    }

    @Test("cursor pagination visits every organisation exactly once, by name")
    func paginates() async throws {
        try await withTestApp { app in
            // given: equal names force the id tie-break
            let tree = try await IdentityFixtures.tree(app)
            for _ in 0..<3 {
                try await IdentityFixtures.organization(app, "Samme navn", kind: .local, parent: tree.regionA)
            }
            let platform = try await IdentityFixtures.signedIn(app, email: "platform@test.no", roles: [(.platformAdmin, nil)])
            let all = try await API.send(app, .GET, "/api/v1/organizations?limit=200", as: platform)
                .decode(Page.self).items

            // when
            var seen: [OrganizationView] = []
            var cursor: String?
            repeat {
                let page = try await API.send(
                    app, .GET, "/api/v1/organizations?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), as: platform
                ).decode(Page.self)
                #expect(page.items.count <= 2)
                seen += page.items
                cursor = page.nextCursor
            } while cursor != nil && seen.count < 100

            // then
            #expect(seen == all)
            #expect(seen.count == 12)
            #expect(Set(seen.map(\.id)).count == 12)
            #expect(seen.map(\.name) == seen.map(\.name).sorted())
            // a forged cursor is refused
            let forged = try await API.send(app, .GET, "/api/v1/organizations?cursor=bm9wZQ", as: platform)
            #expect(forged.status == .badRequest)
            #expect(forged.problemCode == "invalid_cursor")
        }
    }

    @Test("reading an organisation: own tree yes, another tenant 404")
    func getsWithinReach() async throws {
        try await withTestApp { app in
            // given
            let tree = try await IdentityFixtures.tree(app)
            let mentor = try await IdentityFixtures.signedIn(
                app, email: "mentor@test.no", roles: [(.peerMentor, tree.chapterA1)])

            // when / then
            let own = try await API.send(app, .GET, "/api/v1/organizations/\(tree.chapterA1.apiID)", as: mentor)
            #expect(own.status == .ok)
            #expect(try own.decode(OrganizationView.self).name == "Tromsø lokallag")
            for outside in [tree.regionA, tree.chapterA2, tree.other, tree.otherChapter] {
                let response = try await API.send(app, .GET, "/api/v1/organizations/\(outside.apiID)", as: mentor)
                #expect(response.status == .notFound, "\(outside.name)")
            }
            let missing = try await API.send(app, .GET, "/api/v1/organizations/\(UUID().api)", as: mentor)
            #expect(missing.status == .notFound)
        }
    }

    @Test("updates name, number and settings; null clears; the audit names the changed fields only")
    func updates() async throws {
        try await withTestApp { app in
            // given
            let tree = try await IdentityFixtures.tree(app)
            tree.chapterA1.orgNumber = "923609016"
            tree.chapterA1.expenseAutoApprovalLimitOre = 10_000
            try await tree.chapterA1.save(on: app.db)
            let admin = try await IdentityFixtures.signedIn(app, email: "admin@test.no", roles: [(.orgAdmin, tree.regionA)])
            let path = "/api/v1/organizations/\(tree.chapterA1.apiID)"

            // when: rename, keep the number (absent), change one setting, leave the limit (absent)
            let renamed = try await API.send(
                app, .PATCH, path, as: admin,
                json: #"{"name": "Tromsø og omegn", "settings": {"mileage_rate_kind": "tax_free"}}"#)

            // then
            #expect(renamed.status == .ok, "\(renamed.text)")
            let view = try renamed.decode(OrganizationView.self)
            #expect(view.name == "Tromsø og omegn")
            #expect(view.orgNumber == "923609016")
            #expect(view.settings.mileageRateKind == .taxFree)
            #expect(view.settings.expenseAutoApprovalLimitOre == 10_000)

            // when: explicit nulls clear
            let cleared = try await API.send(
                app, .PATCH, path, as: admin,
                json: #"{"org_number": null, "settings": {"expense_auto_approval_limit_ore": null}}"#)

            // then
            #expect(cleared.status == .ok)
            let clearedView = try cleared.decode(OrganizationView.self)
            #expect(clearedView.orgNumber == nil)
            #expect(clearedView.settings.expenseAutoApprovalLimitOre == nil)
            let stored = try #require(try await Organization.find(tree.chapterA1.id, on: app.db))
            #expect(stored.orgNumber == nil)
            #expect(stored.expenseAutoApprovalLimitOre == nil)
            #expect(stored.name == "Tromsø og omegn")

            // when: nothing actually changes
            let unchanged = try await API.send(app, .PATCH, path, as: admin, json: #"{"name": "Tromsø og omegn"}"#)
            #expect(unchanged.status == .ok)

            // then: two audit entries, each naming only what changed
            let audit = try await AuditLogEntry.query(on: app.db).filter(\.$action == "organization.updated")
                .sort(\.$sequence).all()
            #expect(audit.count == 2)
            #expect(
                audit.map(\.metadata) == [
                    #"{"fields":"name,settings.mileage_rate_kind"}"#,
                    #"{"fields":"org_number,settings.expense_auto_approval_limit_ore"}"#,
                ])
            // a bad number is refused
            let bad = try await API.send(app, .PATCH, path, as: admin, json: #"{"org_number": "123456789"}"#)
            #expect(bad.status == .badRequest)
            #expect(bad.problemFields == ["/org_number"])
            // a coordinator may read but not update: 403; a sibling region's admin: 404
            let coordinator = try await IdentityFixtures.signedIn(
                app, email: "coord@test.no", roles: [(.coordinator, tree.chapterA1)])
            #expect(try await API.send(app, .PATCH, path, as: coordinator, json: #"{"name": "X"}"#).status == .forbidden)
            let sibling = try await IdentityFixtures.signedIn(app, email: "sib@test.no", roles: [(.orgAdmin, tree.regionB)])
            #expect(try await API.send(app, .PATCH, path, as: sibling, json: #"{"name": "X"}"#).status == .notFound)
        }
    }

    @Test("suspends and reactivates; a repeat is 409; the reason is audited")
    func suspendsAndReactivates() async throws {
        try await withTestApp { app in
            // given
            let tree = try await IdentityFixtures.tree(app)
            let platform = try await IdentityFixtures.signedIn(app, email: "platform@test.no", roles: [(.platformAdmin, nil)])
            let mentor = try await IdentityFixtures.signedIn(app, email: "m@test.no", roles: [(.peerMentor, tree.chapterA1)])
            let suspend = "/api/v1/organizations/\(tree.national.apiID)/suspend"
            let reactivate = "/api/v1/organizations/\(tree.national.apiID)/reactivate"

            // when
            let suspended = try await API.send(
                app, .POST, suspend, as: platform, json: #"{"reason": "Unpaid invoices"}"#)
            let again = try await API.send(app, .POST, suspend, as: platform, json: #"{"reason": "Again"}"#)

            // then
            #expect(suspended.status == .ok)
            #expect(try suspended.decode(OrganizationView.self).status == .suspended)
            #expect(again.status == .conflict)
            // members of a suspended tenant are refused
            let read = try await API.send(app, .GET, "/api/v1/organizations/\(tree.chapterA1.apiID)", as: mentor)
            #expect(read.status == .forbidden)

            // when
            let reactivated = try await API.send(app, .POST, reactivate, as: platform)
            let reactivatedAgain = try await API.send(app, .POST, reactivate, as: platform)

            // then
            #expect(reactivated.status == .ok)
            #expect(try reactivated.decode(OrganizationView.self).status == .active)
            #expect(reactivatedAgain.status == .conflict)
            #expect(try await API.send(app, .GET, "/api/v1/organizations/\(tree.chapterA1.apiID)", as: mentor).status == .ok)
            let audit = try await AuditLogEntry.query(on: app.db)
                .filter(\.$action ~~ ["organization.suspended", "organization.reactivated"]).sort(\.$sequence).all()
            #expect(audit.map(\.action) == ["organization.suspended", "organization.reactivated"])
            #expect(audit.first?.metadata == #"{"reason":"Unpaid invoices"}"#)
        }
    }

    @Test("a national admin suspends a region of their tenant; others may not")
    func nationalAdminSuspendsRegion() async throws {
        try await withTestApp { app in
            // given
            let tree = try await IdentityFixtures.tree(app)
            let national = try await IdentityFixtures.signedIn(
                app, email: "n@test.no", roles: [(.nationalAdmin, tree.national)])
            let orgAdmin = try await IdentityFixtures.signedIn(app, email: "o@test.no", roles: [(.orgAdmin, tree.regionA)])
            let foreign = try await IdentityFixtures.signedIn(app, email: "f@test.no", roles: [(.nationalAdmin, tree.other)])
            let path = "/api/v1/organizations/\(tree.regionA.apiID)/suspend"

            // when / then
            #expect(try await API.send(app, .POST, path, as: orgAdmin, json: #"{"reason": "x"}"#).status == .forbidden)
            #expect(try await API.send(app, .POST, path, as: foreign, json: #"{"reason": "x"}"#).status == .notFound)
            let suspended = try await API.send(app, .POST, path, as: national, json: #"{"reason": "Closed down"}"#)
            #expect(suspended.status == .ok)
            #expect(try await Organization.find(tree.regionA.id, on: app.db)?.status == .suspended)

            // Lifting it again is theirs too: they hold organizations.suspend above the suspended region; the
            // region's own admin is inside the suspended branch and may not.
            #expect(
                try await API.send(app, .POST, "/api/v1/organizations/\(tree.regionA.apiID)/reactivate", as: orgAdmin)
                    .status == .forbidden)
            let reactivated = try await API.send(
                app, .POST, "/api/v1/organizations/\(tree.regionA.apiID)/reactivate", as: national)
            #expect(reactivated.status == .ok)
            #expect(try await Organization.find(tree.regionA.id, on: app.db)?.status == .active)
        }
    }

    @Test("two racing suspensions: exactly one succeeds")
    func racingSuspensions() async throws {
        try await withTestApp(configure: { $0.passwordHashCost = 4 }) { app in
            // given
            let tree = try await IdentityFixtures.tree(app)
            let platform = try await IdentityFixtures.signedIn(app, email: "platform@test.no", roles: [(.platformAdmin, nil)])
            try await app.server.start(address: .hostname("127.0.0.1", port: 0))
            let port = try #require(app.http.server.shared.localAddress?.port)

            // when
            let statuses = try await withThrowingTaskGroup(of: HTTPStatus.self) { group in
                for _ in 0..<10 {
                    group.addTask {
                        try await API.send(
                            app.client, port: port, .POST, "/api/v1/organizations/\(tree.other.apiID)/suspend",
                            as: platform, json: #"{"reason": "race"}"#
                        ).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            await app.server.shutdown()

            // then
            #expect(statuses.filter { $0 == .ok }.count == 1)
            #expect(statuses.filter { $0 == .conflict }.count == 9)
            #expect(try await AuditLogEntry.query(on: app.db).filter(\.$action == "organization.suspended").count() == 1)
        }
    }
}

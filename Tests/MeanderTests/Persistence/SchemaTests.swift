import Fluent
import FluentSQL
import Foundation
import PostgresNIO
import SQLiteNIO
import Testing

@testable import Meander

/// The schema that `MigrationList` builds: every table, index, constraint and seed, on the engine of the run
/// (`MEANDER_TEST_DB`), and a clean revert.
@Suite("Schema")
struct SchemaTests {
    // MARK: - Tables, indexes, seeds

    @Test("migrating creates every table and named index")
    func migrationCreatesEveryTableAndIndex() async throws {
        try await withTestApp { app in
            // given
            let database = try app.db.sqlDatabase()

            // when
            let tables = try await Catalog.tables(on: database)
            let indexes = try await Catalog.indexes(on: database)

            // then
            let missingTables = Expected.tables.subtracting(tables)
            #expect(missingTables.isEmpty, "missing tables: \(missingTables.sorted())")
            let missingIndexes = Set(Expected.indexes.map(\.name)).subtracting(indexes)
            #expect(missingIndexes.isEmpty, "missing indexes: \(missingIndexes.sorted())")
        }
    }

    @Test("the global activity taxonomy and mileage rates are seeded")
    func globalReferenceDataIsSeeded() async throws {
        try await withTestApp { app in
            // given
            let expectedKeys: Set = [
                "home_visit", "phone_call", "video_call", "group_meeting", "escort_to_appointment",
                "information_stand", "course_day", "mentor_training", "event_participation", "digital_message",
            ]

            // when
            let types = try await ActivityType.query(on: app.db).filter(\.$organization.$id == nil).all()
            let rates = try await MileageRate.query(on: app.db).filter(\.$organization.$id == nil).all()

            // then
            #expect(Set(types.map(\.key)) == expectedKeys)
            #expect(types.count == expectedKeys.count)
            #expect(types.allSatisfy { !$0.nameNb.isEmpty && !$0.nameEn.isEmpty && $0.isActive })
            #expect(Set(types.map(\.sortOrder)).count == types.count, "sort orders are distinct")
            let homeVisit = try #require(types.first { $0.key == "home_visit" })
            #expect(homeVisit.bufdirCategory == .oneToOne)
            #expect(homeVisit.nameNb == "Hjemmebesøk")
            #expect(types.first { $0.key == "group_meeting" }?.bufdirCategory == .group)
            #expect(types.first { $0.key == "digital_message" }?.reportable == false)

            let state2026 = rates.first { $0.kind == .state && $0.validFrom == "2026-01-01" }
            #expect(state2026?.orePerKm == 530)
            #expect(rates.first { $0.kind == .state && $0.validFrom == "2025-01-01" }?.orePerKm == 500)
            #expect(rates.first { $0.kind == .taxFree }?.orePerKm == 350)
            #expect(rates.first { $0.kind == .passenger }?.orePerKm == 100)
        }
    }

    @Test("every model saves to and loads from its table")
    func everyModelRoundTrips() async throws {
        try await withTestApp { app in
            // given
            let fixture = try await SchemaFixture.make(on: app.db)

            // when
            let user = try #require(try await User.find(fixture.mentor, on: app.db))
            let organization = try #require(try await Organization.find(fixture.organization, on: app.db))
            let contact = try #require(try await Contact.find(fixture.contact, on: app.db))
            let activity = try #require(try await Activity.find(fixture.activity, on: app.db))
            let item = try #require(try await ExpenseItem.find(fixture.expenseItem, on: app.db))
            let preference = try #require(
                try await NotificationPreference.query(on: app.db).filter(\.$user.$id == fixture.mentor).first())
            let enrollment = try #require(
                try await CourseEnrollment.query(on: app.db).with(\.$certificate)
                    .filter(\.$id == fixture.enrollment).first())
            let claim = try #require(
                try await ExpenseClaim.query(on: app.db).with(\.$items).filter(\.$id == fixture.claim).first())

            // then every table got a row, and every model decodes what it wrote
            #expect(Set(fixture.rows.keys) == Expected.tables, "the fixture covers every table")
            for (schema, id) in fixture.rows.sorted(by: { $0.key < $1.key }) {
                let found = try await Catalog.rowExists(in: schema, id: id, on: app.db.sqlDatabase())
                #expect(found, "row in \(schema)")
            }
            try await SchemaFixture.loadEveryModel(fixture, on: app.db)

            #expect(user.email == "kari.nordmann@example.no")
            #expect(user.locale == .nb && user.timeZone == "Europe/Oslo" && user.failedLoginCount == 0)
            #expect(organization.enabledProducts == [.mobile, .adminPortal])
            #expect(organization.evidenceActivityTypeKeys == ["group_meeting"])
            #expect(organization.$parent.id == fixture.nationalOrganization)
            #expect(contact.needsCiphertext == Data([1, 2, 3]))
            #expect(contact.keyVersion == 1)
            #expect(activity.countryCode == "NO")
            #expect(activity.$registeredBy.id == fixture.coordinator)
            #expect(activity.channel == .inPerson)
            #expect(item.kind == .mileage && item.amountOre == 7_200 && item.incurredOn == "2025-03-14")
            #expect(preference.scenarioOverrides == [.eventReminder: [.push]])
            #expect(enrollment.certificate?.id == fixture.certificate)
            #expect(claim.items.map(\.id) == [fixture.expenseItem])
        }
    }

    // MARK: - Constraints

    @Test("foreign keys reject rows whose parent does not exist")
    func foreignKeysRejectMissingParents() async throws {
        try await withTestApp { app in
            // given
            let fixture = try await SchemaFixture.make(on: app.db)
            let nowhere = UUID()

            // when / then
            await expectViolation(.foreignKey, "contact in a missing organisation") {
                try await Contact(organizationID: nowhere, firstName: "Ola", lastName: "Hansen").create(on: app.db)
            }
            await expectViolation(.foreignKey, "activity of a missing type") {
                try await Activity(
                    organizationID: fixture.organization, mentorID: fixture.mentor, activityTypeID: nowhere,
                    occurredAt: Date(), durationMinutes: 30
                ).create(on: app.db)
            }
            await expectViolation(.foreignKey, "refresh token of a missing session") {
                try await RefreshToken(
                    sessionID: nowhere, tokenHash: String(repeating: "f", count: 64), expiresAt: Date()
                ).create(on: app.db)
            }
            await expectViolation(.foreignKey, "organisation below a missing parent") {
                try await Organization(name: "Orphan", kind: .local, parentID: nowhere).create(on: app.db)
            }
        }
    }

    @Test("deletes restrict, cascade or clear references as designed")
    func deleteRules() async throws {
        try await withTestApp { app in
            // given
            let fixture = try await SchemaFixture.make(on: app.db)
            let database = try app.db.sqlDatabase()

            // when deleting an organisation that still owns contacts and activities
            // then it is refused
            await expectViolation(.foreignKey, "organisation with tenant data") {
                try await database.delete(from: Organization.schema)
                    .where("id", .equal, SQLBind(fixture.organization)).run()
            }

            // when deleting a session
            try await database.delete(from: Meander.Session.schema).where("id", .equal, SQLBind(fixture.session)).run()
            // then its refresh tokens go with it
            #expect(try await RefreshToken.query(on: app.db).filter(\.$session.$id == fixture.session).count() == 0)

            // when deleting the badge's award (a user-owned row) and then the referral's creator's notification
            try await database.delete(from: Badge.schema).where("id", .equal, SQLBind(fixture.badge)).run()
                .map { Issue.record("deleting an awarded badge should be restricted") }
        }
    }
}

import Fluent
import FluentSQL
import Foundation
import PostgresNIO
import SQLiteNIO
import Testing

@testable import Meander

/// The schema `MigrationList` builds, on the engine of the run (`MEANDER_TEST_DB`): every table, index, seed and
/// constraint, and a clean revert.
@Suite("Schema")
struct SchemaTests {
    // MARK: - Tables, indexes, seeds, models

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
            #expect(types.count == expectedKeys.count)
            #expect(Set(types.map(\.key)) == expectedKeys)
            #expect(types.allSatisfy { !$0.nameNb.isEmpty && !$0.nameEn.isEmpty && $0.isActive })
            #expect(Set(types.map(\.sortOrder)).count == types.count, "sort orders are distinct")
            let homeVisit = try #require(types.first { $0.key == "home_visit" })
            #expect(homeVisit.bufdirCategory == .oneToOne)
            #expect(homeVisit.nameNb == "Hjemmebesøk")
            #expect(homeVisit.nameEn == "Home visit")
            #expect(types.first { $0.key == "group_meeting" }?.bufdirCategory == .group)
            #expect(types.first { $0.key == "group_meeting" }?.requiresEvidence == true)
            #expect(types.first { $0.key == "digital_message" }?.reportable == false)

            #expect(rates.count == 4)
            #expect(rates.first { $0.kind == .state && $0.validFrom == "2025-01-01" }?.orePerKm == 500)
            #expect(rates.first { $0.kind == .state && $0.validFrom == "2026-01-01" }?.orePerKm == 530)
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

            // then every table got a row and every model reads back what it wrote
            #expect(Set(fixture.rows.keys) == Expected.tables, "the fixture covers every table")
            try await SchemaFixture.loadEveryModel(fixture, on: app.db)

            #expect(user.email == "kari.nordmann@example.no")
            #expect(user.locale == .nb && user.timeZone == "Europe/Oslo" && user.failedLoginCount == 0)
            #expect(user.externalIdentities == [.init(provider: .bankID, subject: "bankid-123")])
            #expect(organization.enabledProducts == [.mobile, .adminPortal])
            #expect(organization.evidenceActivityTypeKeys == ["group_meeting"])
            #expect(organization.$parent.id == fixture.nationalOrganization)
            #expect(contact.needsCiphertext == Data([1, 2, 3]))
            #expect(contact.keyVersion == 1)
            #expect(activity.countryCode == "NO")
            #expect(activity.$registeredBy.id == fixture.coordinator)
            #expect(activity.channel == .inPerson)
            #expect(activity.countsForBufdir)
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
            await expectViolation(.foreignKey, "expense item of a missing claim") {
                try await ExpenseItem(
                    organizationID: fixture.organization, claimID: nowhere, kind: .toll, incurredOn: "2025-03-14",
                    amountOre: 4_200
                ).create(on: app.db)
            }
        }
    }

    @Test("deleting a parent restricts, cascades or clears as designed")
    func deleteRules() async throws {
        try await withTestApp { app in
            // given
            let fixture = try await SchemaFixture.make(on: app.db)
            let database = try app.db.sqlDatabase()
            let granter = User(email: "granter@example.no", firstName: "Per", lastName: "Berg", status: .active)
            try await granter.create(on: app.db)
            let granterID = try granter.requireID()
            let grant = UserRole(
                userID: fixture.coordinator, organizationID: fixture.organization, role: .coordinator,
                grantedByID: granterID)
            try await grant.create(on: app.db)
            try await Session(userID: granterID, expiresAt: Date().addingTimeInterval(3_600)).create(on: app.db)

            // when / then: tenant data and awarded badges keep their parents
            await expectViolation(.foreignKey, "deleting an organisation that owns data") {
                try await database.delete(from: "organizations").where("id", .equal, SQLBind(fixture.organization))
                    .run()
            }
            await expectViolation(.foreignKey, "deleting a national organisation with chapters") {
                try await database.delete(from: "organizations")
                    .where("id", .equal, SQLBind(fixture.nationalOrganization)).run()
            }
            await expectViolation(.foreignKey, "deleting an awarded badge") {
                try await database.delete(from: "badges").where("id", .equal, SQLBind(fixture.badge)).run()
            }

            // when: a session goes, its refresh tokens go with it
            try await database.delete(from: "sessions").where("id", .equal, SQLBind(fixture.session)).run()
            // then
            #expect(try await RefreshToken.query(on: app.db).filter(\.$session.$id == fixture.session).count() == 0)

            // when: a user goes, their sessions go and grants they made lose the granter
            try await database.delete(from: "users").where("id", .equal, SQLBind(granterID)).run()
            // then
            #expect(try await Session.query(on: app.db).filter(\.$user.$id == granterID).count() == 0)
            let reloaded = try #require(try await UserRole.find(grant.requireID(), on: app.db))
            #expect(reloaded.$grantedBy.id == nil)
        }
    }

    @Test("user emails are unique regardless of case")
    func userEmailIsUniqueIgnoringCase() async throws {
        try await withTestApp { app in
            // given
            let fixture = try await SchemaFixture.make(on: app.db)
            let database = try app.db.sqlDatabase()

            // when / then: the model normalises, so a differently written address collides
            let twin = User(email: "  KARI.Nordmann@Example.NO ", firstName: "Kari", lastName: "Nordmann")
            #expect(twin.email == "kari.nordmann@example.no")
            await expectViolation(.unique, "the same address in other letters") {
                try await twin.create(on: app.db)
            }
            // and a writer that bypasses the model cannot store a mixed-case copy either
            await expectViolation(.check, "an email that is not lowercase") {
                try await database.insert(into: "users")
                    .columns(
                        "id", "email", "first_name", "last_name", "locale", "time_zone", "status",
                        "failed_login_count", "external_identities"
                    )
                    .values(
                        SQLBind(UUID()), SQLBind("Kari.Nordmann@Example.no"), SQLBind("Kari"),
                        SQLBind("Nordmann"), SQLBind("nb"), SQLBind("Europe/Oslo"), SQLBind("active"),
                        SQLBind(0), SQLBind("[]")
                    )
                    .run()
            }
            #expect(try await User.query(on: app.db).filter(\.$email == "kari.nordmann@example.no").count() == 1)
            #expect(try await User.find(fixture.mentor, on: app.db)?.email == "kari.nordmann@example.no")
        }
    }

    @Test("unique constraints reject duplicates")
    func uniqueConstraintsRejectDuplicates() async throws {
        try await withTestApp { app in
            // given
            let f = try await SchemaFixture.make(on: app.db)
            let db = app.db

            // when / then
            await expectViolation(.unique, "organisation number") {
                try await Organization(name: "Twin", kind: .national, orgNumber: SchemaFixture.orgNumber).create(on: db)
            }
            await expectViolation(.unique, "membership of the same user in the same organisation") {
                try await OrganizationMembership(organizationID: f.organization, userID: f.mentor).create(on: db)
            }
            await expectViolation(.unique, "second live grant of the same role") {
                try await UserRole(userID: f.mentor, organizationID: f.organization, role: .peerMentor).create(on: db)
            }
            await expectViolation(.unique, "refresh token hash") {
                try await RefreshToken(sessionID: f.session, tokenHash: SchemaFixture.tokenHash, expiresAt: Date())
                    .create(on: db)
            }
            await expectViolation(.unique, "idempotency key of the same user") {
                try await IdempotencyKey(userID: f.mentor, key: "key-1", requestHash: "other", expiresAt: Date())
                    .create(on: db)
            }
            await expectViolation(.unique, "audit sequence number") {
                try await AuditLogEntry(
                    sequence: 1, createdAt: Date(), action: "auth.login", outcome: .success, client: .portal,
                    previousHash: AuditLogEntry.genesisHash, hash: String(repeating: "b", count: 64)
                ).create(on: db)
            }
            await expectViolation(.unique, "global activity type key") {
                try await ActivityType(key: "home_visit", nameNb: "Besøk", nameEn: "Visit", bufdirCategory: .oneToOne)
                    .create(on: db)
            }
            await expectViolation(.unique, "activity type key within one organisation") {
                try await ActivityType(
                    organizationID: f.organization, key: "hospital_visit", nameNb: "Besøk", nameEn: "Visit",
                    bufdirCategory: .oneToOne
                ).create(on: db)
            }
            await expectViolation(.unique, "client id of an activity in the same organisation") {
                try await Activity(
                    organizationID: f.organization, mentorID: f.mentor, activityTypeID: f.homeVisitType,
                    occurredAt: Date(), durationMinutes: 30, clientID: SchemaFixture.activityClientID
                ).create(on: db)
            }
            await expectViolation(.unique, "open assignment of the same mentor to the same contact") {
                try await ContactMentorAssignment(organizationID: f.organization, contactID: f.contact, mentorID: f.mentor)
                    .create(on: db)
            }
            await expectViolation(.unique, "second registration for the same event") {
                try await EventRegistration(organizationID: f.organization, eventID: f.event, userID: f.mentor)
                    .create(on: db)
            }
            await expectViolation(.unique, "second enrolment in the same course") {
                try await CourseEnrollment(organizationID: f.organization, courseID: f.course, userID: f.mentor)
                    .create(on: db)
            }
            await expectViolation(.unique, "second certificate from the same enrolment") {
                try await Certificate(
                    organizationID: f.organization, userID: f.mentor, courseID: f.course, enrollmentID: f.enrollment,
                    number: "NHF-2025-000002", verificationCode: "ZZZZ-ZZZZ-ZZZZ"
                ).create(on: db)
            }
            let other = CourseEnrollment(
                organizationID: f.organization, courseID: f.course, userID: f.coordinator, status: .completed)
            try await other.create(on: db)
            await expectViolation(.unique, "certificate verification code") {
                try await Certificate(
                    organizationID: f.organization, userID: f.coordinator, courseID: f.course,
                    enrollmentID: other.requireID(), number: "NHF-2025-000003",
                    verificationCode: SchemaFixture.verificationCode
                ).create(on: db)
            }
            await expectViolation(.unique, "referral code") {
                try await Referral(organizationID: f.organization, createdByID: f.coordinator, code: SchemaFixture.referralCode)
                    .create(on: db)
            }
            await expectViolation(.unique, "badge awarded twice") {
                try await UserBadge(userID: f.mentor, badgeID: f.badge).create(on: db)
            }
            await expectViolation(.unique, "second preference row of a user") {
                try await NotificationPreference(userID: f.mentor).create(on: db)
            }
            await expectViolation(.unique, "counting rule key within a reporting year") {
                try await BufdirCountingRule(
                    reportingYear: 2030, ruleKey: "group_activity", parameters: "{}", validFrom: "2030-01-01"
                ).create(on: db)
            }
        }
    }

    @Test("uniqueness is scoped: other organisations, global types and revoked grants do not collide")
    func uniquenessIsScoped() async throws {
        try await withTestApp { app in
            // given
            let f = try await SchemaFixture.make(on: app.db)
            let db = app.db
            let role = try #require(
                try await UserRole.query(on: db).filter(\.$user.$id == f.mentor).filter(\.$role == .peerMentor).first())

            // when
            try await Activity(
                organizationID: f.nationalOrganization, mentorID: f.mentor, activityTypeID: f.homeVisitType,
                occurredAt: Date(), durationMinutes: 30, clientID: SchemaFixture.activityClientID
            ).create(on: db)
            try await ActivityType(
                organizationID: f.nationalOrganization, key: "hospital_visit", nameNb: "Sykehusbesøk",
                nameEn: "Hospital visit", bufdirCategory: .oneToOne
            ).create(on: db)
            role.revokedAt = Date()
            try await role.save(on: db)
            try await UserRole(userID: f.mentor, organizationID: f.organization, role: .peerMentor).create(on: db)

            // then
            #expect(
                try await Activity.query(on: db).filter(\.$clientID == SchemaFixture.activityClientID).count() == 2)
            #expect(try await ActivityType.query(on: db).filter(\.$key == "hospital_visit").count() == 2)
            #expect(
                try await UserRole.query(on: db).filter(\.$user.$id == f.mentor).filter(\.$role == .peerMentor)
                    .count() == 2)
        }
    }

    @Test("required columns reject NULL")
    func requiredColumnsRejectNull() async throws {
        try await withTestApp { app in
            // These tests rewrite fixture rows in place; the audit table refuses that by design, so lift it here.
            try await AuditFixtures.disableAppendOnly(app)
            // given
            let f = try await SchemaFixture.make(on: app.db)
            let database = try app.db.sqlDatabase()
            let required: [(table: String, column: String)] = [
                ("organizations", "name"), ("users", "first_name"), ("sessions", "expires_at"),
                ("refresh_tokens", "token_hash"), ("contacts", "organization_id"), ("activities", "mentor_id"),
                ("activities", "occurred_at"), ("activity_types", "name_nb"), ("expense_claims", "claimant_id"),
                ("expense_items", "claim_id"), ("events", "starts_at"), ("certificates", "verification_code"),
                ("notifications", "title"), ("audit_log_entries", "action"), ("jobs", "run_at"),
                ("encrypted_dispatches", "recipient_id"), ("bufdir_export_audits", "duration_ms"),
            ]

            // when / then
            for (table, column) in required {
                let id = try #require(f.rows[table], "fixture row for \(table)")
                await expectViolation(.notNull, "\(table).\(column) = NULL") {
                    try await database.update(table).set(SQLColumn(column), to: SQLLiteral.null)
                        .where("id", .equal, SQLBind(id)).run()
                }
            }
            await expectViolation(.notNull, "an organisation inserted without a name") {
                try await database.insert(into: "organizations")
                    .columns(
                        "id", "kind", "status", "mileage_rate_kind", "enabled_products",
                        "evidence_activity_type_keys"
                    )
                    .values(
                        SQLBind(UUID()), SQLBind("local"), SQLBind("active"), SQLBind("state"), SQLBind("[]"),
                        SQLBind("[]")
                    )
                    .run()
            }
        }
    }

    @Test("every enumeration column accepts its cases and rejects anything else")
    func enumerationColumnsAreChecked() async throws {
        try await withTestApp { app in
            // These tests rewrite fixture rows in place; the audit table refuses that by design, so lift it here.
            try await AuditFixtures.disableAppendOnly(app)
            // given
            let f = try await SchemaFixture.make(on: app.db)
            let database = try app.db.sqlDatabase()

            // when / then
            for column in Expected.enumerations {
                let id = try #require(f.rows[column.table], "fixture row for \(column.table)")
                for value in column.values {
                    do {
                        try await database.update(column.table).set(column.column, to: value)
                            .where("id", .equal, SQLBind(id)).run()
                    } catch {
                        Issue.record("\(column.table).\(column.column) = '\(value)' was refused: \(String(reflecting: error))")
                    }
                }
                await expectViolation(.check, "\(column.table).\(column.column) = 'not_a_case'") {
                    try await database.update(column.table).set(column.column, to: "not_a_case")
                        .where("id", .equal, SQLBind(id)).run()
                }
            }
        }
    }

    @Test("CHECK constraints refuse inconsistent rows")
    func domainChecksRefuseInconsistentRows() async throws {
        try await withTestApp { app in
            // These tests rewrite fixture rows in place; the audit table refuses that by design, so lift it here.
            try await AuditFixtures.disableAppendOnly(app)
            // given
            let f = try await SchemaFixture.make(on: app.db)
            let database = try app.db.sqlDatabase()
            let refused: [(table: String, column: String, value: any SQLExpression, why: String)] = [
                ("expense_claims", "decided_by_id", SQLColumn("claimant_id"), "nobody decides their own claim"),
                ("user_roles", "organization_id", SQLLiteral.null, "only platform_admin is platform-wide"),
                ("expense_items", "distance_meters", SQLLiteral.null, "a mileage line needs a distance"),
                ("expense_items", "amount_ore", SQLBind(-1), "amounts are not negative"),
                ("events", "ends_at", SQLBind(f.eventStart.addingTimeInterval(-3_600)), "an event ends after it starts"),
                ("activities", "participant_count", SQLBind(0), "an activity has a participant"),
                ("activities", "duration_minutes", SQLBind(0), "an activity takes time"),
                ("activities", "country_code", SQLBind("NOR"), "country codes have two letters"),
                ("organizations", "org_number", SQLBind("12345"), "organisation numbers have nine digits"),
                ("organizations", "parent_id", SQLColumn("id"), "an organisation is not its own parent"),
                ("contacts", "birth_year", SQLBind(1_800), "birth years are plausible"),
                ("contacts", "municipality_code", SQLBind("50"), "municipality codes have four digits"),
                ("audit_log_entries", "hash", SQLBind("abc"), "hashes are hex SHA-256"),
                ("audit_log_entries", "sequence", SQLBind(0), "sequences start at 1"),
                ("notification_preferences", "quiet_hours_end", SQLLiteral.null, "quiet hours have both ends"),
                ("bufdir_reports", "status", SQLBind("finalized"), "a finalised report is frozen with its hash"),
                ("mileage_rates", "valid_to", SQLBind("2024-12-31"), "a rate period does not end before it starts"),
                ("events", "capacity", SQLBind(0), "capacity is positive"),
                ("jobs", "attempts", SQLBind(-1), "attempts are not negative"),
                ("bufdir_export_audits", "sha256", SQLLiteral.null, "a successful export has the hash of its file"),
            ]

            // when / then
            for rule in refused {
                let id = try #require(f.rows[rule.table], "fixture row for \(rule.table)")
                await expectViolation(.check, "\(rule.table).\(rule.column): \(rule.why)") {
                    try await database.update(rule.table).set(SQLColumn(rule.column), to: rule.value)
                        .where("id", .equal, SQLBind(id)).run()
                }
            }
        }
    }

    // MARK: - Revert

    @Test("reverting every migration leaves no application table or index, and the list migrates again")
    func revertIsClean() async throws {
        try await withTestApp { app in
            // given a migrated database holding a row in every table
            let database = try app.db.sqlDatabase()
            _ = try await SchemaFixture.make(on: app.db)

            // when
            try await app.autoRevert()

            // then
            let leftTables = try await Catalog.tables(on: database).subtracting([Catalog.fluentTable])
            #expect(leftTables.isEmpty, "tables left behind: \(leftTables.sorted())")
            let leftIndexes = try await Catalog.indexes(on: database)
            #expect(leftIndexes.isEmpty, "indexes left behind: \(leftIndexes.sorted())")

            // and when migrating and reverting once more
            try await app.autoMigrate()
            let again = try await Catalog.tables(on: database)
            #expect(Expected.tables.isSubset(of: again))
            #expect(try await ActivityType.query(on: app.db).count() == 10)
            try await app.autoRevert()
            #expect(try await Catalog.tables(on: database).subtracting([Catalog.fluentTable]).isEmpty)
        }
    }
}

// MARK: - Expectations

/// What the schema must contain, written out here rather than derived from the models, so that a renamed table
/// or a lost enumeration fails a test.
private enum Expected {
    static let tables: Set<String> = [
        "organizations", "organization_memberships", "user_roles", "users", "sessions", "refresh_tokens",
        "contacts", "activity_types", "activities", "activity_attachments", "encrypted_dispatches",
        "expense_claims", "expense_items", "receipts", "confidentiality_declarations", "events",
        "event_registrations", "courses", "course_enrollments", "certificates", "badges", "user_badges",
        "referrals", "notifications", "notification_preferences", "bufdir_reports", "bufdir_export_audits",
        "audit_log_entries",
        // support tables
        "contact_mentor_assignments", "idempotency_keys", "jobs", "bufdir_counting_rules", "mileage_rates",
    ]

    static var indexes: [SchemaIndex] {
        CreateOrganization.indexes + CreateOrganizationMembership.indexes + CreateUserRole.indexes
            + CreateSession.indexes + CreateRefreshToken.indexes + CreateIdempotencyKey.indexes
            + CreateAuditLogEntry.indexes + CreateContact.indexes + CreateContactMentorAssignment.indexes
            + CreateActivityType.indexes + CreateEvent.indexes + CreateEventRegistration.indexes
            + CreateActivity.indexes + CreateActivityAttachment.indexes + CreateEncryptedDispatch.indexes
            + CreateMileageRate.indexes + CreateExpenseClaim.indexes + CreateExpenseItem.indexes
            + CreateReceipt.indexes + CreateConfidentialityDeclaration.indexes + CreateCourse.indexes
            + CreateCourseEnrollment.indexes + CreateCertificate.indexes + CreateReferral.indexes
            + CreateNotification.indexes + UpdateBufdirReportingForExports.indexes + CreateJob.indexes
    }

    struct Enumeration {
        let table: String
        let column: String
        /// Valid values to write, chosen so that no other constraint of the row objects.
        let values: [String]
    }

    static let enumerations: [Enumeration] = [
        .init(table: "organizations", column: "kind", values: ["regional", "local"]),
        .init(table: "organizations", column: "status", values: ["suspended", "active"]),
        .init(table: "organizations", column: "mileage_rate_kind", values: ["tax_free", "state"]),
        .init(table: "users", column: "locale", values: ["nn", "en", "nb"]),
        .init(table: "users", column: "status", values: ["pending", "suspended", "deleted", "active"]),
        .init(table: "organization_memberships", column: "status", values: ["invited", "paused", "ended", "active"]),
        .init(table: "user_roles", column: "role", values: ["coordinator", "org_admin", "national_admin", "peer_mentor"]),
        .init(table: "sessions", column: "auth_method", values: ["id_porten", "bankid", "vipps", "api_token", "password"]),
        .init(table: "sessions", column: "revoked_reason", values: ["logout", "refresh_token_reuse"]),
        .init(table: "audit_log_entries", column: "outcome", values: ["failure", "denied", "success"]),
        .init(table: "audit_log_entries", column: "client", values: ["mobile", "cli", "system", "api", "portal"]),
        .init(table: "contacts", column: "status", values: ["inactive", "archived", "active"]),
        .init(
            table: "activity_types", column: "bufdir_category",
            values: ["group", "course", "information", "event", "other", "one_to_one"]),
        .init(table: "events", column: "visibility", values: ["subtree", "organization"]),
        .init(table: "events", column: "status", values: ["draft", "cancelled", "completed", "published"]),
        .init(
            table: "event_registrations", column: "status",
            values: ["waitlisted", "cancelled", "attended", "no_show", "registered"]),
        .init(table: "activities", column: "status", values: ["draft", "approved", "rejected", "registered"]),
        .init(table: "activities", column: "channel", values: ["phone", "video", "digital", "in_person"]),
        .init(
            table: "activity_attachments", column: "kind",
            values: ["screenshot", "attendance_list", "photo", "other", "invitation"]),
        .init(table: "encrypted_dispatches", column: "status", values: ["read", "expired", "revoked", "sent"]),
        .init(table: "mileage_rates", column: "kind", values: ["tax_free", "passenger", "state"]),
        .init(
            table: "expense_claims", column: "status",
            values: ["draft", "approved", "rejected", "paid", "cancelled", "submitted"]),
        .init(table: "expense_claims", column: "decision_method", values: ["auto_rule", "manual"]),
        .init(table: "expense_items", column: "kind", values: ["mileage"]),
        .init(table: "confidentiality_declarations", column: "capacity", values: ["peer_mentor", "driver"]),
        .init(table: "confidentiality_declarations", column: "method", values: ["bankid", "paper", "in_app"]),
        .init(table: "courses", column: "status", values: ["draft", "cancelled", "completed", "published"]),
        .init(
            table: "course_enrollments", column: "status",
            values: ["enrolled", "waitlisted", "cancelled", "failed", "completed"]),
        .init(
            table: "badges", column: "rule_kind",
            values: ["courses_completed", "years_of_service", "manual", "activity_count"]),
        .init(table: "user_badges", column: "award_method", values: ["manual", "rule"]),
        .init(table: "referrals", column: "channel", values: ["link", "email", "sms", "social", "qr_code"]),
        .init(table: "notifications", column: "channel", values: ["email", "sms", "in_app", "push"]),
        .init(table: "notifications", column: "scenario", values: ["dispatch_received", "expense_approved"]),
        .init(
            table: "notifications", column: "status",
            values: ["scheduled", "sent", "delivered", "failed", "suppressed", "pending"]),
        .init(table: "bufdir_reports", column: "status", values: ["draft"]),
        .init(table: "bufdir_export_audits", column: "client", values: ["mobile", "cli", "api", "portal"]),
        .init(table: "bufdir_export_audits", column: "format", values: ["xlsx", "json", "zip", "csv"]),
        .init(table: "bufdir_export_audits", column: "result", values: ["failed", "succeeded"]),
        .init(table: "jobs", column: "status", values: ["running", "succeeded", "failed", "cancelled", "queued"]),
    ]
}

// MARK: - Catalog queries

/// Reads the engine's catalog.
private enum Catalog {
    static let fluentTable = "_fluent_migrations"

    static func tables(on database: any SQLDatabase) async throws -> Set<String> {
        let query: SQLQueryString =
            switch TestEngine.current {
            case .sqlite:
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            case .postgres:
                """
                SELECT table_name::text AS name FROM information_schema.tables
                WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
                """
            }
        return try await names(query, on: database)
    }

    /// Indexes of application tables (Fluent's own table excluded), including those behind unique constraints.
    static func indexes(on database: any SQLDatabase) async throws -> Set<String> {
        let query: SQLQueryString =
            switch TestEngine.current {
            case .sqlite:
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name <> '_fluent_migrations'"
            case .postgres:
                """
                SELECT indexname::text AS name FROM pg_indexes
                WHERE schemaname = current_schema() AND tablename <> '_fluent_migrations'
                """
            }
        return try await names(query, on: database)
    }

    private static func names(_ query: SQLQueryString, on database: any SQLDatabase) async throws -> Set<String> {
        let rows = try await database.raw(query).all()
        return Set(try rows.map { try $0.decode(column: "name", as: String.self) })
    }
}

// MARK: - Constraint violations

/// The kind of constraint a write broke, read from the engine's error.
private enum Violation: String, Sendable {
    case foreignKey = "foreign key"
    case unique
    case notNull = "not null"
    case check

    init?(_ error: any Error) {
        if let error = error as? SQLiteError {
            switch error.reason {
            case .constraintForeignKeyFailed: self = .foreignKey
            // SQLite reports an ON DELETE RESTRICT refusal through its internal foreign-key trigger.
            case .constraintTriggerFailed where error.message.contains("FOREIGN KEY"): self = .foreignKey
            case .constraintUniqueFailed, .constraintPrimaryKeyFailed: self = .unique
            case .constraintNotNullFailed: self = .notNull
            case .constraintCheckFailed: self = .check
            default: return nil
            }
        } else if let error = error as? PSQLError, let state = error.serverInfo?[.sqlState] {
            switch state {
            case "23503", "23001": self = .foreignKey
            case "23505": self = .unique
            case "23502": self = .notNull
            case "23514": self = .check
            default: return nil
            }
        } else {
            return nil
        }
    }
}

/// Expects `write` to fail with a violation of the `expected` kind.
private func expectViolation(
    _ expected: Violation,
    _ what: String,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ write: () async throws -> Void
) async {
    do {
        try await write()
        Issue.record(
            "\(what): the database accepted it, expected a \(expected.rawValue) violation",
            sourceLocation: sourceLocation)
    } catch {
        #expect(
            Violation(error) == expected, "\(what): expected a \(expected.rawValue) violation, got \(String(reflecting: error))",
            sourceLocation: sourceLocation)
    }
}

// MARK: - Fixture

/// One valid row in every table, built through the models' initialisers.
private struct SchemaFixture {
    static let orgNumber = "938644500"
    static let tokenHash = String(repeating: "a", count: 64)
    static let activityClientID = UUID()
    static let verificationCode = "K7QF-2MZX-9TRB"
    static let referralCode = "NHF-TRD-4821"

    /// Table name → id of its fixture row.
    var rows: [String: UUID] = [:]
    var nationalOrganization = UUID()
    var organization = UUID()
    var mentor = UUID()
    var coordinator = UUID()
    var session = UUID()
    var contact = UUID()
    var homeVisitType = UUID()
    var event = UUID()
    var eventStart = Date()
    var activity = UUID()
    var claim = UUID()
    var expenseItem = UUID()
    var course = UUID()
    var enrollment = UUID()
    var certificate = UUID()
    var badge = UUID()

    static func make(on db: any Database) async throws -> SchemaFixture {
        var f = SchemaFixture()
        func save<M: Model>(_ model: M) async throws -> UUID where M.IDValue == UUID {
            try await model.create(on: db)
            let id = try model.requireID()
            f.rows[M.schema] = id
            return id
        }
        let now = Date()
        let hex = String(repeating: "c", count: 64)

        f.nationalOrganization = try await save(
            Organization(name: "Norges Handikapforbund", kind: .national, orgNumber: orgNumber))
        f.organization = try await save(
            Organization(
                name: "NHF Trondheim", kind: .local, parentID: f.nationalOrganization,
                expenseAutoApprovalLimitOre: 50_000, evidenceActivityTypeKeys: ["group_meeting"]))
        f.coordinator = try await save(
            User(email: "coordinator@example.no", firstName: "Ingrid", lastName: "Lund", status: .active))
        f.mentor = try await save(
            User(
                email: "Kari.Nordmann@Example.no", firstName: "Kari", lastName: "Nordmann",
                passwordHash: "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA", phone: "+4791234567",
                status: .active, emailVerifiedAt: now,
                externalIdentities: [.init(provider: .bankID, subject: "bankid-123")]))
        _ = try await save(OrganizationMembership(organizationID: f.organization, userID: f.mentor))
        _ = try await save(
            UserRole(userID: f.mentor, organizationID: f.organization, role: .peerMentor, grantedByID: f.coordinator))
        f.session = try await save(
            Session(
                userID: f.mentor, organizationID: f.organization, userAgent: "Meander/1.0 iOS", ip: "10.0.0.7",
                expiresAt: now.addingTimeInterval(86_400)))
        _ = try await save(
            RefreshToken(sessionID: f.session, tokenHash: tokenHash, expiresAt: now.addingTimeInterval(3_600)))
        _ = try await save(
            IdempotencyKey(
                userID: f.mentor, key: "key-1", requestHash: hex, expiresAt: now.addingTimeInterval(86_400),
                responseStatus: 201, responseBody: Data("{}".utf8), responseHeaders: "{}"))
        _ = try await save(
            AuditLogEntry(
                sequence: 1, createdAt: now, action: "auth.login", outcome: .success, client: .mobile,
                actorUserID: f.mentor, sessionID: f.session, organizationID: f.organization,
                previousHash: AuditLogEntry.genesisHash, hash: hex))

        let contact = Contact(
            organizationID: f.organization, firstName: "Ola", lastName: "Hansen", birthYear: 1948,
            municipalityCode: "5001", countyCode: "50", consentGivenAt: now, consentScope: "registration",
            createdByID: f.coordinator)
        contact.needsCiphertext = Data([1, 2, 3])
        contact.keyVersion = 1
        f.contact = try await save(contact)
        _ = try await save(
            ContactMentorAssignment(
                organizationID: f.organization, contactID: f.contact, mentorID: f.mentor, assignedByID: f.coordinator))

        let homeVisit = try #require(
            try await ActivityType.query(on: db).filter(\.$organization.$id == nil).filter(\.$key == "home_visit")
                .first())
        f.homeVisitType = try homeVisit.requireID()
        _ = try await save(
            ActivityType(
                organizationID: f.organization, key: "hospital_visit", nameNb: "Sykehusbesøk",
                nameEn: "Hospital visit", bufdirCategory: .oneToOne, defaultDurationMinutes: 60, sortOrder: 200))

        f.eventStart = now.addingTimeInterval(7 * 86_400)
        f.event = try await save(
            Event(
                organizationID: f.organization, createdByID: f.coordinator, title: "Sommertreff",
                startsAt: f.eventStart, endsAt: f.eventStart.addingTimeInterval(3 * 3_600), capacity: 20,
                status: .published))
        _ = try await save(
            EventRegistration(
                organizationID: f.organization, eventID: f.event, userID: f.mentor, registeredByID: f.coordinator))

        let activity = Activity(
            organizationID: f.organization, mentorID: f.mentor, activityTypeID: f.homeVisitType,
            occurredAt: now.addingTimeInterval(-86_400), durationMinutes: 90, registeredByID: f.coordinator,
            contactID: f.contact, clientID: activityClientID, channel: .inPerson, municipalityCode: "5001",
            countsForBufdir: true)
        activity.summaryCiphertext = Data([9, 8, 7])
        activity.keyVersion = 1
        f.activity = try await save(activity)
        _ = try await save(
            ActivityAttachment(
                organizationID: f.organization, activityID: f.activity, uploadedByID: f.mentor,
                fileName: "invitasjon.pdf", mediaType: "application/pdf", sizeBytes: 12_345, sha256: hex,
                storageKey: "attachments/\(UUID().uuidString)", kind: .invitation))
        _ = try await save(
            EncryptedDispatch(
                organizationID: f.organization, senderID: f.coordinator, recipientID: f.mentor,
                expiresAt: now.addingTimeInterval(14 * 86_400), contactID: f.contact,
                payloadCiphertext: Data([4, 5, 6]), keyVersion: 1))

        _ = try await save(
            MileageRate(kind: .state, orePerKm: 450, validFrom: "2025-01-01", organizationID: f.organization))
        f.claim = try await save(
            ExpenseClaim(
                organizationID: f.organization, claimantID: f.mentor, title: "Kjøring mars", status: .submitted,
                totalOre: 7_200, submittedAt: now))
        f.expenseItem = try await save(
            ExpenseItem(
                organizationID: f.organization, claimID: f.claim, kind: .mileage, incurredOn: "2025-03-14",
                amountOre: 7_200, note: "Trondheim–Melhus t/r", distanceMeters: 12_000, passengerCount: 1,
                rateOrePerKm: 500, passengerRateOrePerKm: 100, fromPlace: "Trondheim", toPlace: "Melhus",
                activityID: f.activity))
        _ = try await save(
            Receipt(
                organizationID: f.organization, expenseItemID: f.expenseItem, uploadedByID: f.mentor,
                storageKey: "receipts/\(UUID().uuidString)", mediaType: "image/jpeg", sizeBytes: 2_048, sha256: hex,
                capturedAt: now.addingTimeInterval(-3_600), wasCompressed: true))
        _ = try await save(
            ConfidentialityDeclaration(
                organizationID: f.organization, userID: f.mentor, capacity: .driver, textVersion: "2025-01",
                validUntil: now.addingTimeInterval(365 * 86_400)))

        f.course = try await save(
            Course(
                organizationID: f.organization, title: "Grunnkurs for likepersoner",
                startsAt: now.addingTimeInterval(-30 * 86_400), endsAt: now.addingTimeInterval(-29 * 86_400),
                createdByID: f.coordinator, capacity: 12, status: .completed, certificateValidityMonths: 24))
        f.enrollment = try await save(
            CourseEnrollment(
                organizationID: f.organization, courseID: f.course, userID: f.mentor, status: .completed,
                enrolledByID: f.coordinator, completedAt: now.addingTimeInterval(-29 * 86_400)))
        f.certificate = try await save(
            Certificate(
                organizationID: f.organization, userID: f.mentor, courseID: f.course, enrollmentID: f.enrollment,
                number: "NHF-2025-000001", verificationCode: verificationCode,
                validUntil: now.addingTimeInterval(730 * 86_400)))

        f.badge = try await save(
            Badge(
                key: "first_activity", nameNb: "Første aktivitet", nameEn: "First activity", ruleKind: .activityCount,
                ruleThreshold: 1))
        _ = try await save(UserBadge(userID: f.mentor, badgeID: f.badge, reason: "Første aktivitet registrert"))
        _ = try await save(
            Referral(organizationID: f.organization, createdByID: f.coordinator, code: referralCode, channel: .qrCode))

        _ = try await save(
            Notification(
                userID: f.mentor, channel: .push, scenario: .expenseApproved, title: "Utlegg godkjent",
                body: "Utlegget ditt er godkjent.", organizationID: f.organization))
        _ = try await save(
            NotificationPreference(
                userID: f.mentor, quietHoursStart: "22:00", quietHoursEnd: "07:00",
                scenarioOverrides: [.eventReminder: [.push]]))

        // 2030: a year the migrations do not seed (SeedBufdirCountingRules covers 2024–2027).
        _ = try await save(
            BufdirCountingRule(
                reportingYear: 2030, ruleKey: "group_activity",
                parameters: #"{"min_minutes":45,"min_participants":3}"#, validFrom: "2030-01-01"))
        let report = try await save(
            BufdirReport(
                organizationID: f.organization, reportingYear: 2025, periodStart: "2025-01-01",
                periodEnd: "2025-12-31", createdByID: f.coordinator))
        let exported = BufdirExportAudit(
            client: .portal, result: .succeeded, durationMs: 120, actorUserID: f.coordinator,
            organizationID: f.organization, reportID: report, format: .csv, sizeBytes: 4_096, sha256: hex,
            rowCounts: #"{"activities":1}"#)
        exported.storageKey = BlobKey.export(organizationID: f.organization, exportID: UUID())
        exported.figures = #"{"totals.activities":1}"#
        exported.auditSequence = 1
        _ = try await save(exported)
        _ = try await save(Job(kind: "bufdir_export", organizationID: f.organization, requestedByID: f.coordinator))
        return f
    }

    /// Loads every fixture row through its model, which decodes every column.
    static func loadEveryModel(_ f: SchemaFixture, on db: any Database) async throws {
        func load<M: Model>(_ type: M.Type) async throws where M.IDValue == UUID {
            let id = try #require(f.rows[M.schema], "fixture row for \(M.schema)")
            #expect(try await M.find(id, on: db) != nil, "\(M.self) loads")
        }
        try await load(Organization.self)
        try await load(OrganizationMembership.self)
        try await load(UserRole.self)
        try await load(User.self)
        try await load(Session.self)
        try await load(RefreshToken.self)
        try await load(IdempotencyKey.self)
        try await load(AuditLogEntry.self)
        try await load(Contact.self)
        try await load(ContactMentorAssignment.self)
        try await load(ActivityType.self)
        try await load(Activity.self)
        try await load(ActivityAttachment.self)
        try await load(EncryptedDispatch.self)
        try await load(MileageRate.self)
        try await load(ExpenseClaim.self)
        try await load(ExpenseItem.self)
        try await load(Receipt.self)
        try await load(ConfidentialityDeclaration.self)
        try await load(Event.self)
        try await load(EventRegistration.self)
        try await load(Course.self)
        try await load(CourseEnrollment.self)
        try await load(Certificate.self)
        try await load(Badge.self)
        try await load(UserBadge.self)
        try await load(Referral.self)
        try await load(Notification.self)
        try await load(NotificationPreference.self)
        try await load(BufdirCountingRule.self)
        try await load(BufdirReport.self)
        try await load(BufdirExportAudit.self)
        try await load(Job.self)
    }
}

import Fluent
import Foundation
import Testing
import Vapor

@testable import Meander

@Suite("Demo data")
struct DemoDataTests {
    // MARK: Determinism

    @Test("The same seed writes the same rows; another seed writes other rows")
    func sameSeedSameData() async throws {
        // given
        let seed: UInt64 = 4_242

        // when
        let first = try await Self.loadSmall(seed: seed)
        let second = try await Self.loadSmall(seed: seed)
        let other = try await Self.loadSmall(seed: seed + 1)

        // then
        #expect(first.summary == second.summary)
        #expect(first.digests.keys.sorted() == DemoDigest.tables)
        for table in DemoDigest.tables {
            #expect(first.digests[table] == second.digests[table], "\(table) differs between two loads of one seed")
        }
        for table in ["organizations", "users", "contacts", "activities"] {
            #expect(first.digests[table] != other.digests[table], "\(table) is the same for another seed")
        }
    }

    // MARK: Coverage

    @Test("The small set has the tree, every role, every county, two years of activities and the demo logins")
    func smallSetCoverage() async throws {
        try await withTestApp { app in
            // given
            let db = app.db

            // when
            _ = try await DemoData.load(
                into: db, size: .small, seed: DemoDataGenerator.defaultSeed, logger: app.logger, progress: nil)

            // then: the organisation tree of the main tenant (the second tenant has its own test), with valid
            // organisation numbers
            let organizations = try await Organization.query(on: db).all()
            let nationals = organizations.filter { $0.kind == .national }
            #expect(Set(nationals.map(\.name)) == [DemoTenant.first.nationalName, DemoTenant.second.nationalName])
            let national = try #require(nationals.first(where: { $0.name == "Norges Handikapforbund" }))
            let regions = organizations.filter { $0.kind == .regional && $0.$parent.id == national.id }
            let chapters = organizations.filter { chapter in
                chapter.kind == .local && regions.contains { $0.id == chapter.$parent.id }
            }
            #expect(regions.count == 3)
            #expect(chapters.count == 6)
            for organization in organizations {
                let parent = organizations.first { $0.id == organization.$parent.id }
                let expected: Organization.Kind? =
                    switch organization.kind {
                    case .national: nil
                    case .regional: .national
                    case .local: .regional
                    }
                #expect(parent?.kind == expected, "\(organization.name) hangs under \(parent?.name ?? "nothing")")
            }
            for number in organizations.compactMap(\.orgNumber) {
                #expect(Self.isValidOrgNumber(number), "\(number) is not a valid organisation number")
            }
            #expect(national.orgNumber != nil)

            // every role
            let roles = try await UserRole.query(on: db).all()
            #expect(Set(roles.map(\.role)) == Set(UserRole.Role.allCases))
            #expect(roles.filter { $0.role == .platformAdmin }.allSatisfy { $0.$organization.id == nil })

            // contacts in real municipalities, in every county
            let contacts = try await Contact.query(on: db).all()
            #expect(contacts.filter { contact in chapters.contains { $0.id == contact.$organization.id } }.count == 300)
            for contact in contacts {
                let municipality = try #require(Municipalities.byCode[contact.municipalityCode ?? ""])
                #expect(contact.countyCode == municipality.countyCode)
            }
            #expect(Set(contacts.compactMap(\.countyCode)) == Set(Municipalities.counties.keys))

            // two calendar years of activities before the reference date, with the expected variety
            let activities = try await Activity.query(on: db).all()
            var utc = Calendar(identifier: .gregorian)
            utc.timeZone = TimeZone(identifier: "UTC")!
            #expect(Set(activities.map { utc.component(.year, from: $0.occurredAt) }) == [2025, 2026])
            #expect(activities.allSatisfy { $0.occurredAt < DemoCalendar.referenceDate })
            #expect(Set(activities.map(\.status)) == Set(Activity.Status.allCases))
            #expect(activities.contains { $0.countryCode != "NO" && !$0.countsForBufdir })
            #expect(activities.contains { $0.$contact.id == nil && $0.participantCount >= 3 })
            #expect(activities.contains { $0.$registeredBy.id != $0.$mentor.id })
            #expect(Set(activities.map(\.$activityType.id)).count >= 8)
            #expect(Set(activities.map(\.durationMinutes)).count > 10)
            let grants = Set(roles.filter { $0.role == .peerMentor }.map { "\($0.$user.id)/\($0.$organization.id!)" })
            #expect(activities.allSatisfy { grants.contains("\($0.$mentor.id)/\($0.$organization.id)") })

            // the fixed demo logins, with the demo password
            for login in DemoData.logins {
                let user = try #require(
                    try await User.query(on: db).filter(\.$email == login.email).first(), "\(login.email) is missing")
                #expect(user.status == .active)
                let held = Set(roles.filter { $0.$user.id == user.id && $0.revokedAt == nil }.map(\.role.rawValue))
                for role in login.role.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                    #expect(held.contains(role), "\(login.email) lacks \(role)")
                }
                let hash = try #require(user.passwordHash)
                #expect(PasswordHasher(cost: 10).verify(DemoData.password, against: hash))
            }
            let admin = try #require(try await User.query(on: db).filter(\.$email == "national_admin@demo.meander.no").first())
            #expect(roles.contains { $0.$user.id == admin.id && $0.role == .nationalAdmin && $0.$organization.id == national.id })
            let coordinatorChapter = try await Self.roleOrganization(email: "coordinator@demo.meander.no", .coordinator, db)
            let mentorChapter = try await Self.roleOrganization(email: "peer_mentor@demo.meander.no", .peerMentor, db)
            #expect(coordinatorChapter == mentorChapter)
            #expect(chapters.contains { $0.id == mentorChapter })
        }
    }

    // MARK: The second tenant

    @Test("A second, small tenant has its own tree, people, contacts and activities, and neither tenant reaches the other's")
    func secondTenant() async throws {
        try await withTestApp { app in
            // given
            let db = app.db
            _ = try await DemoData.load(
                into: db, size: .small, seed: DemoDataGenerator.defaultSeed, logger: app.logger, progress: nil)

            // when
            let main = try await DemoTenantRows.of("Norges Handikapforbund", db)
            let second = try await DemoTenantRows.of("Landsforeningen Hjerte og Pust", db)

            // then: a small tree of its own, people who belong to it alone, contacts assigned to its mentors
            #expect(second.organizations.count == 4, "the national organisation, a region and two chapters")
            #expect(second.organizations.filter { $0.kind == .local }.count == 2)
            #expect(second.organizations.filter { $0.kind == .local }.allSatisfy { $0.name.hasPrefix("Hjerte og Pust ") })
            #expect(main.organizations.count == 10)
            #expect(!second.members.isEmpty && second.members.isDisjoint(with: main.members))
            let grants = try await UserRole.query(on: db).all()
            let secondMentors = Set(
                grants.filter { $0.role == .peerMentor && second.organizationIDs.contains($0.$organization.id ?? UUID()) }
                    .map(\.$user.id))
            #expect(secondMentors.count >= 6 && secondMentors.isSubset(of: second.members))
            #expect(second.contacts.count == 40)
            let assignments = try await ContactMentorAssignment.query(on: db).all()
                .filter { second.contactIDs.contains($0.$contact.id) }
            #expect(assignments.count >= 30)
            #expect(assignments.allSatisfy { secondMentors.contains($0.$mentor.id) })

            // then: activities by its mentors, in its chapters, within the demo's time frame and nothing in the future
            let activities = try await Activity.query(on: db).filter(\.$organization.$id ~~ second.organizationIDs).all()
            #expect(activities.count == 600)
            #expect(activities.allSatisfy { secondMentors.contains($0.$mentor.id) })
            #expect(activities.allSatisfy { $0.occurredAt < DemoCalendar.referenceDate })
            #expect(activities.allSatisfy { $0.$contact.id.map(second.contactIDs.contains) ?? true })
            #expect(activities.map(\.occurredAt).min().map { $0 >= DemoCalendar.date(day: 0) } == true)
            #expect(activities.contains { $0.countsForBufdir })
            let users = try await User.query(on: db).filter(\.$id ~~ Array(second.members)).all()
            #expect(users.allSatisfy { $0.email.hasSuffix("@demo2.meander.no") })

            // then: its fixed logins hold their roles in its organisations, with the demo password
            for login in DemoData.logins where login.email.hasSuffix("@demo2.meander.no") {
                let user = try #require(users.first { $0.email == login.email }, "\(login.email) is missing")
                #expect(PasswordHasher(cost: 10).verify(DemoData.password, against: try #require(user.passwordHash)))
                #expect(login.organization == "Landsforeningen Hjerte og Pust")
                #expect(
                    grants.contains {
                        $0.$user.id == user.id && $0.role.rawValue == login.role
                            && second.organizationIDs.contains($0.$organization.id ?? UUID())
                    }, "\(login.email) lacks \(login.role) in the second tenant")
            }
            #expect(
                DemoData.logins.filter { $0.email.hasSuffix("@demo2.meander.no") }.map(\.role) == [
                    "peer_mentor", "coordinator", "org_admin", "national_admin",
                ])

            // when: each tenant's coordinator, and the second tenant's mentor, list through the API
            let coordinator = try await Self.signIn(app, "coordinator@demo.meander.no")
            let secondCoordinator = try await Self.signIn(app, "coordinator@demo2.meander.no")
            let secondMentor = try await Self.signIn(app, "peer_mentor@demo2.meander.no")
            let secondAdmin = try await Self.signIn(app, "org_admin@demo2.meander.no")
            let mainContacts = try await Self.listedIDs(app, "/api/v1/contacts", as: coordinator)
            let secondContacts = try await Self.listedIDs(app, "/api/v1/contacts", as: secondCoordinator)
            let mentorContacts = try await Self.listedIDs(app, "/api/v1/contacts", as: secondMentor)
            let secondActivities = try await Self.listedIDs(app, "/api/v1/activities", as: secondCoordinator)
            let mainActivities = try await Self.listedIDs(app, "/api/v1/activities", as: coordinator)

            // then: each sees its own tenant's and none of the other's
            #expect(!secondContacts.isEmpty && secondContacts.isSubset(of: second.contactIDs))
            #expect(!mentorContacts.isEmpty && mentorContacts.isSubset(of: secondContacts))
            #expect(!mainContacts.isEmpty && mainContacts.isSubset(of: main.contactIDs))
            #expect(mainContacts.isDisjoint(with: second.contactIDs) && secondContacts.isDisjoint(with: main.contactIDs))
            let secondActivityIDs = Set(activities.map { $0.id! })
            #expect(!secondActivities.isEmpty && secondActivities.isSubset(of: secondActivityIDs))
            #expect(!mainActivities.isEmpty && mainActivities.isDisjoint(with: secondActivityIDs))

            // then: an id of the other tenant answers 404, where the caller's own answers 200
            let ownContact = try #require(secondContacts.first).uuidString.lowercased()
            let ownActivity = try #require(secondActivities.first).uuidString.lowercased()
            let mainContact = try #require(mainContacts.first).uuidString.lowercased()
            let mainActivity = try #require(mainActivities.first).uuidString.lowercased()
            let cases: [(SignedIn, String, HTTPStatus)] = [
                (secondCoordinator, "/api/v1/contacts/\(ownContact)", .ok),
                (secondCoordinator, "/api/v1/activities/\(ownActivity)", .ok),
                (secondAdmin, "/api/v1/organizations/\(second.national.apiID)", .ok),
                (secondCoordinator, "/api/v1/contacts/\(mainContact)", .notFound),
                (secondCoordinator, "/api/v1/activities/\(mainActivity)", .notFound),
                (secondAdmin, "/api/v1/organizations/\(main.national.apiID)", .notFound),
                (coordinator, "/api/v1/contacts/\(ownContact)", .notFound),
                (coordinator, "/api/v1/activities/\(ownActivity)", .notFound),
                (coordinator, "/api/v1/organizations/\(second.national.apiID)", .notFound),
            ]
            for (caller, path, status) in cases {
                let response = try await API.send(app, .GET, path, as: caller)
                #expect(response.status == status, "\(caller.user.email) GET \(path): \(response.text)")
            }
        }
    }

    @Test("Expense claims add up, and mileage is kilometres times the rate, in øre")
    func expensesAddUp() async throws {
        try await withTestApp { app in
            // given
            let db = app.db

            // when
            _ = try await DemoData.load(into: db, size: .small, seed: 99, logger: app.logger, progress: nil)

            // then
            let claims = try await ExpenseClaim.query(on: db).with(\.$items).all()
            #expect(!claims.isEmpty)
            #expect(Set(claims.map(\.status)).isSuperset(of: [.draft, .submitted, .paid, .rejected]))
            for claim in claims {
                #expect(claim.totalOre == claim.items.reduce(0) { $0 + $1.amountOre }, "\(claim.title)")
                #expect(claim.$decidedBy.id != claim.$claimant.id)
            }
            let mileage = claims.flatMap(\.items).filter { $0.kind == .mileage }
            #expect(!mileage.isEmpty)
            for item in mileage {
                let kilometres = try #require(item.distanceMeters) / 1_000
                let rate = try #require(item.rateOrePerKm)
                #expect([350, 500, 530].contains(rate))
                #expect(rate != 530 || item.incurredOn >= "2026-01-01")
                let passengerRate = item.passengerRateOrePerKm ?? 0
                #expect(item.amountOre == kilometres * rate + item.passengerCount * kilometres * passengerRate)
            }
        }
    }

    // MARK: Summary

    @Test("The summary lists every table written, in a fixed order, with the rows the database holds")
    func summaryMatchesCounts() async throws {
        try await withTestApp { app in
            // given
            let db = app.db

            // when
            let summary = try await DemoData.load(
                into: db, size: .small, seed: DemoDataGenerator.defaultSeed, logger: app.logger, progress: nil)

            // then
            #expect(summary.counts.map(\.0) == Self.countQueries.map(\.table))
            for (table, count) in Self.countQueries {
                let written = try #require(summary[table], "\(table) missing from the summary")
                #expect(try await count(db) == written, "\(table)")
                #expect(written > 0, "\(table) is empty")
            }
            // The main tenant's 5,000 activities and 72 users (with the platform operator), and the second tenant's
            // 600 and 17 (two admins, a region administrator, two coordinators and twelve mentors).
            #expect(summary[Activity.schema] == 5_000 + 600)
            #expect(summary[User.schema] == 72 + 17)
        }
    }

    // MARK: Pure parts

    @Test(
        "Organisation numbers get a mod-11 check digit",
        arguments: [
            ("92360901", 6),  // Equinor ASA, 923 609 016
            ("97476067", 3),  // Brønnøysundregistrene, 974 760 673
        ])
    func orgNumberCheckDigit(prefix: String, check: Int) {
        // given
        let digits = prefix.compactMap(\.wholeNumberValue)

        // when
        let computed = DemoDataGenerator.orgNumberCheckDigit(digits)

        // then
        #expect(computed == check)
    }

    @Test("The demo calendar counts whole UTC days from 2025-01-01")
    func calendar() {
        // given
        let januaryLast = DemoCalendar.day(year: 2025, month: 1, day: 31)

        // when
        let februaryEnd = DemoCalendar.addingMonths(1, to: januaryLast)

        // then
        #expect(DemoCalendar.isoDate(day: 0) == "2025-01-01")
        #expect(DemoCalendar.isoDate(day: -1) == "2024-12-31")
        #expect(DemoCalendar.isoDate(day: DemoCalendar.referenceDay) == "2026-11-01")
        #expect(DemoCalendar.referenceDate == Date(timeIntervalSince1970: 1_793_491_200))
        #expect(DemoCalendar.weekday(day: 0) == 2)  // a Wednesday
        #expect(DemoCalendar.isoDate(day: februaryEnd) == "2025-02-28")
        #expect(DemoCalendar.daysInMonth(year: 2028, month: 2) == 29)
    }

    // MARK: Helpers

    /// Every table the loader writes, in the summary's order, with a Fluent count.
    static let countQueries: [(table: String, count: @Sendable (any Database) async throws -> Int)] = [
        (Organization.schema, { try await Organization.query(on: $0).count() }),
        (User.schema, { try await User.query(on: $0).count() }),
        (OrganizationMembership.schema, { try await OrganizationMembership.query(on: $0).count() }),
        (UserRole.schema, { try await UserRole.query(on: $0).count() }),
        (Contact.schema, { try await Contact.query(on: $0).count() }),
        (ContactMentorAssignment.schema, { try await ContactMentorAssignment.query(on: $0).count() }),
        (Event.schema, { try await Event.query(on: $0).count() }),
        (EventRegistration.schema, { try await EventRegistration.query(on: $0).count() }),
        (Activity.schema, { try await Activity.query(on: $0).count() }),
        (ConfidentialityDeclaration.schema, { try await ConfidentialityDeclaration.query(on: $0).count() }),
        (ExpenseClaim.schema, { try await ExpenseClaim.query(on: $0).count() }),
        (ExpenseItem.schema, { try await ExpenseItem.query(on: $0).count() }),
        (Course.schema, { try await Course.query(on: $0).count() }),
        (CourseEnrollment.schema, { try await CourseEnrollment.query(on: $0).count() }),
        (Certificate.schema, { try await Certificate.query(on: $0).count() }),
        (Badge.schema, { try await Badge.query(on: $0).count() }),
        (UserBadge.schema, { try await UserBadge.query(on: $0).count() }),
        (Referral.schema, { try await Referral.query(on: $0).count() }),
        (NotificationPreference.schema, { try await NotificationPreference.query(on: $0).count() }),
    ]

    /// Loads the small set with `seed` into a fresh database and digests it.
    static func loadSmall(seed: UInt64) async throws -> (summary: DemoSummary, digests: [String: String]) {
        var result: (DemoSummary, [String: String])?
        try await withTestApp { app in
            let summary = try await DemoData.load(into: app.db, size: .small, seed: seed, logger: app.logger, progress: nil)
            result = (summary, try await DemoDigest.digests(app.db))
        }
        return try #require(result)
    }

    /// A demo login, signed in with the demo password.
    static func signIn(_ app: Application, _ email: String) async throws -> SignedIn {
        let tokens = try await AuthFlow.signIn(app, email, DemoData.password)
        let user = try #require(try await User.query(on: app.db).filter(\.$email == email).first())
        return try AuthFlow.caller(tokens, user: user)
    }

    /// The ids of every item of a list operation, page by page.
    static func listedIDs(_ app: Application, _ path: String, as caller: SignedIn) async throws -> Set<UUID> {
        var ids: [UUID] = []
        var cursor: String?
        repeat {
            let query =
                "limit=200" + (cursor.map { "&cursor=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0) } ?? "")
            let response = try await API.send(app, .GET, path + "?" + query, as: caller)
            try #require(response.status == .ok, "GET \(path): \(response.text)")
            let page = try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: Any])
            let items = try #require(page["items"] as? [[String: Any]])
            ids += items.compactMap { ($0["id"] as? String).flatMap(UUID.init(uuidString:)) }
            cursor = page["next_cursor"] as? String
        } while cursor != nil
        #expect(Set(ids).count == ids.count, "GET \(path) repeats items")
        return Set(ids)
    }

    static func roleOrganization(email: String, _ role: UserRole.Role, _ db: any Database) async throws -> UUID? {
        let user = try #require(try await User.query(on: db).filter(\.$email == email).first())
        let grant = try await UserRole.query(on: db).filter(\.$user.$id == user.requireID()).filter(\.$role == role).first()
        return grant?.$organization.id
    }

    /// The mod-11 rule, written out again here so that the test does not trust the generator's own check.
    static func isValidOrgNumber(_ number: String) -> Bool {
        let digits = number.compactMap(\.wholeNumberValue)
        guard number.count == 9, digits.count == 9 else { return false }
        let sum = zip(digits, [3, 2, 7, 6, 5, 4, 3, 2]).reduce(0) { $0 + $1.0 * $1.1 }
        let remainder = sum % 11
        let check = remainder == 0 ? 0 : 11 - remainder
        return check != 10 && check == digits[8]
    }
}

/// One tenant of the loaded demo data: its national organisation, the tree below it, its members and contacts.
struct DemoTenantRows {
    let national: Organization
    let organizations: [Organization]
    let members: Set<UUID>
    let contacts: [Contact]

    var organizationIDs: [UUID] { organizations.map { $0.id! } }
    var contactIDs: Set<UUID> { Set(contacts.map { $0.id! }) }

    static func of(_ nationalName: String, _ db: any Database) async throws -> DemoTenantRows {
        let all = try await Organization.query(on: db).all()
        let national = try #require(all.first { $0.kind == .national && $0.name == nationalName }, "\(nationalName)")
        var tree = [national]
        var frontier: Set<UUID?> = [national.id]
        while !frontier.isEmpty {
            let children = all.filter { frontier.contains($0.$parent.id) }
            tree += children
            frontier = Set(children.map(\.id))
        }
        let ids = tree.map { $0.id! }
        let members = try await OrganizationMembership.query(on: db).filter(\.$organization.$id ~~ ids).all().map(\.$user.id)
        let contacts = try await Contact.query(on: db).filter(\.$organization.$id ~~ ids).all()
        return DemoTenantRows(national: national, organizations: tree, members: Set(members), contacts: contacts)
    }
}

/// SHA-256 digests of the domain fields of the demo tables: ids and values, ordered by id, without the
/// timestamps Fluent sets to now and without the salted password hash (only whether there is one). Rows seeded by
/// migrations (activity types) have random ids per database and are referred to by key.
enum DemoDigest {
    static let tables = [
        "activities", "contact_mentor_assignments", "contacts", "course_enrollments", "expense_claims", "expense_items",
        "organization_memberships", "organizations", "user_roles", "users",
    ]

    static func digests(_ db: any Database) async throws -> [String: String] {
        var lines: [String: [String]] = [:]
        lines["organizations"] = try await Organization.query(on: db).sort(\.$id).all().map {
            row(
                $0.id, $0.$parent.id, $0.name, $0.kind, $0.orgNumber, $0.status, $0.mileageRateKind,
                $0.expenseAutoApprovalLimitOre, $0.enabledProductsJSON, $0.evidenceActivityTypeKeysJSON)
        }
        lines["users"] = try await User.query(on: db).sort(\.$id).all().map {
            row(
                $0.id, $0.email, $0.firstName, $0.lastName, $0.phone, $0.passwordHash != nil, $0.locale, $0.timeZone,
                $0.status, $0.emailVerifiedAt, $0.failedLoginCount, $0.externalIdentitiesJSON)
        }
        lines["organization_memberships"] = try await OrganizationMembership.query(on: db).sort(\.$id).all().map {
            row(
                $0.id, $0.$organization.id, $0.$user.id, $0.$invitedBy.id, $0.status, $0.joinedAt, $0.pausedAt,
                $0.pausedUntil, $0.endedAt)
        }
        lines["user_roles"] = try await UserRole.query(on: db).sort(\.$id).all().map {
            row(
                $0.id, $0.$user.id, $0.$organization.id, $0.$grantedBy.id, $0.$revokedBy.id, $0.role, $0.grantedAt,
                $0.revokedAt)
        }
        lines["contacts"] = try await Contact.query(on: db).sort(\.$id).all().map {
            row(
                $0.id, $0.$organization.id, $0.$createdBy.id, $0.firstName, $0.lastName, $0.birthYear, $0.phone,
                $0.address, $0.postalCode, $0.postalPlace, $0.municipalityCode, $0.countyCode, $0.status,
                $0.consentGivenAt, $0.consentScope)
        }
        lines["contact_mentor_assignments"] = try await ContactMentorAssignment.query(on: db).sort(\.$id).all().map {
            row(
                $0.id, $0.$organization.id, $0.$contact.id, $0.$mentor.id, $0.$assignedBy.id, $0.assignedAt,
                $0.unassignedAt)
        }
        // The global activity types are seeded by a migration with random ids: compare them by key.
        let typeKeys = Dictionary(
            uniqueKeysWithValues: try await ActivityType.query(on: db).all().map { ($0.id!, $0.key) })
        lines["activities"] = try await Activity.query(on: db).sort(\.$id).all().map {
            row(
                $0.id, $0.$organization.id, $0.$mentor.id, $0.$registeredBy.id, $0.$contact.id,
                typeKeys[$0.$activityType.id],
                $0.$event.id, $0.$approvedBy.id, $0.clientID, $0.occurredAt, $0.durationMinutes, $0.participantCount,
                $0.place, $0.channel, $0.countryCode, $0.municipalityCode, $0.status, $0.rejectionReason,
                $0.approvedAt, $0.countsForBufdir, $0.bufdirReason)
        }
        lines["expense_claims"] = try await ExpenseClaim.query(on: db).sort(\.$id).all().map {
            row(
                $0.id, $0.$organization.id, $0.$claimant.id, $0.$decidedBy.id, $0.title, $0.status, $0.totalOre,
                $0.submittedAt, $0.decidedAt, $0.decisionMethod, $0.rejectionReason, $0.paidAt, $0.payoutReference,
                $0.cancelledAt)
        }
        lines["expense_items"] = try await ExpenseItem.query(on: db).sort(\.$id).all().map {
            row(
                $0.id, $0.$claim.id, $0.kind, $0.incurredOn, $0.amountOre, $0.note, $0.distanceMeters,
                $0.passengerCount, $0.rateOrePerKm, $0.passengerRateOrePerKm, $0.fromPlace, $0.toPlace)
        }
        lines["course_enrollments"] = try await CourseEnrollment.query(on: db).sort(\.$id).all().map {
            row(
                $0.id, $0.$course.id, $0.$user.id, $0.$enrolledBy.id, $0.status, $0.waitlistPosition, $0.completedAt,
                $0.cancelledAt)
        }
        return lines.mapValues { rows in
            SHA256.hash(data: Data(rows.joined(separator: "\n").utf8)).map { String(format: "%02x", $0) }.joined()
        }
    }

    /// One row as text; dates as seconds since 1970, so that both engines' date types compare alike.
    private static func row(_ values: Any?...) -> String {
        values.map { value -> String in
            switch value {
            case .none: return "∅"
            case .some(let date as Date): return String(date.timeIntervalSince1970)
            case .some(let other): return "\(other)"
            }
        }.joined(separator: "|")
    }
}

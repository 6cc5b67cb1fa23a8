import FluentKit
import Foundation

/// The tree of organisations, the people and their memberships and roles.
extension DemoDataGenerator {
    /// Well-known towns per county, used first when naming chapters; the county's other municipalities follow.
    static let chapterTowns: [String: [String]] = [
        "03": ["Oslo"],
        "11": ["Stavanger", "Sandnes", "Haugesund", "Eigersund"],
        "15": ["Ålesund", "Molde", "Kristiansund"],
        "18": ["Bodø", "Narvik", "Rana", "Vefsn"],
        "31": ["Fredrikstad", "Sarpsborg", "Halden", "Moss"],
        "32": ["Bærum", "Lillestrøm", "Asker", "Nordre Follo"],
        "33": ["Drammen", "Kongsberg", "Ringerike"],
        "34": ["Hamar", "Lillehammer", "Gjøvik", "Kongsvinger"],
        "39": ["Tønsberg", "Sandefjord", "Larvik", "Horten"],
        "40": ["Skien", "Porsgrunn", "Notodden"],
        "42": ["Kristiansand", "Arendal", "Grimstad"],
        "46": ["Bergen", "Kinn", "Voss", "Stord"],
        "50": ["Trondheim", "Steinkjer", "Stjørdal", "Namsos"],
        "55": ["Tromsø", "Harstad", "Senja"],
        "56": ["Alta", "Hammerfest", "Sør-Varanger", "Vadsø"],
    ]

    /// Municipalities per county code, in the official list's order.
    static let municipalitiesByCounty: [String: [Municipality]] = Dictionary(grouping: Municipalities.all, by: \.countyCode)

    // MARK: Organisations

    func writeOrganizations() async throws {
        var rng = stream(.organizations)
        var models: [Organization] = []

        let nationalID = rng.uuid()
        models.append(
            Organization(
                id: nationalID, name: tenant.nationalName, kind: .national,
                orgNumber: Self.orgNumber(&rng, unique: &shared.orgNumbers), mileageRateKind: .state,
                expenseAutoApprovalLimitOre: 50_000))
        national = DemoOrg(
            id: nationalID, name: tenant.nationalName, regionIndex: -1, town: nil, catchment: [],
            mileageRateKind: .state, autoApprovalLimitOre: 50_000)

        for (regionIndex, region) in plan.regions.enumerated() {
            let regionID = rng.uuid()
            models.append(
                Organization(
                    id: regionID, name: region.name, kind: .regional, parentID: nationalID,
                    orgNumber: Self.orgNumber(&rng, unique: &shared.orgNumbers), mileageRateKind: .state,
                    expenseAutoApprovalLimitOre: 50_000))
            regions.append(
                DemoOrg(
                    id: regionID, name: region.name, regionIndex: regionIndex, town: nil, catchment: region.countyCodes,
                    mileageRateKind: .state, autoApprovalLimitOre: 50_000))

            let towns = Self.towns(in: region.countyCodes)
            for index in 0..<plan.chaptersPerRegion {
                let town = towns[index % towns.count]
                // Counties are dealt round-robin over the region's chapters; a chapter always serves its own town.
                var catchment = region.countyCodes.enumerated()
                    .filter { $0.offset % plan.chaptersPerRegion == index }.map(\.element)
                if !catchment.contains(town.countyCode) { catchment.insert(town.countyCode, at: 0) }
                let id = rng.uuid()
                let rateKind: Organization.MileageRateKind = rng.chance(0.25) ? .taxFree : .state
                let limit = rng.pick([nil, 30_000, 50_000, 50_000, 100_000])
                let name = tenant.chapterPrefix + town.name
                models.append(
                    Organization(
                        id: id, name: name, kind: .local, parentID: regionID,
                        orgNumber: rng.chance(0.5) ? Self.orgNumber(&rng, unique: &shared.orgNumbers) : nil,
                        mileageRateKind: rateKind, expenseAutoApprovalLimitOre: limit,
                        evidenceActivityTypeKeys: rng.chance(0.3) ? ["escort_to_appointment"] : []))
                chapters.append(
                    DemoOrg(
                        id: id, name: name, regionIndex: regionIndex, town: town, catchment: catchment,
                        mileageRateKind: rateKind, autoApprovalLimitOre: limit))
            }
        }

        try await writer.insert(models)
        writer.report(Organization.schema, done: models.count, total: models.count)
        record(Organization.schema, models.count)
    }

    /// Candidate chapter towns of a region: each county's well-known towns and then its other municipalities,
    /// dealt in turn from the counties so that the first chapters spread over them.
    static func towns(in countyCodes: [String]) -> [Municipality] {
        let lists = countyCodes.map { code -> [Municipality] in
            let all = municipalitiesByCounty[code] ?? []
            let preferred = (chapterTowns[code] ?? []).compactMap { name in all.first(where: { $0.name == name }) }
            return preferred + all.filter { !preferred.contains($0) }
        }
        var result: [Municipality] = []
        for index in 0..<(lists.map(\.count).max() ?? 0) {
            for list in lists where index < list.count {
                result.append(list[index])
            }
        }
        return result
    }

    /// A random, unused, valid Norwegian organisation number: 8 or 9, seven digits, and a mod-11 check digit
    /// with weights 3, 2, 7, 6, 5, 4, 3, 2 (numbers whose check digit would be 10 are not issued).
    static func orgNumber(_ rng: inout SeededRandom, unique used: inout Set<String>) -> String {
        while true {
            var digits = [rng.int(8...9)]
            for _ in 0..<7 { digits.append(rng.int(0...9)) }
            guard let check = orgNumberCheckDigit(digits) else { continue }
            let number = (digits + [check]).map(String.init).joined()
            if used.insert(number).inserted { return number }
        }
    }

    /// The mod-11 check digit of the first eight digits, or nil when the remainder makes it 10 (invalid).
    static func orgNumberCheckDigit(_ digits: [Int]) -> Int? {
        let weights = [3, 2, 7, 6, 5, 4, 3, 2]
        let sum = zip(digits, weights).reduce(0) { $0 + $1.0 * $1.1 }
        let remainder = 11 - sum % 11
        switch remainder {
        case 11: return 0
        case 10: return nil
        default: return remainder
        }
    }

    // MARK: Users, memberships and roles

    func writeUsers() async throws {
        guard let national else { preconditionFailure("organisations are written first") }
        var rng = stream(.users)
        var people = PeopleFactory(passwordHash: passwordHash, emailDomain: tenant.emailDomain)
        var users: [User] = []
        var memberships: [OrganizationMembership] = []
        var roles: [UserRole] = []

        func grant(
            _ role: UserRole.Role, to user: UUID, in org: UUID?, by grantor: UUID?, day: Int,
            rng: inout SeededRandom
        ) {
            let grant = UserRole(
                id: rng.uuid(), userID: user, organizationID: org, role: role, grantedByID: grantor,
                grantedAt: DemoCalendar.date(day: day, minute: rng.int(480...960)))
            roles.append(grant)
        }
        func join(_ user: UUID, _ org: UUID, day: Int, invitedBy: UUID?, rng: inout SeededRandom)
            -> OrganizationMembership
        {
            let membership = OrganizationMembership(
                id: rng.uuid(), organizationID: org, userID: user, status: .active,
                joinedAt: DemoCalendar.date(day: day, minute: rng.int(480...1_200)), invitedByID: invitedBy)
            memberships.append(membership)
            return membership
        }

        // The platform operator: a role without an organisation, and no membership; written with the first tenant.
        if tenant.writesPlatform {
            let platform = people.make(&rng, email: "platform_admin@" + tenant.emailDomain, joinDay: -1_400)
            platformAdminID = platform.id!
            shared.platformAdminID = platformAdminID
            users.append(platform)
            grant(.platformAdmin, to: platformAdminID, in: nil, by: nil, day: -1_400, rng: &rng)
        } else {
            guard let operatorID = shared.platformAdminID else { preconditionFailure("the first tenant is written first") }
            platformAdminID = operatorID
        }

        // The national administrator, and an organisation administrator of the national organisation.
        let admin = people.make(&rng, email: tenant.loginEmail(.nationalAdmin), joinDay: -2_200)
        nationalAdminID = admin.id!
        users.append(admin)
        _ = join(nationalAdminID, national.id, day: -2_200, invitedBy: nil, rng: &rng)
        grant(.nationalAdmin, to: nationalAdminID, in: national.id, by: platformAdminID, day: -2_200, rng: &rng)
        let orgAdmin = people.make(&rng, email: tenant.loginEmail(.orgAdmin), joinDay: -2_000)
        users.append(orgAdmin)
        _ = join(orgAdmin.id!, national.id, day: -2_000, invitedBy: nationalAdminID, rng: &rng)
        grant(.orgAdmin, to: orgAdmin.id!, in: national.id, by: nationalAdminID, day: -2_000, rng: &rng)

        // One administrator per region, who also coordinates there.
        for region in regions {
            let day = rng.int(-2_000 ... -400)
            let user = people.make(&rng, email: nil, joinDay: day)
            users.append(user)
            regionAdminIDs.append(user.id!)
            _ = join(user.id!, region.id, day: day, invitedBy: nationalAdminID, rng: &rng)
            grant(.orgAdmin, to: user.id!, in: region.id, by: nationalAdminID, day: day, rng: &rng)
            grant(.coordinator, to: user.id!, in: region.id, by: nationalAdminID, day: day, rng: &rng)
        }

        // Chapter coordinators; the first of the first chapter is the demo coordinator.
        for (chapterIndex, chapter) in chapters.enumerated() {
            var ids: [UUID] = []
            for index in 0..<plan.coordinatorsPerChapter {
                let day = rng.int(-1_800 ... -200)
                let email = chapterIndex == 0 && index == 0 ? tenant.loginEmail(.coordinator) : nil
                let user = people.make(&rng, email: email, joinDay: day)
                users.append(user)
                ids.append(user.id!)
                let regionAdmin = regionAdminIDs[chapter.regionIndex]
                _ = join(user.id!, chapter.id, day: day, invitedBy: regionAdmin, rng: &rng)
                grant(.coordinator, to: user.id!, in: chapter.id, by: regionAdmin, day: day, rng: &rng)
            }
            coordinatorIDs.append(ids)
        }

        // Peer mentors; the first of the first chapter is the demo mentor, and the busiest.
        for (chapterIndex, chapter) in chapters.enumerated() {
            var indexes: [Int] = []
            let coordinator = coordinatorIDs[chapterIndex][0]
            for index in 0..<plan.mentorsPerChapter {
                let isDemo = chapterIndex == 0 && index == 0
                // Three in four joined before the period; the rest during it.
                let joinDay = isDemo ? -800 : (rng.chance(0.75) ? rng.int(-3_650 ... -1) : rng.int(0...630))
                var status: OrganizationMembership.Status = .active
                if !isDemo {
                    let roll = rng.int(0..<100)
                    status = roll < 3 ? .invited : roll < 8 ? .paused : roll < 12 ? .ended : .active
                }
                let user = people.make(
                    &rng, email: isDemo ? tenant.loginEmail(.peerMentor) : nil, joinDay: joinDay,
                    pending: status == .invited)
                users.append(user)
                let userID = user.id!

                var firstDay = max(0, joinDay)
                var lastDay = DemoCalendar.referenceDay
                if status == .invited {
                    memberships.append(
                        OrganizationMembership(
                            id: rng.uuid(), organizationID: chapter.id, userID: userID, status: .invited,
                            joinedAt: nil, invitedByID: coordinator))
                    firstDay = lastDay
                } else {
                    let membership = join(userID, chapter.id, day: joinDay, invitedBy: coordinator, rng: &rng)
                    grant(.peerMentor, to: userID, in: chapter.id, by: coordinator, day: joinDay, rng: &rng)
                    let earliestStop = max(firstDay + 45, 120)
                    if status == .paused, earliestStop < DemoCalendar.referenceDay - 5 {
                        let pausedDay = rng.int(earliestStop...(DemoCalendar.referenceDay - 5))
                        membership.status = .paused
                        membership.pausedAt = DemoCalendar.date(day: pausedDay, minute: rng.int(480...960))
                        membership.pausedUntil =
                            rng.chance(0.5)
                            ? nil : DemoCalendar.date(day: DemoCalendar.referenceDay + rng.int(20...150))
                        lastDay = pausedDay
                    } else if status == .ended, earliestStop < DemoCalendar.referenceDay - 5 {
                        let endedDay = rng.int(earliestStop...(DemoCalendar.referenceDay - 5))
                        let endedAt = DemoCalendar.date(day: endedDay, minute: rng.int(480...960))
                        membership.status = .ended
                        membership.endedAt = endedAt
                        roles[roles.count - 1].revokedAt = endedAt
                        roles[roles.count - 1].$revokedBy.id = coordinator
                        lastDay = endedDay
                    }
                }
                let weight = isDemo ? 3.0 : (status == .invited ? 0 : 0.2 + Double(rng.int(0...28)) / 10)
                indexes.append(mentors.count)
                mentors.append(
                    DemoMentor(
                        id: userID, chapter: chapterIndex, joinDay: joinDay, firstDay: firstDay, lastDay: lastDay,
                        weight: weight, isDriver: !isDemo && rng.chance(0.06)))
            }
            mentorsByChapter.append(indexes)
        }

        // A few mentors also help out in a neighbouring chapter of their region.
        for mentor in mentors where mentor.canWork && mentor.lastDay == DemoCalendar.referenceDay {
            guard rng.chance(0.03) else { continue }
            let neighbours = chapters.indices.filter {
                $0 != mentor.chapter && chapters[$0].regionIndex == chapters[mentor.chapter].regionIndex
            }
            guard !neighbours.isEmpty else { continue }
            let other = rng.pick(neighbours)
            let day = rng.int(max(mentor.joinDay, 0)...(DemoCalendar.referenceDay - 1))
            _ = join(mentor.id, chapters[other].id, day: day, invitedBy: coordinatorIDs[other][0], rng: &rng)
            grant(.peerMentor, to: mentor.id, in: chapters[other].id, by: coordinatorIDs[other][0], day: day, rng: &rng)
        }

        allUserIDs = users.map { $0.id! }
        let (finalUsers, finalMemberships, finalRoles) = (users, memberships, roles)
        let writer = self.writer
        try await writer.transaction { tx in
            try await writer.insert(finalUsers, on: tx)
            try await writer.insert(finalMemberships, on: tx)
            try await writer.insert(finalRoles, on: tx)
        }
        writer.report(User.schema, done: users.count, total: users.count)
        record(User.schema, users.count)
        record(OrganizationMembership.schema, memberships.count)
        record(UserRole.schema, roles.count)
    }
}

/// Makes demo people with realistic Norwegian names and unique e-mail addresses in the tenant's domain.
struct PeopleFactory {
    let passwordHash: String
    let emailDomain: String
    private var usedEmails = Set<String>()

    init(passwordHash: String, emailDomain: String = DemoTenant.first.emailDomain) {
        self.passwordHash = passwordHash
        self.emailDomain = emailDomain
    }

    /// A user who joined on `joinDay`; `email` nil makes one from the name. Pending users have not chosen a
    /// password yet; everyone else shares the demo password's hash.
    mutating func make(_ rng: inout SeededRandom, email: String?, joinDay: Int, pending: Bool = false) -> User {
        let id = rng.uuid()
        let firstName = rng.pick(NorwegianNames.givenNames)
        let lastName = rng.pick(NorwegianNames.surnames)
        let address = email ?? uniqueEmail(firstName: firstName, lastName: lastName)
        let roll = rng.int(0..<100)
        let user = User(
            id: id, email: address, firstName: firstName, lastName: lastName,
            passwordHash: pending ? nil : passwordHash,
            phone: rng.chance(0.9) ? rng.mobileNumber() : nil,
            locale: roll < 90 ? .nb : roll < 97 ? .nn : .en,
            status: pending ? .pending : .active,
            emailVerifiedAt: pending ? nil : DemoCalendar.date(day: joinDay, minute: rng.int(480...1_200)))
        usedEmails.insert(user.email)
        return user
    }

    private mutating func uniqueEmail(firstName: String, lastName: String) -> String {
        let base = NorwegianNames.ascii(firstName) + "." + NorwegianNames.ascii(lastName)
        var candidate = base + "@" + emailDomain
        var suffix = 2
        while usedEmails.contains(candidate) {
            candidate = base + String(suffix) + "@" + emailDomain
            suffix += 1
        }
        return candidate
    }
}

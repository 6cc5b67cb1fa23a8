import Foundation

/// The figures of one category within a cell.
struct BufdirCategoryFigures: Codable, Sendable, Equatable {
    var category: ActivityType.BufdirCategory
    var activities = 0
    var minutes = 0
    var hours = 0.0
    /// Distinct (mentor, day in Norway) pairs: Bufdir scores activity per day.
    var days = 0
    var participants: Int? = 0
    var evidenceRequired = 0
    var evidenceMissing = 0
    /// People figures (here `participants`) hidden because they describe too few people; only in exports.
    var suppressed: [String]?

    init(category: ActivityType.BufdirCategory) {
        self.category = category
    }

    mutating func add(_ other: BufdirCategoryFigures) {
        activities += other.activities
        minutes += other.minutes
        days += other.days
        participants = (participants ?? 0) + (other.participants ?? 0)
        evidenceRequired += other.evidenceRequired
        evidenceMissing += other.evidenceMissing
        hours = BufdirCell.hours(minutes)
    }
}

/// The figures of one cell: the whole report, an organisation with its subtree, or a county.
///
/// People figures (`contacts_reached`, `active_mentors`, …) are distinct within each chapter and added up the tree,
/// as each chapter reports its own people; a county's are distinct within the county. In an export a people figure
/// of 1 to `min_people - 1` is `null` and named in `suppressed`.
struct BufdirCell: Codable, Sendable, Equatable {
    var activities = 0
    var minutes = 0
    var hours = 0.0
    var days = 0
    var contactsReached: Int? = 0
    /// Participants in group activities.
    var participantsGroup: Int? = 0
    var activeMentors: Int? = 0
    var registeredMentors: Int?
    var mentorsTrained: Int?
    var members: Int?
    var events: Int?
    var courseDays: Int?
    var chapters: Int?
    var countiesCovered: Int?
    var evidenceRequired = 0
    var evidenceMissing = 0
    var categories: [BufdirCategoryFigures] = ActivityType.BufdirCategory.allCases.map(BufdirCategoryFigures.init)
    var suppressed: [String]?

    /// Hours to two decimals, from whole minutes.
    static func hours(_ minutes: Int) -> Double { (Double(minutes) / 60 * 100).rounded() / 100 }

    mutating func add(_ row: BufdirFigureRows.Activity) {
        activities += row.activities
        minutes += row.minutes
        days += row.days
        evidenceRequired += row.evidenceRequired
        evidenceMissing += row.evidenceMissing
        if row.category == .group { participantsGroup = (participantsGroup ?? 0) + row.participants }
        hours = Self.hours(minutes)
        if let index = categories.firstIndex(where: { $0.category == row.category }) {
            var figures = BufdirCategoryFigures(category: row.category)
            figures.activities = row.activities
            figures.minutes = row.minutes
            figures.days = row.days
            figures.participants = row.participants
            figures.evidenceRequired = row.evidenceRequired
            figures.evidenceMissing = row.evidenceMissing
            categories[index].add(figures)
        }
    }

    /// The figures that describe people, and so are suppressed when small.
    static let peopleFigures = [
        "contacts_reached", "participants_group", "active_mentors", "registered_mentors", "mentors_trained", "members",
    ]

    /// This cell as it may leave the tenant: people figures under `minPeople` (but not 0) become `nil`.
    func suppressed(below minPeople: Int) -> BufdirCell {
        var copy = self
        var hidden: [String] = []
        func hide(_ value: inout Int?, _ name: String) {
            guard let people = value, people > 0, people < minPeople else { return }
            value = nil
            hidden.append(name)
        }
        hide(&copy.contactsReached, "contacts_reached")
        hide(&copy.participantsGroup, "participants_group")
        hide(&copy.activeMentors, "active_mentors")
        hide(&copy.registeredMentors, "registered_mentors")
        hide(&copy.mentorsTrained, "mentors_trained")
        hide(&copy.members, "members")
        copy.suppressed = hidden.isEmpty ? nil : hidden
        copy.categories = categories.map { category in
            var category = category
            if let people = category.participants, people > 0, people < minPeople {
                category.participants = nil
                category.suppressed = ["participants"]
            }
            return category
        }
        return copy
    }

    /// Every number of the cell by name (`activities`, `categories.group.hours`), for comparing two exports.
    func flattened(prefix: String) -> [(String, Double)] {
        var values: [(String, Double)] = [
            ("activities", Double(activities)), ("minutes", Double(minutes)), ("hours", hours), ("days", Double(days)),
            ("evidence_required", Double(evidenceRequired)), ("evidence_missing", Double(evidenceMissing)),
        ]
        let optional: [(String, Int?)] = [
            ("contacts_reached", contactsReached), ("participants_group", participantsGroup),
            ("active_mentors", activeMentors), ("registered_mentors", registeredMentors),
            ("mentors_trained", mentorsTrained), ("members", members), ("events", events), ("course_days", courseDays),
            ("chapters", chapters), ("counties_covered", countiesCovered),
        ]
        values += optional.compactMap { name, value in value.map { (name, Double($0)) } }
        for category in categories {
            let key = "categories.\(category.category.rawValue)"
            values += [
                ("\(key).activities", Double(category.activities)), ("\(key).hours", category.hours),
                ("\(key).days", Double(category.days)), ("\(key).participants", Double(category.participants ?? 0)),
                ("\(key).evidence_missing", Double(category.evidenceMissing)),
            ]
        }
        return values.map { ("\(prefix).\($0.0)", $0.1) }
    }
}

/// One county's figures.
struct BufdirCountyFigures: Codable, Sendable, Equatable {
    /// Two-digit county code, or `unknown` for activities without a municipality.
    var code: String
    var name: String
    var figures: BufdirCell
}

/// One organisation's figures, its subtree included.
struct BufdirOrganizationFigures: Codable, Sendable, Equatable {
    var organizationId: UUID
    var parentId: UUID?
    var name: String
    var kind: Organization.Kind
    var depth: Int
    var figures: BufdirCell
}

/// All figures of a report: what `bufdir_reports.aggregates` holds (unsuppressed) and exports carry (suppressed).
struct BufdirFigures: Codable, Sendable, Equatable {
    var rulesYear: Int
    var minPeople: Int
    var totals: BufdirCell
    var counties: [BufdirCountyFigures]
    var organizations: [BufdirOrganizationFigures]

    static let unknownCounty = "unknown"

    /// The figures as they may leave the tenant.
    func suppressed() -> BufdirFigures {
        var copy = self
        copy.totals = totals.suppressed(below: minPeople)
        copy.counties = counties.map { county in
            var county = county
            county.figures = county.figures.suppressed(below: minPeople)
            return county
        }
        copy.organizations = organizations.map { organization in
            var organization = organization
            organization.figures = organization.figures.suppressed(below: minPeople)
            return organization
        }
        return copy
    }

    /// Every figure by its place (`totals.activities`, `counties.03.days`, `organizations.<id>.members`).
    func flattened() -> [String: Double] {
        var values = totals.flattened(prefix: "totals")
        for county in counties { values += county.figures.flattened(prefix: "counties.\(county.code)") }
        for organization in organizations {
            values += organization.figures.flattened(prefix: "organizations.\(organization.organizationId.uuidString.lowercased())")
        }
        return Dictionary(values, uniquingKeysWith: { first, _ in first })
    }

    /// What moved between two exports, figure by figure, in name order.
    static func changes(from previous: [String: Double], to current: [String: Double]) -> [(String, Double, Double)] {
        Set(previous.keys).union(current.keys).sorted().compactMap { key in
            let before = previous[key] ?? 0
            let after = current[key] ?? 0
            return before == after ? nil : (key, before, after)
        }
    }

    /// The JSON coding of figures and report files: snake_case keys, sorted, so the same figures give the same bytes.
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()
}

/// What the report's SQL returns, before it is rolled up the tree.
enum BufdirFigureRows {
    /// Counted activities of one (organisation, county, category).
    struct Activity: Sendable, Equatable, Decodable {
        var organizationID: UUID
        var county: String
        var category: ActivityType.BufdirCategory
        var activities: Int
        var minutes: Int
        var participants: Int
        var days: Int
        var evidenceRequired: Int
        var evidenceMissing: Int

        /// The columns of `BufdirReportEngine.activityRows`.
        enum CodingKeys: String, CodingKey {
            case organizationID = "organization_id"
            case county
            case category
            case activities
            case minutes
            case participants
            case days
            case evidenceRequired = "evidence_required"
            case evidenceMissing = "evidence_missing"
        }
    }

    /// Distinct people of one organisation or county.
    struct People: Sendable, Equatable {
        var contacts = 0
        var mentors = 0
    }

    /// Figures that are not activities, for one organisation (its own, not its subtree's).
    struct Facts: Sendable, Equatable {
        var registeredMentors = 0
        var mentorsTrained = 0
        var members = 0
        var events = 0
        var courseDays = 0
    }

    /// An organisation of the report's tree.
    struct Node: Sendable, Equatable {
        var id: UUID
        var parentID: UUID?
        var name: String
        var kind: Organization.Kind
    }
}

/// Rolls the rows up the tree and across counties: plain Swift, so the arithmetic is tested without a database.
enum BufdirRollUp {
    static func figures(
        tree: [BufdirFigureRows.Node], rootID: UUID, activities: [BufdirFigureRows.Activity],
        organizationPeople: [UUID: BufdirFigureRows.People], countyPeople: [String: BufdirFigureRows.People],
        facts: [UUID: BufdirFigureRows.Facts], rulesYear: Int, minPeople: Int
    ) -> BufdirFigures {
        let children = Dictionary(grouping: tree.filter { $0.id != rootID }, by: { $0.parentID })
        var ordered: [(node: BufdirFigureRows.Node, depth: Int)] = []
        func visit(_ node: BufdirFigureRows.Node, _ depth: Int) {
            ordered.append((node, depth))
            let below = (children[node.id] ?? []).sorted { ($0.name, $0.id.uuidString) < ($1.name, $1.id.uuidString) }
            for child in below { visit(child, depth + 1) }
        }
        if let root = tree.first(where: { $0.id == rootID }) { visit(root, 0) }

        var subtree: [UUID: Set<UUID>] = [:]
        for (node, _) in ordered.reversed() {
            var ids: Set<UUID> = [node.id]
            for child in children[node.id] ?? [] { ids.formUnion(subtree[child.id] ?? []) }
            subtree[node.id] = ids
        }
        let kinds = Dictionary(tree.map { ($0.id, $0.kind) }, uniquingKeysWith: { first, _ in first })

        func cell(for ids: Set<UUID>) -> BufdirCell {
            var cell = BufdirCell()
            var counties: Set<String> = []
            for row in activities where ids.contains(row.organizationID) {
                cell.add(row)
                if row.county != BufdirFigures.unknownCounty, row.activities > 0 { counties.insert(row.county) }
            }
            var sum = BufdirFigureRows.Facts()
            var people = BufdirFigureRows.People()
            for id in ids {
                if let own = organizationPeople[id] {
                    people.contacts += own.contacts
                    people.mentors += own.mentors
                }
                if let own = facts[id] {
                    sum.registeredMentors += own.registeredMentors
                    sum.mentorsTrained += own.mentorsTrained
                    sum.members += own.members
                    sum.events += own.events
                    sum.courseDays += own.courseDays
                }
            }
            cell.contactsReached = people.contacts
            cell.activeMentors = people.mentors
            cell.registeredMentors = sum.registeredMentors
            cell.mentorsTrained = sum.mentorsTrained
            cell.members = sum.members
            cell.events = sum.events
            cell.courseDays = sum.courseDays
            cell.chapters = ids.filter { kinds[$0] == .local }.count
            cell.countiesCovered = counties.count
            return cell
        }

        let organizations = ordered.map { node, depth in
            BufdirOrganizationFigures(
                organizationId: node.id, parentId: depth == 0 ? nil : node.parentID, name: node.name, kind: node.kind,
                depth: depth, figures: cell(for: subtree[node.id] ?? [node.id]))
        }
        let countyCodes = Set(activities.map(\.county)).sorted { lhs, rhs in
            // `unknown` last, the rest by code.
            (lhs == BufdirFigures.unknownCounty ? 1 : 0, lhs) < (rhs == BufdirFigures.unknownCounty ? 1 : 0, rhs)
        }
        let counties = countyCodes.map { code in
            var figures = BufdirCell()
            for row in activities where row.county == code { figures.add(row) }
            let people = countyPeople[code] ?? BufdirFigureRows.People()
            figures.contactsReached = people.contacts
            figures.activeMentors = people.mentors
            let name = code == BufdirFigures.unknownCounty ? "Ukjent" : (Municipalities.counties[code] ?? code)
            return BufdirCountyFigures(code: code, name: name, figures: figures)
        }
        return BufdirFigures(
            rulesYear: rulesYear, minPeople: minPeople, totals: organizations.first?.figures ?? BufdirCell(),
            counties: counties, organizations: organizations)
    }
}

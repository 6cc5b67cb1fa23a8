import FluentKit
import FluentSQL
import Foundation
import Testing
import Vapor

@testable import Meander

/// `Organization(plainRow:)` and `ActivityType(plainRow:)` read what Fluent reads, column for column.
@Suite("Plain-row models")
struct PlainRowsTests {
    @Test("the plain columns are exactly the models' database fields")
    func columnsMatchTheModels() {
        func columns(_ list: String) -> Set<String> {
            Set(list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
        }
        #expect(columns(Organization.plainColumns) == Set(Organization.keys.map(\.description)))
        #expect(columns(ActivityType.plainColumns) == Set(ActivityType.keys.map(\.description)))
    }

    @Test("the lineage and a plainly read type equal what Fluent decodes, property by property")
    func valuesMatchFluent() async throws {
        try await withTestApp { app in
            // given: every optional column set somewhere, and values other than the defaults
            let tree = try await IdentityFixtures.tree(app)
            let chapter = tree.chapterA1
            chapter.orgNumber = "974760673"
            chapter.status = .suspended
            chapter.mileageRateKind = .taxFree
            chapter.expenseAutoApprovalLimitOre = 50_000
            chapter.enabledProducts = [.mobile]
            chapter.evidenceActivityTypeKeys = ["home_visit"]
            try await chapter.save(on: app.db)
            let type = ActivityType(
                organizationID: try tree.regionA.requireID(), key: "walk_and_talk", nameNb: "Gåtur", nameEn: "Walk",
                bufdirCategory: .group, reportable: false, requiresEvidence: true, defaultDurationMinutes: 75,
                isActive: false, sortOrder: 7)
            try await type.create(on: app.db)

            // when
            let lineage = try await OrganizationTree.lineage(of: try chapter.requireID(), on: app.db)
            let plainType = try #require(try await ActivityTypeStatement(id: try type.requireID()).first(on: app.db))

            // then
            #expect(lineage.map(\.id) == [chapter.id, tree.regionA.id, tree.national.id])
            for plain in lineage {
                let fluent = try #require(try await Organization.find(plain.id, on: app.db))
                #expect(Self.values(of: plain) == Self.values(of: fluent))
            }
            let fluentType = try #require(try await ActivityType.find(type.id, on: app.db))
            #expect(Self.values(of: plainType) == Self.values(of: fluentType))
            #expect(plainType.$id.exists && plainType.requiresEvidence && plainType.bufdirCategory == .group)
        }
    }

    /// Every property's value, in declaration order, as text (dates to the millisecond).
    static func values(of model: some Model) -> [String] {
        model.properties.map { property in
            switch property.anyValue {
            case let date as Date: String(Int64((date.timeIntervalSince1970 * 1000).rounded()))
            case let optionalDate as Date?: optionalDate.map { String(Int64(($0.timeIntervalSince1970 * 1000).rounded())) } ?? "nil"
            case let value?: String(describing: value)
            case nil: "nil"
            }
        }
    }
}

import FluentKit
import FluentSQL
import Foundation
import NIOConcurrencyHelpers
import Testing
import Vapor

@testable import Meander

/// `Organization(plainRow:)`, `ActivityType(plainRow:)` and `Activity(plainOutput:)` read what Fluent reads, column for
/// column.
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

    @Test("a plainly read activity reads every field Fluent reads, and equals what Fluent decodes")
    func activityMatchesFluent() async throws {
        try await withTestApp { app in
            // given: an activity with the optional fields set that need no other records, and values other than
            // the defaults (deleted, so the query includes deleted rows)
            let tree = try await IdentityFixtures.tree(app)
            let mentor = try await IdentityFixtures.user(app, email: "kari@example.no", roles: [(.peerMentor, tree.chapterA1)])
            let approver = try await IdentityFixtures.user(
                app, email: "per@example.no", roles: [(.coordinator, tree.chapterA1)])
            let type = try #require(try await ActivityType.query(on: app.db).filter(\.$key == "home_visit").first())
            let activity = Activity(
                id: UUID(), organizationID: try tree.chapterA1.requireID(), mentorID: try mentor.requireID(),
                activityTypeID: try type.requireID(), occurredAt: Date(timeIntervalSince1970: 1_760_000_000.25),
                durationMinutes: 95, registeredByID: try approver.requireID(), contactID: nil, clientID: UUID(),
                participantCount: 4, place: "Kafé", channel: .video, countryCode: "SE", municipalityCode: "5501",
                status: .rejected)
            activity.summaryCiphertext = Data([0, 1, 2, 254, 255])
            activity.keyVersion = 3
            activity.rejectionReason = "Mangler deltakerliste"
            activity.$approvedBy.id = try approver.requireID()
            activity.approvedAt = Date(timeIntervalSince1970: 1_760_100_000.5)
            activity.countsForBufdir = false
            activity.bufdirReason = "outside_norway"
            try await activity.create(on: app.db)
            try await activity.delete(on: app.db)
            let query = Activity.query(on: app.db).withDeleted().filter(\.$id == activity.id!)

            // when
            let plain = try #require(try await query.allPlain().first)
            let fluent = try #require(try await query.first())
            let read = NIOLockedValueBox<Set<String>>([])
            try await query.run { output in
                _ = try? Activity(plainOutput: KeyRecorder(base: output.qualifiedSchema(space: nil, Activity.schema), read: read))
            }

            // then
            #expect(read.withLockedValue { $0 } == Set(Activity.keys.map(\.description)))
            #expect(Self.values(of: plain) == Self.values(of: fluent))
            #expect(plain.$id.exists && plain.deletedAt != nil && plain.channel == .video && plain.status == .rejected)
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

/// A `DatabaseOutput` that notes which keys are read.
private struct KeyRecorder: DatabaseOutput {
    let base: any DatabaseOutput
    let read: NIOLockedValueBox<Set<String>>

    var description: String { base.description }

    func schema(_ schema: String) -> any DatabaseOutput { KeyRecorder(base: base.schema(schema), read: read) }

    func contains(_ key: FieldKey) -> Bool { base.contains(key) }

    func decodeNil(_ key: FieldKey) throws -> Bool { try base.decodeNil(key) }

    func decode<T: Decodable>(_ key: FieldKey, as type: T.Type) throws -> T {
        read.withLockedValue { _ = $0.insert(key.description) }
        return try base.decode(key, as: type)
    }
}

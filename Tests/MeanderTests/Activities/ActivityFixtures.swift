import Fluent
import Foundation
import Testing
import Vapor

@testable import Meander

/// A tenant with a mentor, a coordinator and an admin in chapter A1, and a mentor in the other tenant.
struct ActivityWorld: Sendable {
    let tree: OrganizationTreeFixture
    let mentor: SignedIn
    let otherMentor: SignedIn
    let coordinator: SignedIn
    let admin: SignedIn
    let foreignMentor: SignedIn

    static func make(_ app: Application) async throws -> ActivityWorld {
        let tree = try await IdentityFixtures.tree(app)
        return ActivityWorld(
            tree: tree,
            mentor: try await IdentityFixtures.signedIn(app, email: "kari@example.no", roles: [(.peerMentor, tree.chapterA1)]),
            otherMentor: try await IdentityFixtures.signedIn(
                app, email: "ola@example.no", roles: [(.peerMentor, tree.chapterA1)]),
            coordinator: try await IdentityFixtures.signedIn(
                app, email: "coordinator@example.no", roles: [(.coordinator, tree.regionA)]),
            admin: try await IdentityFixtures.signedIn(app, email: "admin@example.no", roles: [(.orgAdmin, tree.national)]),
            foreignMentor: try await IdentityFixtures.signedIn(
                app, email: "foreign@example.no", roles: [(.peerMentor, tree.otherChapter)]))
    }

    /// The id of a global activity type by key.
    static func typeID(_ app: Application, _ key: String) async throws -> String {
        let type = try #require(
            try await ActivityType.query(on: app.db).filter(\.$key == key).filter(\.$organization.$id == nil).first())
        return try type.requireID().api
    }

    /// An `ActivityCreate` body.
    static func body(
        organization: Organization, type: String, clientID: UUID? = UUID(), occurredAt: String = "2025-03-14T10:00:00Z",
        minutes: Int = 60, participants: Int = 1, country: String? = nil, channel: String? = nil,
        summary: String? = nil, mentorID: UUID? = nil, extra: [String: String] = [:]
    ) -> String {
        var fields: [String] = [
            #""organization_id": "\#(organization.apiID)""#, #""activity_type_id": "\#(type)""#,
            #""occurred_at": "\#(occurredAt)""#, #""duration_minutes": \#(minutes)"#,
            #""participant_count": \#(participants)"#,
        ]
        if let clientID { fields.append(#""client_id": "\#(clientID.api)""#) }
        if let country { fields.append(#""country_code": "\#(country)""#) }
        if let channel { fields.append(#""channel": "\#(channel)""#) }
        if let summary { fields.append(#""summary": \#(API.quote(summary))"#) }
        if let mentorID { fields.append(#""mentor_id": "\#(mentorID.api)""#) }
        for (key, value) in extra { fields.append(#""\#(key)": \#(value)"#) }
        return "{" + fields.joined(separator: ", ") + "}"
    }
}

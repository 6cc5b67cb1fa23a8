import Fluent
import Foundation
import Vapor

@testable import Meander

/// A signed-in test user: their records and a ready `Authorization` header.
struct SignedIn: Sendable {
    let user: User
    let sessionID: UUID
    let accessToken: String

    var headers: HTTPHeaders { ["Authorization": "Bearer \(accessToken)", "Content-Type": "application/json"] }
}

/// Two tenants with a tree each, for access tests:
///
/// ```
/// national (A)            other (B)
/// ├── regionA             └── otherRegion
/// │   ├── chapterA1           └── otherChapter
/// │   └── chapterA2
/// └── regionB
///     └── chapterB1
/// ```
struct OrganizationTreeFixture: Sendable {
    let national: Organization
    let regionA: Organization
    let chapterA1: Organization
    let chapterA2: Organization
    let regionB: Organization
    let chapterB1: Organization
    let other: Organization
    let otherRegion: Organization
    let otherChapter: Organization
}

/// Builders for organisations, users, roles and sessions, writing straight through the models.
enum IdentityFixtures {
    static let password = "correct horse battery staple"

    @discardableResult
    static func organization(
        _ app: Application, _ name: String, kind: Organization.Kind, parent: Organization? = nil,
        orgNumber: String? = nil
    ) async throws -> Organization {
        let organization = Organization(name: name, kind: kind, parentID: try parent?.requireID(), orgNumber: orgNumber)
        try await organization.create(on: app.db)
        return organization
    }

    static func tree(_ app: Application) async throws -> OrganizationTreeFixture {
        let national = try await organization(app, "Norges Testforbund", kind: .national)
        let regionA = try await organization(app, "Region Nord", kind: .regional, parent: national)
        let chapterA1 = try await organization(app, "Tromsø lokallag", kind: .local, parent: regionA)
        let chapterA2 = try await organization(app, "Bodø lokallag", kind: .local, parent: regionA)
        let regionB = try await organization(app, "Region Vest", kind: .regional, parent: national)
        let chapterB1 = try await organization(app, "Bergen lokallag", kind: .local, parent: regionB)
        let other = try await organization(app, "Annet Forbund", kind: .national)
        let otherRegion = try await organization(app, "Annen region", kind: .regional, parent: other)
        let otherChapter = try await organization(app, "Annet lokallag", kind: .local, parent: otherRegion)
        return OrganizationTreeFixture(
            national: national, regionA: regionA, chapterA1: chapterA1, chapterA2: chapterA2, regionB: regionB,
            chapterB1: chapterB1, other: other, otherRegion: otherRegion, otherChapter: otherChapter)
    }

    /// An active user with a password and, for each (role, organisation), an active membership and the role.
    /// `platform_admin` takes no organisation.
    @discardableResult
    static func user(
        _ app: Application, email: String, roles: [(UserRole.Role, Organization?)] = [],
        password: String = IdentityFixtures.password, membershipStatus: OrganizationMembership.Status = .active,
        hashCost: Int = 4
    ) async throws -> User {
        let user = User(
            email: User.normalize(email: email), firstName: "Test", lastName: "User",
            passwordHash: try PasswordHasher(cost: hashCost).hash(password), status: .active)
        try await user.create(on: app.db)
        let userID = try user.requireID()
        var memberOf = Set<UUID>()
        for (role, organization) in roles {
            let organizationID = try organization?.requireID()
            if let organizationID, !memberOf.contains(organizationID) {
                memberOf.insert(organizationID)
                try await OrganizationMembership(organizationID: organizationID, userID: userID, status: membershipStatus)
                    .create(on: app.db)
            }
            try await UserRole(userID: userID, organizationID: organizationID, role: role).create(on: app.db)
        }
        return user
    }

    /// A live session and an access token for it, minted directly (no password round-trip).
    static func signIn(_ app: Application, _ user: User) async throws -> SignedIn {
        let now = Date()
        let session = Session(
            userID: try user.requireID(), authMethod: .password, lastSeenAt: now,
            expiresAt: now.addingTimeInterval(app.meander.config.sessionMaxLifetime))
        try await session.create(on: app.db)
        let token = try await app.meander.tokens.accessToken(
            userID: try user.requireID(), sessionID: try session.requireID(), issuedAt: now)
        return SignedIn(user: user, sessionID: try session.requireID(), accessToken: token)
    }

    /// A user with roles, signed in.
    static func signedIn(
        _ app: Application, email: String, roles: [(UserRole.Role, Organization?)]
    ) async throws -> SignedIn {
        try await signIn(app, try await user(app, email: email, roles: roles))
    }
}

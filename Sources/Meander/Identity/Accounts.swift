import Fluent
import Foundation

/// A user's own account as its owner sees it: every membership that is not ended (invited, active, paused), each
/// with the live roles held there, and the live platform-wide roles (held in no organisation).
struct AccountRecord: Sendable {
    let user: User
    let memberships: [MembershipRecord]
    let platformRoles: [UserRole.Role]
}

/// The signed-in user's own account. It reads `users`, and memberships and roles through `Memberships`.
enum Accounts {
    /// The caller's account; 401 when the signed-in user no longer exists.
    static func me(access: Access, on db: any Database) async throws -> AccountRecord {
        let principal = try access.authorizeSelf()
        guard let user = try await User.find(principal.userID, on: db) else {
            throw AppError(.unauthorized, "A valid access token is required.")
        }
        return try await record(of: user, on: db)
    }

    /// The account record of a user.
    static func record(of user: User, on db: any Database) async throws -> AccountRecord {
        let userID = try user.requireID()
        let memberships = try await OrganizationMembership.query(on: db)
            .filter(\.$user.$id == userID)
            .filter(\.$status != .ended)
            .all()
        let platformRoles = try await UserRole.query(on: db)
            .filter(\.$user.$id == userID)
            .filter(\.$organization.$id == nil)
            .filter(\.$revokedAt == nil)
            .all()
            .map(\.role)
        return AccountRecord(
            user: user, memberships: try await Memberships.records(memberships, on: db), platformRoles: platformRoles)
    }
}

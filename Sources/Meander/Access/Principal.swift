import Fluent
import Foundation

/// The signed-in caller of a request: who, in which session, and the roles they hold where.
struct Principal: Sendable {
    /// One live role grant.
    struct Grant: Sendable, Hashable {
        var role: UserRole.Role
        /// `nil` for platform-wide roles (`platform_admin`).
        var organizationID: UUID?
    }

    var userID: UUID
    var sessionID: UUID
    var grants: [Grant]
    /// Organisations where the caller's membership is paused: they may read, but not create work there.
    var pausedOrganizationIDs: Set<UUID>

    /// Loads the live grants: roles not revoked, in organisations where the membership is active or paused.
    static func load(userID: UUID, sessionID: UUID, on db: any Database) async throws -> Principal {
        let memberships = try await OrganizationMembership.query(on: db)
            .filter(\.$user.$id == userID)
            .filter(\.$status ~~ [.active, .paused])
            .all()
        let memberOf = Set(memberships.map { $0.$organization.id })
        let roles = try await UserRole.query(on: db)
            .filter(\.$user.$id == userID)
            .filter(\.$revokedAt == nil)
            .all()
        let grants = roles.compactMap { role -> Grant? in
            guard let organizationID = role.$organization.id else {
                return Grant(role: role.role, organizationID: nil)
            }
            return memberOf.contains(organizationID) ? Grant(role: role.role, organizationID: organizationID) : nil
        }
        return Principal(
            userID: userID, sessionID: sessionID, grants: grants,
            pausedOrganizationIDs: Set(memberships.filter { $0.status == .paused }.map { $0.$organization.id }))
    }

    /// What authentication checks about the session and its user.
    struct SessionState: Sendable {
        var revokedAt: Date?
        var expiresAt: Date
        var lastSeenAt: Date
        var userIsActive: Bool
    }

    /// The session (which must belong to `userID`) and the caller's live grants in one query: every request
    /// makes it, so it reads plain columns instead of four models. `nil` when there is no such session.
    static func loadWithSession(
        userID: UUID, sessionID: UUID, on db: any Database
    ) async throws -> (session: SessionState, principal: Principal)? {
        let rows = try await AccessStatement(sessionID: sessionID, userID: userID).rows(on: db)
        guard let first = rows.first else { return nil }
        var grants: [Grant] = []
        var paused: Set<UUID> = []
        for row in rows {
            guard let role = row.role.flatMap(UserRole.Role.init(rawValue:)) else {
                // The second part: a paused membership, with or without a role there.
                if let organizationID = row.roleOrganizationId, row.membershipStatus == "paused" { paused.insert(organizationID) }
                continue
            }
            guard let organizationID = row.roleOrganizationId else {
                grants.append(Grant(role: role, organizationID: nil))
                continue
            }
            // A role counts only where the membership is live (active or paused), as in `load`.
            switch row.membershipStatus.flatMap(OrganizationMembership.Status.init(rawValue:)) {
            case .active?: grants.append(Grant(role: role, organizationID: organizationID))
            case .paused?:
                grants.append(Grant(role: role, organizationID: organizationID))
                paused.insert(organizationID)
            default: continue
            }
        }
        let session = SessionState(
            revokedAt: first.revokedAt, expiresAt: first.expiresAt, lastSeenAt: first.lastSeenAt,
            userIsActive: first.userStatus == User.Status.active.rawValue)
        return (session, Principal(userID: userID, sessionID: sessionID, grants: grants, pausedOrganizationIDs: paused))
    }

    func holds(_ role: UserRole.Role) -> Bool {
        grants.contains { $0.role == role }
    }
}

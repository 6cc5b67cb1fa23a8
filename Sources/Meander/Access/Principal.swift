import Fluent
import FluentSQL
import Foundation
import Vapor

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
        struct Row: Decodable {
            var revokedAt: Date?
            var expiresAt: Date
            var lastSeenAt: Date
            var userStatus: String
            var role: String?
            var roleOrganizationId: UUID?
            var membershipStatus: String?
        }
        let rows = try await db.sqlDatabase().raw(
            """
            SELECT s.revoked_at AS revoked_at, s.expires_at AS expires_at, s.last_seen_at AS last_seen_at,
                u.status AS user_status, r.role AS role, r.organization_id AS role_organization_id,
                m.status AS membership_status
            FROM sessions s
            JOIN users u ON u.id = s.user_id
            LEFT JOIN user_roles r ON r.user_id = s.user_id AND r.revoked_at IS NULL
            LEFT JOIN organization_memberships m ON m.user_id = s.user_id AND m.organization_id = r.organization_id
            WHERE s.id = \(bind: sessionID) AND s.user_id = \(bind: userID)
            UNION ALL
            SELECT s.revoked_at, s.expires_at, s.last_seen_at, u.status, NULL, m.organization_id, m.status
            FROM sessions s
            JOIN users u ON u.id = s.user_id
            JOIN organization_memberships m ON m.user_id = s.user_id AND m.status = 'paused'
            WHERE s.id = \(bind: sessionID) AND s.user_id = \(bind: userID)
            """
        ).all(decoding: Row.self, keyDecodingStrategy: .convertFromSnakeCase)
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

extension Request {
    private struct PrincipalKey: StorageKey {
        typealias Value = Principal
    }

    private struct PermissionKey: StorageKey {
        typealias Value = Permission
    }

    /// The signed-in caller, set by `AccessMiddleware` on operations that need one.
    var principal: Principal? {
        get { storage[PrincipalKey.self] }
        set { storage[PrincipalKey.self] = newValue }
    }

    /// The caller, or 401 if the request is anonymous.
    func requirePrincipal() throws -> Principal {
        guard let principal else { throw AppError(.unauthorized, "Sign in first.") }
        return principal
    }

    /// The permission the matched operation declares in the contract.
    var permission: Permission? {
        get { storage[PermissionKey.self] }
        set { storage[PermissionKey.self] = newValue }
    }
}

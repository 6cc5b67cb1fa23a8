import FluentKit
import FluentSQL
import Foundation
import PostgresNIO

// The access check's one statement, prepared per connection on PostgreSQL (see `SharedStatement`). A read model over
// other capabilities' tables, as every request's access check needs them together: `sessions` and `users`
// (Identity), `user_roles` and `organization_memberships` (Organizations). It writes nothing.

/// The session, its user and the live grants, with paused memberships, in one query (`Principal.loadWithSession`).
struct AccessStatement: SharedStatement {
    static let name = "meander.access"

    struct Row: Sendable {
        var revokedAt: Date?
        var expiresAt: Date
        var lastSeenAt: Date
        var userStatus: String
        var role: String?
        var roleOrganizationId: UUID?
        var membershipStatus: String?
    }

    static let sql = """
        SELECT s.revoked_at AS revoked_at, s.expires_at AS expires_at, s.last_seen_at AS last_seen_at,
            u.status AS user_status, r.role AS role, r.organization_id AS role_organization_id,
            m.status AS membership_status
        FROM sessions s
        JOIN users u ON u.id = s.user_id
        LEFT JOIN user_roles r ON r.user_id = s.user_id AND r.revoked_at IS NULL
        LEFT JOIN organization_memberships m ON m.user_id = s.user_id AND m.organization_id = r.organization_id
        WHERE s.id = $1 AND s.user_id = $2
        UNION ALL
        SELECT s.revoked_at, s.expires_at, s.last_seen_at, u.status, NULL, m.organization_id, m.status
        FROM sessions s
        JOIN users u ON u.id = s.user_id
        JOIN organization_memberships m ON m.user_id = s.user_id AND m.status = 'paused'
        WHERE s.id = $1 AND s.user_id = $2
        """

    let sessionID: UUID
    let userID: UUID

    var values: [StatementValue] { [.uuid(sessionID), .uuid(userID)] }

    /// Column by column: a `Decodable` row with snake-case keys cost more to decode than the query took.
    static func decode(_ row: any SQLRow) throws -> Row {
        Row(
            revokedAt: try row.decode(column: "revoked_at", as: Date?.self),
            expiresAt: try row.decode(column: "expires_at", as: Date.self),
            lastSeenAt: try row.decode(column: "last_seen_at", as: Date.self),
            userStatus: try row.decode(column: "user_status", as: String.self),
            role: try row.decode(column: "role", as: String?.self),
            roleOrganizationId: try row.decode(column: "role_organization_id", as: UUID?.self),
            membershipStatus: try row.decode(column: "membership_status", as: String?.self))
    }
}

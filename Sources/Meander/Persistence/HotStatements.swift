import FluentKit
import FluentSQL
import Foundation
import PostgresNIO

// The statements of the request path, prepared per connection on PostgreSQL (see `SharedStatement`).

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

/// An organisation and its ancestors, nearest first, in one recursive query (`OrganizationTree.lineage`).
struct LineageStatement: SharedStatement {
    static let name = "meander.lineage"

    typealias Row = Organization

    static let sql = """
        WITH RECURSIVE chain(id, depth) AS (
            SELECT id, 0 FROM organizations WHERE id = $1
            UNION ALL
            SELECT o.parent_id, c.depth + 1 FROM organizations o JOIN chain c ON o.id = c.id
            WHERE o.parent_id IS NOT NULL AND c.depth < 15
        )
        SELECT \(Organization.plainColumns) FROM organizations JOIN chain c USING (id) ORDER BY c.depth
        """

    let organizationID: UUID

    var values: [StatementValue] { [.uuid(organizationID)] }

    static func decode(_ row: any SQLRow) throws -> Organization {
        try Organization(plainRow: row)
    }
}

/// One activity type by id.
struct ActivityTypeStatement: SharedStatement {
    static let name = "meander.activity_type"

    typealias Row = ActivityType

    static let sql = "SELECT \(ActivityType.plainColumns) FROM activity_types WHERE id = $1"

    let id: UUID

    var values: [StatementValue] { [.uuid(id)] }

    static func decode(_ row: any SQLRow) throws -> ActivityType {
        try ActivityType(plainRow: row)
    }
}

/// A reporting year's counting rules, as stored (`BufdirRules.load`).
struct CountingRulesStatement: SharedStatement {
    static let name = "meander.counting_rules"

    struct Row: Sendable {
        var ruleKey: String
        var parameters: String
    }

    static let sql = "SELECT rule_key, parameters FROM bufdir_counting_rules WHERE reporting_year = $1"

    let year: Int

    var values: [StatementValue] { [.integer(year)] }

    static func decode(_ row: any SQLRow) throws -> Row {
        Row(
            ruleKey: try row.decode(column: "rule_key", as: String.self),
            parameters: try row.decode(column: "parameters", as: String.self))
    }
}

/// The id of the activity an upload with this client id made in the organisation, deleted or not.
struct ActivityByClientIDStatement: SharedStatement {
    static let name = "meander.activity_by_client_id"

    typealias Row = UUID

    static let sql = "SELECT id FROM activities WHERE organization_id = $1 AND client_id = $2"

    let organizationID: UUID
    let clientID: UUID

    var values: [StatementValue] { [.uuid(organizationID), .uuid(clientID)] }

    static func decode(_ row: any SQLRow) throws -> UUID {
        try row.decode(column: "id", as: UUID.self)
    }
}

/// A new activity, unless the organisation has one with its client id or the day lies in a closed Bufdir period of
/// its lineage (`ActivityLogging.insert`): the new id, or no row. The closed-period check rides along in the insert
/// (a round trip fewer on every upload); only when nothing was written is it asked on its own, to tell which.
struct InsertActivityStatement: SharedStatement {
    static let name = "meander.insert_activity"

    typealias Row = UUID

    static let sql = """
        INSERT INTO activities (id, created_at, updated_at, organization_id, mentor_id, registered_by_id,
            contact_id, activity_type_id, client_id, occurred_at, duration_minutes, participant_count, place,
            channel, country_code, municipality_code, summary_ciphertext, key_version, status, counts_for_bufdir,
            bufdir_reason)
        SELECT $1, $2, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20
        WHERE NOT EXISTS (
            SELECT 1 FROM bufdir_reports WHERE \(ClosedPeriodStatement.condition(firstParameter: 21))
        )
        ON CONFLICT (organization_id, client_id) DO NOTHING
        RETURNING id
        """

    let activity: Activity
    let now: Date
    /// The organisation's lineage, nearest first.
    let lineageIDs: [UUID]

    var values: [StatementValue] {
        [
            .uuid(activity.id), .time(now), .uuid(activity.$organization.id), .uuid(activity.$mentor.id),
            .uuid(activity.$registeredBy.id), .uuid(activity.$contact.id), .uuid(activity.$activityType.id),
            .uuid(activity.clientID), .time(activity.occurredAt), .integer(activity.durationMinutes),
            .integer(activity.participantCount), .text(activity.place), .text(activity.channel?.rawValue),
            .text(activity.countryCode), .text(activity.municipalityCode), .bytes(activity.summaryCiphertext),
            .integer(activity.keyVersion), .text(activity.status.rawValue), .flag(activity.countsForBufdir),
            .text(activity.bufdirReason),
        ] + ClosedPeriodStatement.values(lineageIDs, day: ClosedPeriods.day(of: activity.occurredAt))
    }

    static func decode(_ row: any SQLRow) throws -> UUID {
        try row.decode(column: "id", as: UUID.self)
    }
}

/// Moves the audit checkpoint on and inserts the entry, in one statement (`AuditLog.append`). PostgreSQL only: the
/// hash is computed in SQL.
struct AuditAppendStatement: SharedStatement {
    static let name = "meander.audit_append"

    struct Row: Sendable {
        var sequence: Int64
        var previousHash: String
        var hash: String
    }

    static let sql = """
        WITH head AS (
            UPDATE audit_chain_heads SET sequence = sequence + 1, previous_hash = hash,
                hash = encode(sha256(convert_to(hash || $1 || (sequence + 1)::text || $2, 'UTF8')), 'hex')
            WHERE id = $3
            RETURNING sequence, previous_hash, hash
        )
        INSERT INTO audit_log_entries (id, sequence, created_at, actor_user_id, session_id, organization_id,
            target_id, action, target_type, outcome, client, ip, user_agent, metadata, previous_hash, hash)
        SELECT $4, head.sequence, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, head.previous_hash, head.hash
        FROM head
        RETURNING sequence, previous_hash, hash
        """

    let entry: AuditLogEntry
    let beforeSequence: String
    let afterSequence: String

    var values: [StatementValue] {
        [
            .text(beforeSequence), .text(afterSequence), .integer(AuditChainHead.singletonID), .uuid(entry.id),
            .time(entry.createdAt), .uuid(entry.actorUserID), .uuid(entry.sessionID), .uuid(entry.organizationID),
            .uuid(entry.targetID), .text(entry.action), .text(entry.targetType), .text(entry.outcome.rawValue),
            .text(entry.client.rawValue), .text(entry.ip), .text(entry.userAgent), .text(entry.metadata),
        ]
    }

    static func decode(_ row: any SQLRow) throws -> Row {
        Row(
            sequence: try row.decode(column: "sequence", as: Int64.self),
            previousHash: try row.decode(column: "previous_hash", as: String.self),
            hash: try row.decode(column: "hash", as: String.self))
    }
}

/// Whether a finalised or submitted Bufdir report of the lineage covers a day (`ClosedPeriods.contains`). The
/// lineage (at most `maxLineage` organisations) fills a fixed list of parameters, the rest NULL, so that the
/// statement keeps one shape.
struct ClosedPeriodStatement: SharedStatement {
    static let name = "meander.closed_period"

    typealias Row = Int

    static let maxLineage = 16

    static let sql = "SELECT 1 AS closed FROM bufdir_reports WHERE \(condition(firstParameter: 1)) LIMIT 1"

    /// The `bufdir_reports` condition, its lineage in `maxLineage` parameters from `firstParameter` on and the day
    /// in the one after them (`values(_:day:)` gives them).
    static func condition(firstParameter first: Int) -> String {
        let day = first + maxLineage
        return """
            organization_id IN (\((first..<day).map { "$\($0)" }.joined(separator: ", ")))
                AND status IN ('finalized', 'submitted') AND period_start <= $\(day) AND period_end >= $\(day)
            """
    }

    /// The values of `condition(firstParameter:)`: the lineage padded with NULL, then the day (`yyyy-MM-dd`).
    static func values(_ organizationIDs: [UUID], day: String) -> [StatementValue] {
        (0..<maxLineage).map { .uuid(organizationIDs.indices.contains($0) ? organizationIDs[$0] : nil) } + [.text(day)]
    }

    let organizationIDs: [UUID]
    let day: String

    var values: [StatementValue] { Self.values(organizationIDs, day: day) }

    static func decode(_ row: any SQLRow) throws -> Int {
        try row.decode(column: "closed", as: Int.self)
    }
}

import FluentKit
import FluentSQL
import Foundation
import PostgresNIO

// The audit chain's append, prepared per connection on PostgreSQL (see `SharedStatement`).

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

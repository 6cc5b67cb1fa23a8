import Crypto
import Fluent
import FluentSQL
import Foundation
import Vapor

/// One security-relevant event to append to the audit chain.
struct AuditEvent: Sendable {
    /// Stable, dotted kind, e.g. `auth.login`, `auth.refresh_reuse`, `membership.paused`.
    var action: String
    var outcome: AuditLogEntry.Outcome
    var actorUserID: UUID?
    var sessionID: UUID?
    var organizationID: UUID?
    var targetType: String?
    var targetID: UUID?
    var client: AuditLogEntry.Client = .api
    var ip: String?
    var userAgent: String?
    /// Further details; never special-category data. Not hashed, like `ip` and `userAgent`.
    var metadata: [String: String] = [:]

    init(
        _ action: String, outcome: AuditLogEntry.Outcome = .success, actorUserID: UUID? = nil,
        sessionID: UUID? = nil, organizationID: UUID? = nil, targetType: String? = nil, targetID: UUID? = nil,
        client: AuditLogEntry.Client = .api, ip: String? = nil, userAgent: String? = nil,
        metadata: [String: String] = [:]
    ) {
        self.action = action
        self.outcome = outcome
        self.actorUserID = actorUserID
        self.sessionID = sessionID
        self.organizationID = organizationID
        self.targetType = targetType
        self.targetID = targetID
        self.client = client
        self.ip = ip
        self.userAgent = userAgent
        self.metadata = metadata
    }

    /// An event about a request: actor and session from the signed-in caller, IP, user agent and client.
    init(
        _ action: String, request: Request, outcome: AuditLogEntry.Outcome = .success,
        organizationID: UUID? = nil, targetType: String? = nil, targetID: UUID? = nil,
        actorUserID: UUID? = nil, sessionID: UUID? = nil, metadata: [String: String] = [:]
    ) {
        self.init(
            action, outcome: outcome, actorUserID: actorUserID ?? request.principal?.userID,
            sessionID: sessionID ?? request.principal?.sessionID, organizationID: organizationID,
            targetType: targetType, targetID: targetID, client: AuditEvent.client(of: request),
            ip: request.remoteAddress?.ipAddress,
            userAgent: request.headers.first(name: .userAgent).map { String($0.prefix(512)) }, metadata: metadata)
    }

    /// `X-Meander-Client: mobile|portal|cli` names the client; anything else counts as a plain API client.
    static func client(of request: Request) -> AuditLogEntry.Client {
        switch request.headers.first(name: "X-Meander-Client")?.lowercased() {
        case "mobile": .mobile
        case "portal", "admin-portal", "admin_portal": .portal
        case "cli": .cli
        default: .api
        }
    }
}

/// The append-only, hash-chained audit log.
///
/// `hash = SHA-256(previous_hash ‖ canonical content)`, where the canonical content holds only the sequence, the
/// time (to the millisecond), pseudonymous ids, the action, target, outcome and client. IP, user agent and
/// metadata stay outside the hash, so that erasing personal data never breaks verification.
enum AuditLog {
    /// Appends one entry, serialised with every other append so that the sequence stays gapless and the chain
    /// linear: an advisory transaction lock on PostgreSQL (across app nodes), SQLite's own write lock on SQLite.
    @discardableResult
    static func append(_ event: AuditEvent, on db: any Database, at time: Date = Date()) async throws -> AuditLogEntry {
        if db is any SQLDatabase, (db as? any SQLDatabase)?.dialect.name == "postgresql" {
            return try await db.transaction { transaction in
                try await (transaction as! any SQLDatabase).raw("SELECT pg_advisory_xact_lock(\(bind: lockKey))").run()
                return try await appendUnlocked(event, on: transaction, at: time)
            }
        }
        return try await db.identityTransaction { transaction in
            // SQLite has one writer at a time. Taking the write lock first (a no-op write) makes concurrent appenders
            // queue on it (busy timeout) instead of all reading the head and then failing to upgrade to a writer;
            // inside a caller's transaction that already wrote, the lock is already held. No in-process lock is
            // taken, so an append inside a write transaction can never wait on another transaction.
            try await (transaction as! any SQLDatabase)
                .raw("UPDATE audit_chain_heads SET sequence = sequence WHERE id = \(bind: AuditChainHead.singletonID)")
                .run()
            return try await appendUnlocked(event, on: transaction, at: time)
        }
    }

    /// Appends one entry per event in a single locked transaction (for tests and batch jobs).
    private static func appendUnlocked(_ event: AuditEvent, on db: any Database, at time: Date) async throws -> AuditLogEntry {
        // Plain columns, not models: this runs under the chain lock on every audited write.
        struct Head: Decodable {
            var sequence: Int64
            var hash: String
        }
        let sql = try db.sqlDatabase()
        let newest = try await sql.raw("SELECT sequence, hash FROM audit_log_entries ORDER BY sequence DESC LIMIT 1")
            .first(decoding: Head.self)
        let checkpoint = try await sql.raw(
            "SELECT sequence, hash FROM audit_chain_heads WHERE id = \(bind: AuditChainHead.singletonID)"
        ).first(decoding: Head.self)
        // Continue from whichever is further on. Only a deleted tail leaves the checkpoint ahead of the rows; chaining
        // on from the checkpoint keeps that deletion a visible gap instead of papering over it with new entries.
        let head: (sequence: Int64, hash: String)? =
            if let checkpoint, checkpoint.sequence > (newest?.sequence ?? 0) {
                (checkpoint.sequence, checkpoint.hash)
            } else {
                newest.map { ($0.sequence, $0.hash) }
            }
        let entry = AuditLogEntry(
            sequence: (head?.sequence ?? 0) + 1,
            createdAt: Date(timeIntervalSince1970: (time.timeIntervalSince1970 * 1000).rounded() / 1000),
            action: event.action, outcome: event.outcome, client: event.client,
            actorUserID: event.actorUserID, sessionID: event.sessionID, organizationID: event.organizationID,
            targetType: event.targetType, targetID: event.targetID, ip: event.ip, userAgent: event.userAgent,
            metadata: JSONText.encode(event.metadata),
            previousHash: head?.hash ?? AuditLogEntry.genesisHash, hash: "")
        entry.hash = hash(of: entry)
        try await entry.create(on: db)
        // The checkpoint moves in the same transaction, so it never disagrees with the committed rows.
        if checkpoint != nil {
            try await sql.raw(
                """
                UPDATE audit_chain_heads SET sequence = \(bind: entry.sequence), hash = \(bind: entry.hash)
                WHERE id = \(bind: AuditChainHead.singletonID)
                """
            ).run()
        } else {
            try await AuditChainHead(sequence: entry.sequence, hash: entry.hash).create(on: db)
        }
        return entry
    }

    /// The chain hash of an entry, from its `previous_hash` and canonical content.
    static func hash(of entry: AuditLogEntry) -> String {
        var data = Data(entry.previousHash.utf8)
        data.append(canonicalContent(of: entry))
        return Digest.sha256Hex(data)
    }

    /// The hashed content: fixed field order, lowercase ids, milliseconds since 1970, `\u{1F}`-separated.
    static func canonicalContent(of entry: AuditLogEntry) -> Data {
        func id(_ value: UUID?) -> String { value?.uuidString.lowercased() ?? "" }
        let fields = [
            "v1",
            String(entry.sequence),
            String(Int64((entry.createdAt.timeIntervalSince1970 * 1000).rounded())),
            id(entry.actorUserID),
            id(entry.sessionID),
            id(entry.organizationID),
            entry.action,
            entry.targetType ?? "",
            id(entry.targetID),
            entry.outcome.rawValue,
            entry.client.rawValue,
        ]
        return Data(fields.joined(separator: "\u{1F}").utf8)
    }

    /// Any constant works; it names the audit chain's advisory lock on PostgreSQL.
    private static let lockKey: Int64 = 0x4D45_414E_4445_5201
}

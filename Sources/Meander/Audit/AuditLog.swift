import Crypto
import Fluent
import FluentSQL
import Foundation

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
    /// The clock that dates the entry when it is appended: the app's for a request; `nil` for the machine's.
    var clock: AppClock?

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
}

/// The append-only, hash-chained audit log.
///
/// `hash = SHA-256(previous_hash ‖ canonical content)`, where the canonical content holds only the sequence, the
/// time (to the millisecond), pseudonymous ids, the action, target, outcome and client. IP, user agent and
/// metadata stay outside the hash, so that erasing personal data never breaks verification.
enum AuditLog {
    /// Appends one entry, serialised with every other append so that the sequence stays gapless and the chain
    /// linear.
    ///
    /// The checkpoint row (`audit_chain_heads`) is the chain's head and its lock. On PostgreSQL one statement moves
    /// it on (the row lock serialises appenders across app nodes, and is held only from that statement to the
    /// commit) and inserts the entry; the hash is computed in SQL from the same canonical bytes as
    /// `hash(of:)`, and checked against it before the transaction may commit. On SQLite its single writer does the
    /// serialising. An entry already beyond the checkpoint (written behind the log's back) or a missing checkpoint
    /// stops every append with `AuditLog.divergedMessage` (503) instead of chaining on from a forgery.
    @discardableResult
    static func append(_ event: AuditEvent, on db: any Database, at time: Date? = nil) async throws -> AuditLogEntry {
        // The time given, else now by the event's clock (a request's: the app's), else by the machine's.
        let time = time ?? event.clock?.now() ?? Date()
        let entry = AuditLogEntry(
            id: UUID(), sequence: 0,
            createdAt: Date(timeIntervalSince1970: (time.timeIntervalSince1970 * 1000).rounded() / 1000),
            action: event.action, outcome: event.outcome, client: event.client,
            actorUserID: event.actorUserID, sessionID: event.sessionID, organizationID: event.organizationID,
            targetType: event.targetType, targetID: event.targetID, ip: event.ip, userAgent: event.userAgent,
            metadata: JSONText.encode(event.metadata), previousHash: "", hash: "")
        do {
            if let sql = db as? any SQLDatabase, sql.dialect.name == "postgresql" {
                // The statement is atomic on its own; the transaction (the caller's, when there is one) is there so
                // that the hash check after it can still undo it.
                return try await db.transaction { transaction in
                    try await appendInOneStatement(entry, on: transaction)
                    return entry
                }
            }
            return try await db.writeTransaction { transaction in
                try await appendOnSQLite(entry, on: transaction)
                return entry
            }
        } catch let error as any DatabaseError where error.isConstraintFailure {
            throw AppError(.serviceUnavailable, divergedMessage)
        }
    }

    /// Why appends stop when the checkpoint and the entries disagree.
    static let divergedMessage =
        "The audit chain has an entry beyond its checkpoint (or no checkpoint): audited changes are refused until "
        + "an operator has run `meander audit verify` and dealt with what it names."

    /// PostgreSQL: move the checkpoint on and insert the entry in one statement (see `append`).
    private static func appendInOneStatement(_ entry: AuditLogEntry, on db: any Database) async throws {
        let (before, after) = canonicalParts(of: entry)
        let row = try await AuditAppendStatement(entry: entry, beforeSequence: before, afterSequence: after)
            .first(on: db)
        guard let row else { throw AppError(.serviceUnavailable, divergedMessage) }
        entry.sequence = row.sequence
        entry.previousHash = row.previousHash
        entry.hash = row.hash
        // The database's hash must be the one verification recomputes; if not, the transaction must not commit.
        guard hash(of: entry) == row.hash else {
            throw AppError(.internalError, "The audit entry's hash differs from the canonical one; nothing was saved.")
        }
    }

    /// SQLite: read the checkpoint, insert the entry, move the checkpoint, in one transaction.
    private static func appendOnSQLite(_ entry: AuditLogEntry, on db: any Database) async throws {
        struct Head: Decodable {
            var sequence: Int64
            var hash: String
        }
        let sql = try db.sqlDatabase()
        // SQLite has one writer at a time. Moving the checkpoint first takes the write lock, so concurrent appenders
        // queue on it (busy timeout) instead of all reading the head and then failing to upgrade to a writer;
        // inside a caller's transaction that already wrote, the lock is already held.
        let head = try await sql.raw(
            """
            UPDATE audit_chain_heads SET previous_hash = hash WHERE id = \(bind: AuditChainHead.singletonID)
            RETURNING sequence, hash
            """
        ).first(decoding: Head.self)
        guard let head else { throw AppError(.serviceUnavailable, divergedMessage) }
        entry.sequence = head.sequence + 1
        entry.previousHash = head.hash
        entry.hash = hash(of: entry)
        try await entry.create(on: db)
        try await sql.raw(
            """
            UPDATE audit_chain_heads SET sequence = \(bind: entry.sequence), hash = \(bind: entry.hash)
            WHERE id = \(bind: AuditChainHead.singletonID)
            """
        ).run()
    }

    /// The chain hash of an entry, from its `previous_hash` and canonical content.
    static func hash(of entry: AuditLogEntry) -> String {
        var data = Data(entry.previousHash.utf8)
        data.append(canonicalContent(of: entry))
        return Digest.sha256Hex(data)
    }

    /// The hashed content: fixed field order, lowercase ids, milliseconds since 1970, `\u{1F}`-separated.
    static func canonicalContent(of entry: AuditLogEntry) -> Data {
        let (before, after) = canonicalParts(of: entry)
        return Data((before + String(entry.sequence) + after).utf8)
    }

    /// The canonical content around the sequence number (the second field), so that PostgreSQL can hash an entry
    /// whose sequence it assigns itself.
    static func canonicalParts(of entry: AuditLogEntry) -> (beforeSequence: String, afterSequence: String) {
        func id(_ value: UUID?) -> String { value?.uuidString.lowercased() ?? "" }
        let rest = [
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
        return ("v1\u{1F}", "\u{1F}" + rest.joined(separator: "\u{1F}"))
    }

}

import FluentKit
import Foundation

/// One entry of the append-only, hash-chained audit log of security-relevant events.
///
/// Actor, session, organisation and target are plain UUID columns without foreign keys: the log must outlive the
/// rows it mentions, and neither a restricting nor a nulling foreign key may block or rewrite history (a changed
/// column would also break the hash chain). `created_at` is a plain field set by the appender, not a Fluent
/// timestamp, because it is part of the hashed content and must not be overwritten on save.
final class AuditLogEntry: Model, @unchecked Sendable {
    static let schema = "audit_log_entries"

    /// How the action ended.
    enum Outcome: String, Codable, CaseIterable, Sendable {
        case success
        case failure
        case denied
    }

    /// Where the action came from.
    enum Client: String, Codable, CaseIterable, Sendable {
        case mobile
        case portal
        case cli
        case system
        case api
    }

    /// The `previous_hash` of the first entry.
    static let genesisHash = String(repeating: "0", count: 64)

    @ID(key: .id)
    var id: UUID?

    // managed

    /// Position in the chain, 1-based, gapless.
    @Field(key: "sequence")
    var sequence: Int64

    @Field(key: "created_at")
    var createdAt: Date

    // references (plain ids, see above)

    @OptionalField(key: "actor_user_id")
    var actorUserID: UUID?

    @OptionalField(key: "session_id")
    var sessionID: UUID?

    @OptionalField(key: "organization_id")
    var organizationID: UUID?

    @OptionalField(key: "target_id")
    var targetID: UUID?

    // data

    /// Dotted action name, e.g. `auth.login`, `dispatch.decrypt`, `activity.correct`.
    @Field(key: "action")
    var action: String

    @OptionalField(key: "target_type")
    var targetType: String?

    @Field(key: "outcome")
    var outcome: Outcome

    @Field(key: "client")
    var client: Client

    @OptionalField(key: "ip")
    var ip: String?

    /// The client's `User-Agent`, cut to 512 characters; personal data, so outside the hashed content.
    @OptionalField(key: "user_agent")
    var userAgent: String?

    /// JSON object of further details; never special-category data.
    @Field(key: "metadata")
    var metadata: String

    /// Hex SHA-256 of the preceding entry (`genesisHash` for the first).
    @Field(key: "previous_hash")
    var previousHash: String

    /// Hex SHA-256 over this entry's content and `previous_hash`.
    @Field(key: "hash")
    var hash: String

    init() {}

    init(
        id: UUID? = nil,
        sequence: Int64,
        createdAt: Date,
        action: String,
        outcome: Outcome,
        client: Client,
        actorUserID: UUID? = nil,
        sessionID: UUID? = nil,
        organizationID: UUID? = nil,
        targetType: String? = nil,
        targetID: UUID? = nil,
        ip: String? = nil,
        userAgent: String? = nil,
        metadata: String = "{}",
        previousHash: String,
        hash: String
    ) {
        self.id = id
        self.sequence = sequence
        self.createdAt = createdAt
        self.action = action
        self.outcome = outcome
        self.client = client
        self.actorUserID = actorUserID
        self.sessionID = sessionID
        self.organizationID = organizationID
        self.targetType = targetType
        self.targetID = targetID
        self.ip = ip
        self.userAgent = userAgent
        self.metadata = metadata
        self.previousHash = previousHash
        self.hash = hash
    }
}

import FluentKit
import Foundation

/// The checkpoint of the audit chain: the sequence and hash of the newest entry, in a single row (`id = 1`).
///
/// `AuditLog.append` moves it forward in the same transaction as each entry, and it is the head appends chain on
/// from (and the row whose lock serialises them), so verification can tell a truncated
/// tail (the newest rows deleted), which the rows alone cannot show, and a row appended behind the log's back. It
/// only guards against someone who can delete audit rows but does not also rewrite this row; the head hash exported
/// outside the database (issue 5) is the anchor that does not share that weakness.
final class AuditChainHead: Model, @unchecked Sendable {
    static let schema = "audit_chain_heads"

    /// The id of the one row.
    static let singletonID = 1

    @ID(custom: "id", generatedBy: .user)
    var id: Int?

    // data

    /// The sequence of the newest entry appended through `AuditLog` (0 before the first).
    @Field(key: "sequence")
    var sequence: Int64

    /// The hash of that entry (`AuditLogEntry.genesisHash` before the first).
    @Field(key: "hash")
    var hash: String

    /// The hash of the entry before it (nil until the first append after the column was added).
    @OptionalField(key: "previous_hash")
    var previousHash: String?

    init() {}

    init(sequence: Int64, hash: String) {
        self.id = Self.singletonID
        self.sequence = sequence
        self.hash = hash
    }
}

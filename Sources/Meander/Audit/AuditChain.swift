import Fluent
import Foundation

/// Verification of the audit chain: walks every entry in sequence order and names the first one that is wrong.
///
/// Checked for each entry, in this order: its sequence follows the previous one without a gap or repeat, its
/// `previous_hash` is the previous entry's `hash` (`AuditLogEntry.genesisHash` for the first), and its `hash` is
/// the recomputed `AuditLog.hash(of:)`. A changed byte in the hashed content shows as a hash mismatch at that
/// entry, a deleted row as a gap, a reordered or inserted row as a broken link. After the last entry, the
/// checkpoint in `audit_chain_heads` shows a deleted tail, which the rows alone cannot.
///
/// Limits: someone who can rewrite the database can rewrite an entry, every hash after it and the checkpoint, and
/// the result is a valid chain. Only a head hash kept outside the database (the export of issue 5) catches that.
/// A row forged with a correct hash is found at the first entry whose link or checkpoint it breaks, which is not
/// always the forged row itself.
enum AuditChain {
    /// The outcome of a verification run.
    struct Result: Equatable, Sendable {
        /// Whether the whole chain checks out.
        var isValid: Bool { firstBadSequence == nil }
        /// The number of entries in the chain.
        var entryCount: Int64
        /// The hash of the newest entry when the chain is valid (nil for an empty or a broken chain).
        var headHash: String?
        /// The first sequence number where the chain breaks.
        var firstBadSequence: Int64?
        /// What is wrong at `firstBadSequence`.
        var problem: String?

        static func valid(count: Int64, head: String?) -> Result {
            Result(entryCount: count, headHash: head)
        }
    }

    /// Entries read per query; a chain of millions is streamed, never loaded at once.
    static let pageSize = 5_000

    /// Verifies the whole chain on `db`; `progress(done, total)` is called after each page.
    static func verify(
        on db: any Database, pageSize: Int = AuditChain.pageSize,
        progress: (_ done: Int64, _ total: Int64) -> Void = { _, _ in }
    ) async throws -> Result {
        // Read before the rows: whatever the checkpoint says now was committed together with its entry, so a row
        // of that sequence must be there when the walk arrives.
        let checkpointAtStart = try await AuditChainHead.find(AuditChainHead.singletonID, on: db)
        let total = Int64(try await AuditLogEntry.query(on: db).count())

        var verifier = Verifier(total: total)
        // Keyset paging on the sequence alone (ids are not compared: SQLite keeps them as text, whose order depends
        // on letter case). Each page starts at the last sequence seen again, so a repeated sequence that straddles
        // two pages is still met; the rows already checked there are skipped by id.
        var lastSequence: Int64?
        var seenAtLast: Set<UUID> = []
        while true {
            let query = AuditLogEntry.query(on: db)
            if let lastSequence {
                query.filter(\.$sequence >= lastSequence)
            }
            let limit = pageSize + seenAtLast.count
            let rows = try await query.sort(\.$sequence).sort(\.$id).limit(limit).all()
            var fresh = 0
            for entry in rows {
                let id = try entry.requireID()
                if entry.sequence == lastSequence, seenAtLast.contains(id) { continue }
                fresh += 1
                if let broken = verifier.check(entry) {
                    return broken
                }
                if entry.sequence != lastSequence {
                    lastSequence = entry.sequence
                    seenAtLast = []
                }
                seenAtLast.insert(id)
            }
            progress(verifier.count, max(total, verifier.count))
            guard rows.count == limit, fresh > 0 else { break }
        }
        return try await verifier.finish(checkpointAtStart: checkpointAtStart, on: db)
    }

    /// The running state of one walk: feed it the entries in sequence order.
    struct Verifier {
        /// The rows counted at the start; reported for a broken chain.
        let total: Int64
        private(set) var count: Int64 = 0
        private var last: (sequence: Int64, hash: String)?

        init(total: Int64) {
            self.total = total
        }

        /// Checks the next entry in sequence order; returns the failure, or nil when the entry is sound.
        mutating func check(_ entry: AuditLogEntry) -> Result? {
            let expected = (last?.sequence ?? 0) + 1
            let sequence = entry.sequence
            if let last, sequence == last.sequence {
                return broken(at: sequence, "sequence \(sequence) appears twice")
            }
            if sequence != expected {
                return broken(at: expected, "gap: expected sequence \(expected), found \(sequence)")
            }
            if entry.previousHash != (last?.hash ?? AuditLogEntry.genesisHash) {
                let link = last.map { "entry \($0.sequence)" } ?? "the genesis hash"
                return broken(at: sequence, "previous_hash does not match \(link)")
            }
            if AuditLog.hash(of: entry) != entry.hash {
                return broken(at: sequence, "hash mismatch: content changed")
            }
            count += 1
            last = (sequence, entry.hash)
            return nil
        }

        /// Compares the end of the walk with the checkpoint.
        func finish(checkpointAtStart: AuditChainHead?, on db: any Database) async throws -> Result {
            let endSequence = last?.sequence ?? 0
            let endHash = last?.hash ?? AuditLogEntry.genesisHash
            let started = checkpointAtStart.map { ($0.sequence, $0.hash) } ?? (0, AuditLogEntry.genesisHash)
            if started.0 > endSequence {
                return broken(
                    at: endSequence + 1,
                    "missing: the chain ends at sequence \(endSequence) but the checkpoint records \(started.0) "
                        + "(the newest entries were deleted)")
            }
            if started.0 == endSequence {
                guard started.1 == endHash else { return mismatchedHead(endSequence) }
                return .valid(count: count, head: last?.hash)
            }
            // Entries beyond the checkpoint read at the start: either appended while we walked (then the checkpoint
            // has moved on with them) or written behind the audit log's back.
            let now = try await AuditChainHead.find(AuditChainHead.singletonID, on: db)
            let current = now.map { ($0.sequence, $0.hash) } ?? (0, AuditLogEntry.genesisHash)
            if current.0 < endSequence {
                return broken(
                    at: current.0 + 1,
                    "entry \(current.0 + 1) is beyond the checkpoint (sequence \(current.0)): "
                        + "it was not appended through the audit log")
            }
            if current.0 == endSequence, current.1 != endHash {
                return mismatchedHead(endSequence)
            }
            return .valid(count: count, head: last?.hash)
        }

        private func mismatchedHead(_ sequence: Int64) -> Result {
            broken(at: sequence, "hash does not match the checkpoint: entry \(sequence) was replaced")
        }

        private func broken(at sequence: Int64, _ problem: String) -> Result {
            Result(entryCount: total, headHash: nil, firstBadSequence: sequence, problem: problem)
        }
    }
}

import Crypto
import FluentKit
import FluentSQL
import Foundation

extension FieldCipher {
    // MARK: - Data key rotation

    /// Adds the organisation's next data key version, which new writes use from then on. Older versions stay (marked
    /// retired) and keep opening what they sealed, since each envelope names its version. Returns the new version;
    /// racing rotations of one organisation add a single version between them.
    @discardableResult
    func rotateDataKey(
        organizationID: UUID, on db: any Database, client: AuditLogEntry.Client = .cli, now: Date = Date()
    ) async throws -> Int {
        let previous = try await newestRow(organizationID: organizationID, on: db)?.version ?? 0
        let version = previous + 1
        let inserted = try await insertDataKey(organizationID: organizationID, version: version, on: db)
        try await db.sqlDatabase().raw(
            """
            UPDATE organization_data_keys SET retired_at = \(bind: now)
            WHERE organization_id = \(bind: organizationID) AND version < \(bind: version) AND retired_at IS NULL
            """
        ).run()
        forgetNewestVersion(of: organizationID)
        if inserted {
            try await AuditLog.append(
                AuditEvent(
                    "keys.data_key_rotated", organizationID: organizationID, targetType: "organization",
                    targetID: organizationID, client: client, metadata: ["version": String(version)]),
                on: db)
        }
        return version
    }

    // MARK: - Master key rotation

    /// What `rewrapDataKeys` did.
    struct RewrapSummary: Sendable, Equatable {
        /// The master key every re-wrapped data key is now under.
        var currentMasterKeyID: String
        /// Data keys in the table when the run started.
        var total = 0
        /// Already under the current master key at the start.
        var alreadyCurrent = 0
        /// Under a previous master key at the start: the work to do.
        var toRewrap = 0
        /// Re-wrapped by this run.
        var rewrapped = 0
        /// Re-wrapped by someone else (another `keys rotate`) between this run's read and its update.
        var rewrappedConcurrently = 0
        /// Data keys whose wrapping did not authenticate under the master key it names.
        var failed = 0
        /// Data keys per master key id that is neither current nor previous: they cannot be re-wrapped (or read).
        var unknownMasterKeys: [String: Int] = [:]

        /// Every data key is now under the current master key.
        var isComplete: Bool { failed == 0 && unknownMasterKeys.isEmpty }
    }

    /// Re-wraps every data key that is under a previous master key with the current one, `batchSize` rows at a time.
    ///
    /// Each row is updated with `WHERE id = ? AND master_key_id = <the id it was read with>`, so the run is safe while
    /// app nodes serve (they accept both master keys, and read wrapped key and master key id in one row), safe to run
    /// twice at once and safe to re-run. Data keys under an unknown master key are left as they are and reported.
    /// The run is audited as `keys.rotated` (counts only). `progress` gets (done, to do) after each batch.
    func rewrapDataKeys(
        on db: any Database, batchSize: Int = 100, progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }
    ) async throws -> RewrapSummary {
        precondition(batchSize > 0, "batchSize must be positive")
        let current = keyRing.current.id
        var summary = RewrapSummary(currentMasterKeyID: current)
        let previousIDs = Set(keyRing.previous.map(\.id))
        for (masterKeyID, count) in try await dataKeyCounts(on: db) {
            summary.total += count
            if masterKeyID == current {
                summary.alreadyCurrent += count
            } else if previousIDs.contains(masterKeyID) {
                summary.toRewrap += count
            } else {
                summary.unknownMasterKeys[masterKeyID] = count
            }
        }

        let sql = try db.sqlDatabase()
        var done = 0
        var lastID: UUID?
        progress(0, summary.toRewrap)
        while !previousIDs.isEmpty {
            // Keyset pagination: rows that fail or were re-wrapped elsewhere are passed, never read again.
            let query = OrganizationDataKey.query(on: db)
                .filter(\.$masterKeyID ~~ Array(previousIDs)).sort(\.$id).limit(batchSize)
            if let lastID { query.filter(\.$id > lastID) }
            let batch = try await query.all()
            guard let last = batch.last else { break }
            for row in batch {
                let rowID = try row.requireID()
                let organizationID = row.$organization.id
                let rewrapped: (wrappedKey: Data, masterKeyID: String)
                do {
                    rewrapped = try keyRing.wrap(keyRing.unwrap(row), organizationID: organizationID, version: row.version)
                } catch is FieldCipherError {
                    summary.failed += 1
                    done += 1
                    continue
                }
                let updated = try await sql.raw(
                    """
                    UPDATE organization_data_keys
                    SET wrapped_key = \(bind: rewrapped.wrappedKey), master_key_id = \(bind: rewrapped.masterKeyID)
                    WHERE id = \(bind: rowID) AND master_key_id = \(bind: row.masterKeyID)
                    RETURNING id
                    """
                ).first()
                if updated != nil {
                    summary.rewrapped += 1
                } else {
                    summary.rewrappedConcurrently += 1
                }
                done += 1
            }
            lastID = try last.requireID()
            // Keys added under a previous master key during the run (a node not yet reconfigured) are picked up too.
            summary.toRewrap = max(summary.toRewrap, done)
            progress(done, summary.toRewrap)
        }

        var metadata = [
            "master_key_id": current,
            "total": String(summary.total),
            "already_current": String(summary.alreadyCurrent),
            "rewrapped": String(summary.rewrapped),
            "rewrapped_concurrently": String(summary.rewrappedConcurrently),
            "failed": String(summary.failed),
            "unknown_master_key": String(summary.unknownMasterKeys.values.reduce(0, +)),
        ]
        if !summary.unknownMasterKeys.isEmpty {
            metadata["unknown_master_key_ids"] = summary.unknownMasterKeys.keys.sorted().joined(separator: ",")
        }
        try await AuditLog.append(
            AuditEvent(
                "keys.rotated", outcome: summary.isComplete ? .success : .failure, client: .cli, metadata: metadata),
            on: db)
        return summary
    }

    // MARK: - Status

    /// Which master keys the data keys are wrapped under.
    struct KeyStatus: Sendable, Equatable {
        /// How a master key id relates to the configuration.
        enum Role: String, Sendable, Equatable {
            case current
            case previous
            /// Neither `MEANDER_MASTER_KEY` nor in `MEANDER_MASTER_KEY_PREVIOUS`.
            case unknown
        }

        /// One master key id and how many data keys it wraps.
        struct MasterKeyUse: Sendable, Equatable {
            var masterKeyID: String
            var role: Role
            var dataKeys: Int
        }

        var currentMasterKeyID: String
        /// The current key first, then the previous keys in configuration order, then unknown ids.
        var uses: [MasterKeyUse]

        var totalDataKeys: Int { uses.map(\.dataKeys).reduce(0, +) }
        /// Previous master keys that wrap no data key any more: they can be removed from the configuration.
        var retirablePreviousIDs: [String] { uses.filter { $0.role == .previous && $0.dataKeys == 0 }.map(\.masterKeyID) }
        /// Data keys still under a previous master key.
        var awaitingRewrap: Int { uses.filter { $0.role == .previous }.map(\.dataKeys).reduce(0, +) }
        /// Data keys under an unknown master key.
        var unreadable: Int { uses.filter { $0.role == .unknown }.map(\.dataKeys).reduce(0, +) }
    }

    /// Counts the data keys per master key, against this cipher's configuration.
    func keyStatus(on db: any Database) async throws -> KeyStatus {
        let counts = try await dataKeyCounts(on: db)
        var uses = [KeyStatus.MasterKeyUse(masterKeyID: keyRing.current.id, role: .current, dataKeys: counts[keyRing.current.id] ?? 0)]
        uses += keyRing.previous.map { KeyStatus.MasterKeyUse(masterKeyID: $0.id, role: .previous, dataKeys: counts[$0.id] ?? 0) }
        let known = Set(uses.map(\.masterKeyID))
        uses += counts.keys.filter { !known.contains($0) }.sorted()
            .map { KeyStatus.MasterKeyUse(masterKeyID: $0, role: .unknown, dataKeys: counts[$0] ?? 0) }
        return KeyStatus(currentMasterKeyID: keyRing.current.id, uses: uses)
    }

    private func dataKeyCounts(on db: any Database) async throws -> [String: Int] {
        struct Row: Decodable {
            var masterKeyID: String
            var dataKeys: Int

            enum CodingKeys: String, CodingKey {
                case masterKeyID = "master_key_id"
                case dataKeys = "data_keys"
            }
        }
        let rows = try await db.sqlDatabase().raw(
            "SELECT master_key_id, COUNT(*) AS data_keys FROM organization_data_keys GROUP BY master_key_id"
        ).all(decoding: Row.self)
        return Dictionary(uniqueKeysWithValues: rows.map { ($0.masterKeyID, $0.dataKeys) })
    }
}

import FluentSQL

/// Creates `audit_chain_heads`, the one-row checkpoint of the audit chain, seeded from the current newest entry.
struct CreateAuditChainHead: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(AuditChainHead.schema)
            .field("id", .int, .identifier(auto: false))
            .field("sequence", .int64, .required)
            .field("hash", .string, .required)
            .check(named: "ck_audit_chain_heads_single_row", "id = \(AuditChainHead.singletonID)")
            .check(named: "ck_audit_chain_heads_sequence", "sequence >= 0")
            .check(named: "ck_audit_chain_heads_hash", "length(hash) = 64")
            .create()
        let newest = try await AuditLogEntry.query(on: database).sort(\.$sequence, .descending).first()
        // Plain columns, not the model: later migrations add fields to it.
        try await database.sqlDatabase().insert(into: AuditChainHead.schema)
            .columns("id", "sequence", "hash")
            .values(
                SQLBind(AuditChainHead.singletonID), SQLBind(newest?.sequence ?? 0),
                SQLBind(newest?.hash ?? AuditLogEntry.genesisHash)
            )
            .run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(AuditChainHead.schema).delete()
    }
}

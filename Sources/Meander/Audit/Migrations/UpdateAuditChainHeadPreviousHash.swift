import FluentKit

/// Adds `audit_chain_heads.previous_hash`: the hash the head moved on from, which lets PostgreSQL append an entry
/// and move the checkpoint in one statement (`AuditLog.append`).
struct UpdateAuditChainHeadPreviousHash: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(AuditChainHead.schema).field("previous_hash", .string).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(AuditChainHead.schema).deleteField("previous_hash").update()
    }
}

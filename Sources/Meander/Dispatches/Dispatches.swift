import Fluent
import FluentSQL
import Foundation

/// The dispatches capability: encrypted assignment details for one named mentor. It owns `encrypted_dispatches`.
/// Sealing, fetching and expiry come with their own issue; what other capabilities need of it today is here, so that
/// none of them writes its table.
enum Dispatches {
    /// Revokes every live dispatch about a contact and destroys the ciphertext of all of them (the contact's
    /// erasure): their payload can never be read again, by anyone. Runs in the caller's transaction. Returns how
    /// many dispatches were destroyed.
    @discardableResult
    static func revokeAll(
        forContact contactID: UUID, by revokerID: UUID?, at now: Date, on db: any Database
    ) async throws -> Int {
        let sql = try db.sqlDatabase()
        try await sql.update(EncryptedDispatch.schema)
            .set("status", to: EncryptedDispatch.Status.revoked.rawValue)
            .set("revoked_at", to: now).set("revoked_by_id", to: revokerID)
            .where("contact_id", .equal, contactID)
            .where("status", .in, [EncryptedDispatch.Status.sent.rawValue, EncryptedDispatch.Status.read.rawValue])
            .run()
        return try await sql.update(EncryptedDispatch.schema)
            .set("payload_ciphertext", to: Data?.none).set("key_version", to: Int?.none)
            .set("destroyed_at", to: SQLFunction("COALESCE", args: SQLColumn("destroyed_at"), SQLBind(now)))
            .set("updated_at", to: now)
            .where("contact_id", .equal, contactID)
            .returning("id")
            .all()
            .count
    }
}

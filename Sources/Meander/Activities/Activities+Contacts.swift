import Fluent
import FluentSQL
import Foundation
import Logging

// What the contacts capability asks of activities and their evidence when a person's record is erased.

extension Activities {
    /// What replaces an erased rejection reason and an erased attachment's file name.
    static let erasedText = "erased"

    /// Scrubs the free text of every activity with the contact (summary, place, rejection reason), keeping every
    /// count, in the caller's transaction. Returns how many activities were scrubbed.
    static func scrub(forContact contactID: UUID, at now: Date, on db: any Database) async throws -> Int {
        let sql = try db.sqlDatabase()
        let none: String? = nil
        let scrubbed = try await sql.update(Activity.schema)
            .set("summary_ciphertext", to: Data?.none).set("key_version", to: Int?.none).set("place", to: none)
            .set("updated_at", to: now)
            .where("contact_id", .equal, contactID)
            .returning("id")
            .all()
            .count
        try await sql.update(Activity.schema)
            .set("rejection_reason", to: erasedText)
            .where("contact_id", .equal, contactID)
            .where("rejection_reason", .isNot, SQLLiteral.null)
            .run()
        return scrubbed
    }
}

extension Attachments {
    /// Every attachment of the contact's activities, deleted or not (for the contact's data export).
    static func all(forContact contactID: UUID, on db: any Database) async throws -> [ActivityAttachment] {
        try await ActivityAttachment.query(on: db).withDeleted()
            .join(Activity.self, on: \ActivityAttachment.$activity.$id == \Activity.$id)
            .filter(Activity.self, \.$contact.$id == contactID)
            .sort(\.$id)
            .all()
    }

    /// Erases the evidence of the contact's activities, in the caller's transaction: the rows lose their file names
    /// and are soft-deleted, and the stored files are deleted. A storage failure throws, so that the transaction
    /// rolls back and the erasure can be run again. Returns how many attachments were erased.
    static func erase(
        forContact contactID: UUID, at now: Date, files: any BlobStore, logger: Logger, on db: any Database
    ) async throws -> Int {
        let rows = try await all(forContact: contactID, on: db)
        guard !rows.isEmpty else { return 0 }
        try await db.sqlDatabase().update(ActivityAttachment.schema)
            .set("file_name", to: Activities.erasedText)
            .set("deleted_at", to: SQLFunction("COALESCE", args: SQLColumn("deleted_at"), SQLBind(now)))
            .where("id", .in, try rows.map { try $0.requireID() })
            .run()
        for attachment in rows {
            do {
                try await files.delete(attachment.storageKey)
            } catch let error as BlobStoreError {
                logger.error("erasure could not delete an attachment", metadata: ["error": "\(error)"])
                throw error.appError
            }
        }
        return rows.count
    }
}

import Fluent
import FluentSQL
import Foundation
import Logging

/// Everything held about a contact, as `ContactGDPR.export` gathers it.
struct ContactExportData: Sendable {
    struct File: Sendable {
        var attachmentID: UUID
        var fileName: String
        var mediaType: String
        var sha256: String
        var bytes: Data
    }

    var exportedAt: Date
    var contactID: UUID
    /// Each table's rows, column by column, sealed fields opened.
    var tables: [String: [[String: (any Sendable)?]]]
    var files: [File]
}

/// What erasing a contact did.
struct ContactErasureResult: Sendable {
    var contactID: UUID
    var erasedAt: Date
    var activitiesScrubbed: Int
    var attachmentsDeleted: Int
}

/// The data subject's rights over a contact's record: access (an export of everything held) and erasure.
///
/// The export is a read model over every table with a `contact_id` column (found in the live schema), the
/// activities' `activity_attachments` and the `audit_log`: it reads them and writes none. Erasure changes other
/// capabilities' tables only through their owners' functions: `Activities.scrub(forContact:)`,
/// `Attachments.erase(forContact:)`, `Dispatches.revokeAll(forContact:)`.
enum ContactGDPR {
    /// Every table with a `contact_id` column that erasure knows how to scrub. A test compares this with the live
    /// schema, so that a new table referring to contacts cannot be added without deciding what erasure does to it.
    static let erasedTables: Set<String> = [
        ContactMentorAssignment.schema, Activity.schema, EncryptedDispatch.schema,
    ]

    // MARK: - Export

    /// Everything held about the person: the contact row, every row of every table with a `contact_id` column
    /// (found in the live schema), the attachments of their activities with the files' bytes, and the audit trail of
    /// the record (without the staff's IP addresses and user agents). Sealed fields are opened, except a dispatch's
    /// payload, which only its recipient may read.
    static func export(
        _ contact: Contact, by caller: Caller, deps: AppDependencies, cipher: FieldCipher, files: any BlobStore,
        logger: Logger, on db: any Database
    ) async throws -> ContactExportData {
        let id = try contact.requireID()
        let dumper = try await RecordDumper(db: db, cipher: cipher)
        var tables: [String: [[String: (any Sendable)?]]] = [:]
        tables[Contact.schema] = try await dumper.rows(of: Contact.schema, where: "id = \(bind: id)")
        for table in DatabaseCatalog.tables(withColumn: "contact_id", in: dumper.catalog) {
            tables[table] = try await dumper.rows(of: table, where: "contact_id = \(bind: id)")
        }
        let ofActivities: SQLQueryString =
            "activity_id IN (SELECT id FROM \(ident: Activity.schema) WHERE contact_id = \(bind: id))"
        tables[ActivityAttachment.schema] = try await dumper.rows(of: ActivityAttachment.schema, where: ofActivities)
        tables[AuditLogEntry.schema] = try await dumper.rows(
            of: AuditLogEntry.schema, where: "target_type = 'contact' AND target_id = \(bind: id)",
            orderBy: "sequence", excluding: ["ip", "user_agent"])

        var exported: [ContactExportData.File] = []
        for attachment in try await Attachments.all(forContact: id, on: db) {
            let bytes: Data
            do {
                bytes = try await files.get(attachment.storageKey)
            } catch BlobStoreError.notFound {
                // Deleted with its attachment (or erased): nothing is held any more.
                continue
            } catch let error as BlobStoreError {
                logger.error("export could not read an attachment", metadata: ["error": "\(error)"])
                throw error.appError
            }
            exported.append(
                .init(
                    attachmentID: try attachment.requireID(), fileName: attachment.fileName,
                    mediaType: attachment.mediaType, sha256: attachment.sha256, bytes: bytes))
        }
        try await AuditLog.append(
            caller.event(
                "contact.exported", organizationID: contact.$organization.id, targetType: "contact", targetID: id,
                metadata: [
                    "tables": tables.keys.sorted().joined(separator: ","), "files": String(exported.count),
                ]
            ).dated(by: deps.clock),
            on: db)
        return ContactExportData(exportedAt: deps.now, contactID: id, tables: tables, files: exported)
    }

    // MARK: - Erasure

    /// Anonymises the person, in one transaction: the contact's identifying fields, needs, notes and consent scope
    /// are cleared (municipality, county and birth year stay for statistics) and it is archived; their activities
    /// lose their free text (summary, place, rejection reason) but keep every count; the attachment files are
    /// deleted and their rows scrubbed and soft-deleted; open mentor assignments end; dispatches about them are
    /// revoked and their ciphertext destroyed. The files are deleted inside the transaction, so that a storage
    /// failure leaves the record as it was, to be erased again. 409 when already erased.
    static func erase(
        _ contact: Contact, by caller: Caller, deps: AppDependencies, files: any BlobStore, logger: Logger,
        on db: any Database
    ) async throws -> ContactErasureResult {
        try Contacts.checkNotErased(contact)
        let id = try contact.requireID()
        let now = deps.now
        let none: String? = nil

        let (activities, attachments) = try await db.auditedWrite(clock: deps.clock) {
            db -> ((Int, Int), AuditEvent?) in
            let erased = try await db.sqlDatabase().update(Contact.schema)
                .set("first_name", to: none).set("last_name", to: none).set("phone", to: none)
                .set("address", to: none).set("postal_code", to: none).set("postal_place", to: none)
                .set("needs_ciphertext", to: Data?.none).set("notes_ciphertext", to: Data?.none)
                .set("key_version", to: Int?.none).set("consent_scope", to: none)
                .set("status", to: Contact.Status.archived.rawValue)
                .set("erased_at", to: now).set("updated_at", to: now)
                .where("id", .equal, id)
                .where("erased_at", .is, SQLLiteral.null)
                .returning("id")
                .all()
            guard !erased.isEmpty else { throw AppError(.conflict, "The contact has already been erased.") }

            let activities = try await Activities.scrub(forContact: id, at: now, on: db)
            let attachments = try await Attachments.erase(forContact: id, at: now, files: files, logger: logger, on: db)
            let assignments = try await Contacts.endAssignments(of: id, at: now, on: db)
            let dispatches = try await Dispatches.revokeAll(forContact: id, by: caller.userID, at: now, on: db)
            let event = caller.event(
                "contact.erased", organizationID: contact.$organization.id, targetType: "contact", targetID: id,
                metadata: [
                    "activities_scrubbed": String(activities), "attachments_deleted": String(attachments),
                    "assignments_ended": String(assignments), "dispatches_destroyed": String(dispatches),
                ])
            return ((activities, attachments), event)
        }
        return ContactErasureResult(
            contactID: id, erasedAt: now, activitiesScrubbed: activities, attachmentsDeleted: attachments)
    }
}

import Fluent
import FluentSQL
import Foundation
import OpenAPIRuntime
import Vapor

extension APIHandler {
    func exportContact(_ input: Operations.ExportContact.Input) async throws -> Operations.ExportContact.Output {
        let request = try RequestContext.request
        let (contact, _) = try await ContactAccess.load(input.path.contactId, request: request)
        let export = try await ContactGDPR.export(contact, request: request)
        try await AuditLog.append(
            AuditEvent(
                "contact.exported", request: request, organizationID: contact.$organization.id, targetType: "contact",
                targetID: try contact.requireID(),
                metadata: [
                    "tables": export.tables.additionalProperties.keys.sorted().joined(separator: ","),
                    "files": String(export.files.count),
                ]),
            on: request.db)
        return .ok(.init(body: .json(export)))
    }

    func eraseContact(_ input: Operations.EraseContact.Input) async throws -> Operations.EraseContact.Output {
        let request = try RequestContext.request
        let (contact, _) = try await ContactAccess.load(input.path.contactId, request: request)
        return .ok(.init(body: .json(try await ContactGDPR.erase(contact, request: request))))
    }
}

/// The data subject's rights over a contact's record: access (an export of everything held) and erasure.
enum ContactGDPR {
    /// Every table with a `contact_id` column that erasure knows how to scrub. A test compares this with the live
    /// schema, so that a new table referring to contacts cannot be added without deciding what erasure does to it.
    static let erasedTables: Set<String> = [
        ContactMentorAssignment.schema, Activity.schema, EncryptedDispatch.schema,
    ]

    /// What replaces an erased attachment's file name and an erased rejection reason.
    static let erasedText = "erased"

    // MARK: - Export

    /// Everything held about the person: the contact row, every row of every table with a `contact_id` column
    /// (found in the live schema), the attachments of their activities with the files' bytes, and the audit trail of
    /// the record (without the staff's IP addresses and user agents). Sealed fields are opened, except a dispatch's
    /// payload, which only its recipient may read.
    static func export(_ contact: Contact, request: Request) async throws -> Components.Schemas.ContactExport {
        let id = try contact.requireID()
        let dumper = try await RecordDumper(db: request.db, cipher: request.application.meander.cipher)
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

        let attachments = try await ActivityAttachment.query(on: request.db).withDeleted()
            .join(Activity.self, on: \ActivityAttachment.$activity.$id == \Activity.$id)
            .filter(Activity.self, \.$contact.$id == id)
            .sort(\.$id)
            .all()
        var files: Components.Schemas.ContactExport.FilesPayload = []
        for attachment in attachments {
            let bytes: Data
            do {
                bytes = try await request.application.meander.files.get(attachment.storageKey)
            } catch BlobStoreError.notFound {
                // Deleted with its attachment (or erased): nothing is held any more.
                continue
            } catch let error as BlobStoreError {
                request.logger.error("export could not read an attachment", metadata: ["error": "\(error)"])
                throw error.appError
            }
            files.append(
                .init(
                    attachmentId: try attachment.requireID().uuidString.lowercased(), fileName: attachment.fileName,
                    mediaType: attachment.mediaType, sha256: attachment.sha256,
                    contentBase64: bytes.base64EncodedString()))
        }
        return Components.Schemas.ContactExport(
            exportedAt: request.now, contactId: id.uuidString.lowercased(),
            tables: .init(additionalProperties: try tables.mapValues { try $0.map(OpenAPIObjectContainer.init(row:)) }),
            files: files)
    }

    // MARK: - Erasure

    /// Anonymises the person, in one transaction: the contact's identifying fields, needs, notes and consent scope
    /// are cleared (municipality, county and birth year stay for statistics) and it is archived; their activities
    /// lose their free text (summary, place, rejection reason) but keep every count; the attachment files are
    /// deleted and their rows scrubbed and soft-deleted; open mentor assignments end; dispatches about them are
    /// revoked and their ciphertext destroyed. The files are deleted inside the transaction, so that a storage
    /// failure leaves the record as it was, to be erased again. 409 when already erased.
    static func erase(_ contact: Contact, request: Request) async throws -> Components.Schemas.ContactErasure {
        try Contacts.checkNotErased(contact)
        let id = try contact.requireID()
        let principal = try request.requirePrincipal()
        let files = request.application.meander.files
        let now = request.now
        let none: String? = nil

        let (activities, attachments) = try await request.db.writeTransaction { db in
            let sql = try db.sqlDatabase()
            let erased = try await sql.update(Contact.schema)
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

            let activities = try await sql.update(Activity.schema)
                .set("summary_ciphertext", to: Data?.none).set("key_version", to: Int?.none).set("place", to: none)
                .set("updated_at", to: now)
                .where("contact_id", .equal, id)
                .returning("id")
                .all()
                .count
            try await sql.update(Activity.schema)
                .set("rejection_reason", to: erasedText)
                .where("contact_id", .equal, id)
                .where("rejection_reason", .isNot, SQLLiteral.null)
                .run()

            let attachmentRows = try await ActivityAttachment.query(on: db).withDeleted()
                .join(Activity.self, on: \ActivityAttachment.$activity.$id == \Activity.$id)
                .filter(Activity.self, \.$contact.$id == id)
                .all()
            if !attachmentRows.isEmpty {
                try await sql.update(ActivityAttachment.schema)
                    .set("file_name", to: erasedText)
                    .set("deleted_at", to: SQLFunction("COALESCE", args: SQLColumn("deleted_at"), SQLBind(now)))
                    .where("id", .in, try attachmentRows.map { try $0.requireID() })
                    .run()
            }

            let assignments = try await Contacts.endAssignments(of: id, at: now, on: db)

            try await sql.update(EncryptedDispatch.schema)
                .set("status", to: EncryptedDispatch.Status.revoked.rawValue)
                .set("revoked_at", to: now).set("revoked_by_id", to: principal.userID)
                .where("contact_id", .equal, id)
                .where("status", .in, [EncryptedDispatch.Status.sent.rawValue, EncryptedDispatch.Status.read.rawValue])
                .run()
            let dispatches = try await sql.update(EncryptedDispatch.schema)
                .set("payload_ciphertext", to: Data?.none).set("key_version", to: Int?.none)
                .set("destroyed_at", to: SQLFunction("COALESCE", args: SQLColumn("destroyed_at"), SQLBind(now)))
                .set("updated_at", to: now)
                .where("contact_id", .equal, id)
                .returning("id")
                .all()
                .count

            for attachment in attachmentRows {
                do {
                    try await files.delete(attachment.storageKey)
                } catch let error as BlobStoreError {
                    request.logger.error("erasure could not delete an attachment", metadata: ["error": "\(error)"])
                    throw error.appError
                }
            }

            try await AuditLog.append(
                AuditEvent(
                    "contact.erased", request: request, organizationID: contact.$organization.id,
                    targetType: "contact", targetID: id,
                    metadata: [
                        "activities_scrubbed": String(activities), "attachments_deleted": String(attachmentRows.count),
                        "assignments_ended": String(assignments), "dispatches_destroyed": String(dispatches),
                    ]),
                on: db)
            return (activities, attachmentRows.count)
        }
        return Components.Schemas.ContactErasure(
            contactId: id.uuidString.lowercased(), erasedAt: now, activitiesScrubbed: Int32(activities),
            attachmentsDeleted: Int32(attachments))
    }
}

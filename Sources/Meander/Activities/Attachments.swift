import Fluent
import Foundation

/// The evidence of activities: upload, download, delete and the duplicate check, as a service with no HTTP. Part of
/// the activities capability, which owns `activity_attachments` and the stored files under `org/<id>/attachments/`.
enum Attachments {}

/// A new evidence file, as the service takes it.
struct NewAttachment: Sendable {
    /// Reads the file's bytes; called only once the checks have passed, so that a refused upload is not read.
    var bytes: @Sendable () async throws -> Data
    /// As the client named it; cleaned before it is stored.
    var fileName: String
    var kind: ActivityAttachment.Kind = .other
}

/// An attachment as the service returns it: the row and the ids of the organisation's other files with the same
/// bytes.
struct AttachmentRecord: Sendable {
    let attachment: ActivityAttachment
    let duplicateOf: [UUID]
}

/// A stored file to hand out: a short-lived URL where the store presigns, or its bytes.
enum AttachmentContent: Sendable {
    case redirect(URL)
    case bytes(Data)
}

extension Attachments {
    /// The attachment, if its activity is within the caller's reach (see `Activities.authorized`); 404 otherwise.
    static func authorized(_ id: UUID?, access: Access, on db: any Database) async throws -> ActivityAttachment {
        guard let id, let attachment = try await ActivityAttachment.find(id, on: db) else {
            _ = try? await access.reachableOrganizationIDs()
            throw AppError(.notFound, "No such attachment.")
        }
        do {
            _ = try await Activities.authorized(attachment.$activity.id, access: access, on: db)
        } catch let error as AppError where error.code == .notFound {
            throw AppError(.notFound, "No such attachment.")
        }
        return attachment
    }

    /// One page of an activity's attachments.
    static func list(
        of activity: Activity, page: KeysetPage, on db: any Database
    ) async throws -> (items: [AttachmentRecord], next: String?) {
        let rows = try await ActivityAttachment.query(on: db).filter(\.$activity.$id == (try activity.requireID()))
            .page(page).all()
        let (attachments, next) = try await page.finish(rows, id: { try $0.requireID() }, on: db)
        return (try await records(attachments, on: db), next)
    }

    /// Stores an evidence file for an activity the caller may add evidence to: the bytes first, then the row and
    /// its audit entry; if those fail, the stored bytes are removed again.
    static func upload(
        _ new: NewAttachment, to activity: Activity, lineage: [Organization], by caller: Caller,
        deps: AppDependencies, files: any BlobStore, on db: any Database
    ) async throws -> AttachmentRecord {
        try await Activities.check(.addEvidence, activity, lineage: lineage, by: caller, on: db)
        let principal = try caller.requirePrincipal()
        let bytes = try await new.bytes()
        guard let mediaType = FileSniffer.mediaType(of: bytes) else {
            throw AppError(
                .unsupportedMediaType,
                "Only JPEG, PNG, HEIC and PDF files are accepted, recognised from their content (not the name or Content-Type).")
        }
        let id = deps.uuid()
        let organizationID = activity.$organization.id
        let attachment = ActivityAttachment(
            id: id, organizationID: organizationID, activityID: try activity.requireID(), uploadedByID: principal.userID,
            fileName: cleanFileName(new.fileName), mediaType: mediaType, sizeBytes: bytes.count,
            sha256: Digest.sha256Hex(bytes),
            storageKey: BlobKey.attachment(organizationID: organizationID, attachmentID: id), kind: new.kind)
        try await files.put(attachment.storageKey, bytes, contentType: mediaType)
        let event = caller.event(
            "attachment.uploaded", organizationID: organizationID, targetType: "attachment", targetID: id,
            metadata: ["activity_id": attachment.$activity.id.uuidString.lowercased(), "media_type": mediaType])
        do {
            try await db.auditedWrite(event, clock: deps.clock) { transaction in
                try await attachment.create(on: transaction)
            }
        } catch {
            try? await files.delete(attachment.storageKey)
            throw error
        }
        return try await records([attachment], on: db)[0]
    }

    /// The file of an attachment, its download audited.
    static func download(
        _ attachment: ActivityAttachment, by caller: Caller, deps: AppDependencies, files: any BlobStore,
        on db: any Database
    ) async throws -> AttachmentContent {
        try await AuditLog.append(
            caller.event(
                "attachment.downloaded", organizationID: attachment.$organization.id, targetType: "attachment",
                targetID: try attachment.requireID()
            ).dated(by: deps.clock),
            on: db)
        if let url = try await files.presignedDownloadURL(
            attachment.storageKey, fileName: attachment.fileName, contentType: attachment.mediaType)
        {
            return .redirect(url)
        }
        do {
            return .bytes(try await files.get(attachment.storageKey))
        } catch BlobStoreError.notFound {
            throw AppError.goneFromVisibleRecord("The file of this attachment is gone.")
        }
    }

    /// Deletes an attachment of an activity whose period is open, and then its stored file.
    static func delete(
        _ attachment: ActivityAttachment, by caller: Caller, deps: AppDependencies, files: any BlobStore,
        on db: any Database
    ) async throws {
        let lineage = try await OrganizationTree.lineage(of: attachment.$organization.id, on: db)
        guard let activity = try await Activity.find(attachment.$activity.id, on: db) else {
            throw AppError(.notFound, "No such attachment.")
        }
        try await Activities.check(.removeEvidence, activity, lineage: lineage, by: caller, on: db)
        try await AuditLog.delete(
            attachment, targetType: "attachment", organizationID: attachment.$organization.id, by: caller, deps: deps,
            on: db)
        try await files.delete(attachment.storageKey)
    }

    /// The records of attachments of one organisation, with one query for their duplicates.
    static func records(_ attachments: [ActivityAttachment], on db: any Database) async throws -> [AttachmentRecord] {
        guard let organizationID = attachments.first?.$organization.id else { return [] }
        let twins = try await ActivityAttachment.query(on: db)
            .filter(\.$organization.$id == organizationID)
            .filter(\.$sha256 ~~ Set(attachments.map(\.sha256)))
            .all()
        return try attachments.map { attachment in
            let id = try attachment.requireID()
            let duplicates = try twins.filter { $0.sha256 == attachment.sha256 && $0.id != id }.map { try $0.requireID() }
            return AttachmentRecord(attachment: attachment, duplicateOf: duplicates)
        }
    }

    /// The last path component, without control characters, at most 200 characters.
    static func cleanFileName(_ raw: String) -> String {
        let last = raw.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let clean = String(last.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) }.prefix(200))
            .trimmingCharacters(in: .whitespaces)
        return clean.isEmpty ? "file" : clean
    }
}

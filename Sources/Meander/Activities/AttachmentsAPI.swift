import Fluent
import Foundation
import OpenAPIRuntime
import Vapor

extension APIHandler {
    func listAttachments(_ input: Operations.ListAttachments.Input) async throws -> Operations.ListAttachments.Output {
        let request = try RequestContext.request
        let (activity, _) = try await ActivityQuery.authorized(input.path.activityId, request: request)
        let page = try Keyset.attachments.page(
            limit: input.query.limit.map(Int.init), cursor: input.query.cursor, request: request)
        let rows = try await ActivityAttachment.query(on: request.db).filter(\.$activity.$id == (try activity.requireID()))
            .page(page).all()
        let (attachments, next) = try await page.finish(rows, id: { try $0.requireID() }, on: request.db)
        let items = try await AttachmentView.make(attachments, on: request.db)
        return .ok(.init(body: .json(.init(items: items, nextCursor: next))))
    }

    func uploadAttachment(_ input: Operations.UploadAttachment.Input) async throws -> Operations.UploadAttachment.Output {
        let request = try RequestContext.request
        let (activity, lineage) = try await ActivityQuery.authorized(input.path.activityId, request: request)
        let principal = try request.requirePrincipal()
        if !TenantReach.isStaff(principal, in: lineage), TenantReach.isPaused(principal, in: lineage) {
            throw AppError(.forbidden, "Your membership here is paused: you can read your history but not change it.")
        }
        if try await ClosedPeriods.contains(activity.occurredAt, lineage: lineage, on: request.db) {
            throw AppError(.conflict, "The activity lies in a finalised Bufdir period, which is read-only.")
        }
        let limit = request.application.meander.config.maxUploadSize
        let body: HTTPBody =
            switch input.body {
            case .pdf(let body), .jpeg(let body), .png(let body), .imageHeic(let body), .binary(let body): body
            }
        let bytes: Data
        do {
            bytes = try await Data(collecting: body, upTo: limit)
        } catch {
            throw BodyLimitMiddleware.tooLarge(limit)
        }
        guard let mediaType = FileSniffer.mediaType(of: bytes) else {
            throw AppError(
                .unsupportedMediaType,
                "Only JPEG, PNG, HEIC and PDF files are accepted, recognised from their content (not the name or Content-Type).")
        }
        let fileName = AttachmentView.cleanFileName(input.query.fileName)
        let kind = input.query.kind.flatMap { ActivityAttachment.Kind(rawValue: $0.rawValue) } ?? .other
        let id = UUID()
        let organizationID = activity.$organization.id
        let attachment = ActivityAttachment(
            id: id, organizationID: organizationID, activityID: try activity.requireID(), uploadedByID: principal.userID,
            fileName: fileName, mediaType: mediaType, sizeBytes: bytes.count, sha256: Digest.sha256Hex(bytes),
            storageKey: BlobKey.attachment(organizationID: organizationID, attachmentID: id),
            kind: kind)
        let files = request.application.meander.files
        try await files.put(attachment.storageKey, bytes, contentType: mediaType)
        do {
            try await request.db.identityTransaction { transaction in
                try await attachment.create(on: transaction)
                try await AuditLog.append(
                    AuditEvent(
                        "attachment.uploaded", request: request, organizationID: organizationID,
                        targetType: "attachment", targetID: id,
                        metadata: ["activity_id": attachment.$activity.id.uuidString.lowercased(), "media_type": mediaType]),
                    on: transaction)
            }
        } catch {
            try? await files.delete(attachment.storageKey)
            throw error
        }
        return .created(.init(body: .json(try await AttachmentView.make([attachment], on: request.db)[0])))
    }

    func downloadAttachment(
        _ input: Operations.DownloadAttachment.Input
    ) async throws -> Operations.DownloadAttachment.Output {
        let request = try RequestContext.request
        let attachment = try await AttachmentView.authorized(input.path.attachmentId, request: request)
        let files = request.application.meander.files
        try await AuditLog.append(
            AuditEvent(
                "attachment.downloaded", request: request, organizationID: attachment.$organization.id,
                targetType: "attachment", targetID: try attachment.requireID()),
            on: request.db)
        if let url = try await files.presignedDownloadURL(
            attachment.storageKey, fileName: attachment.fileName, contentType: attachment.mediaType)
        {
            return .temporaryRedirect(.init(headers: .init(location: url.absoluteString)))
        }
        let bytes: Data
        do {
            bytes = try await files.get(attachment.storageKey)
        } catch BlobStoreError.notFound {
            throw AppError.goneFromVisibleRecord("The file of this attachment is gone.")
        }
        let body = HTTPBody(bytes)
        let headers = Operations.DownloadAttachment.Output.Ok.Headers(
            contentDisposition: ContentDisposition.attachment(fileName: attachment.fileName))
        switch attachment.mediaType {
        case "application/pdf": return .ok(.init(headers: headers, body: .pdf(body)))
        case "image/jpeg": return .ok(.init(headers: headers, body: .jpeg(body)))
        case "image/png": return .ok(.init(headers: headers, body: .png(body)))
        default: return .ok(.init(headers: headers, body: .imageHeic(body)))
        }
    }

    func deleteAttachment(_ input: Operations.DeleteAttachment.Input) async throws -> Operations.DeleteAttachment.Output {
        let request = try RequestContext.request
        let attachment = try await AttachmentView.authorized(input.path.attachmentId, request: request)
        let lineage = try await OrganizationTree.lineage(of: attachment.$organization.id, on: request.db)
        guard let activity = try await Activity.find(attachment.$activity.id, on: request.db) else {
            throw AppError(.notFound, "No such attachment.")
        }
        if try await ClosedPeriods.contains(activity.occurredAt, lineage: lineage, on: request.db) {
            throw AppError(.conflict, "The activity lies in a finalised Bufdir period, which is read-only.")
        }
        try await AuditLog.delete(
            attachment, targetType: "attachment", organizationID: attachment.$organization.id, request: request)
        try await request.application.meander.files.delete(attachment.storageKey)
        return .noContent(.init())
    }
}

/// The API view of attachments, and loading one within reach.
enum AttachmentView {
    /// The attachment, if its activity is within the caller's reach (see `ActivityQuery.authorized`).
    static func authorized(_ raw: String, request: Request) async throws -> ActivityAttachment {
        guard let id = UUID(uuidString: raw), let attachment = try await ActivityAttachment.find(id, on: request.db) else {
            _ = try? await request.access.reachableOrganizationIDs()
            throw AppError(.notFound, "No such attachment.")
        }
        do {
            _ = try await ActivityQuery.authorized(attachment.$activity.id.uuidString, request: request)
        } catch let error as AppError where error.code == .notFound {
            throw AppError(.notFound, "No such attachment.")
        }
        return attachment
    }

    static func make(_ attachments: [ActivityAttachment], on db: any Database) async throws
        -> [Components.Schemas.Attachment]
    {
        guard let organizationID = attachments.first?.$organization.id else { return [] }
        let twins = try await ActivityAttachment.query(on: db)
            .filter(\.$organization.$id == organizationID)
            .filter(\.$sha256 ~~ Set(attachments.map(\.sha256)))
            .all()
        func api(_ id: UUID) -> String { id.uuidString.lowercased() }
        return try attachments.map { attachment in
            let id = try attachment.requireID()
            let duplicates = try twins.filter { $0.sha256 == attachment.sha256 && $0.id != id }.map { api(try $0.requireID()) }
            guard let mediaType = Components.Schemas.Attachment.MediaTypePayload(rawValue: attachment.mediaType),
                let kind = Components.Schemas.AttachmentKind(rawValue: attachment.kind.rawValue)
            else { throw AppError(.internalError, "Unknown attachment media type or kind in the database.") }
            return Components.Schemas.Attachment(
                id: api(id), activityId: api(attachment.$activity.id), organizationId: api(attachment.$organization.id),
                fileName: attachment.fileName, mediaType: mediaType, sizeBytes: Int64(attachment.sizeBytes),
                sha256: attachment.sha256, kind: kind, uploadedById: api(attachment.$uploadedBy.id),
                createdAt: attachment.createdAt ?? Date(), duplicateOf: duplicates.sorted())
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

extension Keyset {
    /// An activity's attachments, oldest first.
    static let attachments = Keyset(
        "listAttachments", table: ActivityAttachment.schema, [.column("created_at", nullable: true)], id: .ascending)
}

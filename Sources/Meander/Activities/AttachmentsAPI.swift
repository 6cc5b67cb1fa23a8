import Foundation
import OpenAPIRuntime
import Vapor

/// The evidence handlers: wire input to `Attachments`, and its records to the wire.
extension APIHandler {
    func listAttachments(_ input: Operations.ListAttachments.Input) async throws -> Operations.ListAttachments.Output {
        let request = try RequestContext.request
        let (activity, _) = try await Activities.authorized(
            APIID.uuid(input.path.activityId), access: request.access, on: request.db)
        let page = try Keyset.attachments.page(
            limit: input.query.limit.map(Int.init), cursor: input.query.cursor, request: request)
        let (records, next) = try await Attachments.list(of: activity, page: page, on: request.db)
        return .ok(.init(body: .json(.init(items: try records.map(Components.Schemas.Attachment.init), nextCursor: next))))
    }

    func uploadAttachment(_ input: Operations.UploadAttachment.Input) async throws -> Operations.UploadAttachment.Output {
        let request = try RequestContext.request
        let access = request.access
        let (activity, lineage) = try await Activities.authorized(
            APIID.uuid(input.path.activityId), access: access, on: request.db)
        let limit = request.application.meander.config.maxUploadSize
        let body: HTTPBody =
            switch input.body {
            case .pdf(let body), .jpeg(let body), .png(let body), .imageHeic(let body), .binary(let body): body
            }
        let new = NewAttachment(
            bytes: {
                do {
                    return try await Data(collecting: body, upTo: limit)
                } catch {
                    throw BodyLimitMiddleware.tooLarge(limit)
                }
            },
            fileName: input.query.fileName,
            kind: input.query.kind.flatMap { ActivityAttachment.Kind(rawValue: $0.rawValue) } ?? .other)
        let record = try await Attachments.upload(
            new, to: activity, lineage: lineage, by: access.caller, deps: request.dependencies,
            files: request.application.meander.files, on: request.db)
        return .created(.init(body: .json(try Components.Schemas.Attachment(record))))
    }

    func downloadAttachment(
        _ input: Operations.DownloadAttachment.Input
    ) async throws -> Operations.DownloadAttachment.Output {
        let request = try RequestContext.request
        let access = request.access
        let attachment = try await Attachments.authorized(
            APIID.uuid(input.path.attachmentId), access: access, on: request.db)
        let content = try await Attachments.download(
            attachment, by: access.caller, deps: request.dependencies, files: request.application.meander.files,
            on: request.db)
        let bytes: Data
        switch content {
        case .redirect(let url): return .temporaryRedirect(.init(headers: .init(location: url.absoluteString)))
        case .bytes(let data): bytes = data
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
        let access = request.access
        let attachment = try await Attachments.authorized(
            APIID.uuid(input.path.attachmentId), access: access, on: request.db)
        try await Attachments.delete(
            attachment, by: access.caller, deps: request.dependencies, files: request.application.meander.files,
            on: request.db)
        return .noContent(.init())
    }
}

extension Components.Schemas.Attachment {
    /// The API view of an attachment record.
    init(_ record: AttachmentRecord) throws {
        let attachment = record.attachment
        func api(_ id: UUID) -> String { APIID.string(id) }
        guard let mediaType = MediaTypePayload(rawValue: attachment.mediaType),
            let kind = Components.Schemas.AttachmentKind(rawValue: attachment.kind.rawValue)
        else { throw AppError(.internalError, "Unknown attachment media type or kind in the database.") }
        self.init(
            id: api(try attachment.requireID()), activityId: api(attachment.$activity.id),
            organizationId: api(attachment.$organization.id), fileName: attachment.fileName, mediaType: mediaType,
            sizeBytes: Int64(attachment.sizeBytes), sha256: attachment.sha256, kind: kind,
            uploadedById: api(attachment.$uploadedBy.id), createdAt: attachment.createdAt ?? .distantPast,
            duplicateOf: record.duplicateOf.map(api).sorted())
    }
}

extension Keyset {
    /// An activity's attachments, oldest first.
    static let attachments = Keyset(
        "listAttachments", table: ActivityAttachment.schema, [.column("created_at", nullable: true)], id: .ascending)
}

import Foundation
import OpenAPIRuntime
import Vapor

extension APIHandler {
    func exportContact(_ input: Operations.ExportContact.Input) async throws -> Operations.ExportContact.Output {
        let request = try RequestContext.request
        let (contact, _) = try await ContactAccess.load(
            try APIID.parse(input.path.contactId, parameter: "contactId"), access: request.access, on: request.db)
        let export = try await ContactGDPR.export(
            contact, by: try Caller(request), deps: request.dependencies, cipher: request.application.meander.cipher,
            files: request.application.meander.files, logger: request.logger, on: request.db)
        return .ok(.init(body: .json(try Components.Schemas.ContactExport(export))))
    }

    func eraseContact(_ input: Operations.EraseContact.Input) async throws -> Operations.EraseContact.Output {
        let request = try RequestContext.request
        let (contact, _) = try await ContactAccess.load(
            try APIID.parse(input.path.contactId, parameter: "contactId"), access: request.access, on: request.db)
        let erasure = try await ContactGDPR.erase(
            contact, by: try Caller(request), deps: request.dependencies, files: request.application.meander.files,
            logger: request.logger, on: request.db)
        return .ok(.init(body: .json(Components.Schemas.ContactErasure(erasure))))
    }
}

extension Components.Schemas.ContactExport {
    init(_ export: ContactExportData) throws {
        self.init(
            exportedAt: export.exportedAt, contactId: APIID.string(export.contactID),
            tables: .init(additionalProperties: try export.tables.mapValues { try $0.map(OpenAPIObjectContainer.init(row:)) }),
            files: export.files.map { file in
                .init(
                    attachmentId: APIID.string(file.attachmentID), fileName: file.fileName, mediaType: file.mediaType,
                    sha256: file.sha256, contentBase64: file.bytes.base64EncodedString())
            })
    }
}

extension Components.Schemas.ContactErasure {
    init(_ erasure: ContactErasureResult) {
        self.init(
            contactId: APIID.string(erasure.contactID), erasedAt: erasure.erasedAt,
            activitiesScrubbed: Int32(erasure.activitiesScrubbed), attachmentsDeleted: Int32(erasure.attachmentsDeleted))
    }
}

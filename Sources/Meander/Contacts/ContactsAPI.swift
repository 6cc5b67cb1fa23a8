import Foundation
import Vapor

extension APIHandler {
    func listContacts(_ input: Operations.ListContacts.Input) async throws -> Operations.ListContacts.Output {
        let request = try RequestContext.request
        let query = input.query
        let page = try Keyset.contacts.page(limit: query.limit.map(Int.init), cursor: query.cursor, request: request)
        let filter = ContactFilter(
            organizationID: try query.organizationId.map { try APIID.parse($0, parameter: "organization_id") },
            status: query.status.map(Contact.Status.init),
            mentorID: try query.mentorId.map { try APIID.parse($0, parameter: "mentor_id") },
            countyCode: query.countyCode, municipalityCode: query.municipalityCode, text: query.q)
        let (items, next) = try await Contacts.list(filter, page: page, access: request.access, on: request.db)
        return .ok(.init(body: .json(.init(items: try items.map(Components.Schemas.Contact.init), nextCursor: next))))
    }

    func createContact(_ input: Operations.CreateContact.Input) async throws -> Operations.CreateContact.Output {
        let request = try RequestContext.request
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let created = try await Contacts.create(
            try NewContact(body), access: request.access, deps: request.dependencies,
            cipher: request.application.meander.cipher, on: request.db)
        return .created(.init(body: .json(try Components.Schemas.Contact(created))))
    }

    func getContact(_ input: Operations.GetContact.Input) async throws -> Operations.GetContact.Output {
        let request = try RequestContext.request
        let read = try await Contacts.read(
            try APIID.parse(input.path.contactId, parameter: "contactId"), access: request.access,
            deps: request.dependencies, cipher: request.application.meander.cipher, on: request.db)
        return .ok(.init(body: .json(try Components.Schemas.Contact(read))))
    }

    func updateContact(_ input: Operations.UpdateContact.Input) async throws -> Operations.UpdateContact.Output {
        let request = try RequestContext.request
        let id = try APIID.parse(input.path.contactId, parameter: "contactId")
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let changes = ContactChanges(body, raw: RawBody.object(of: request) ?? [:])
        let updated = try await Contacts.update(
            id, changes, access: request.access, deps: request.dependencies,
            cipher: request.application.meander.cipher, on: request.db)
        return .ok(.init(body: .json(try Components.Schemas.Contact(updated))))
    }

    func archiveContact(_ input: Operations.ArchiveContact.Input) async throws -> Operations.ArchiveContact.Output {
        let request = try RequestContext.request
        let archived = try await Contacts.archive(
            try APIID.parse(input.path.contactId, parameter: "contactId"), access: request.access,
            deps: request.dependencies, cipher: request.application.meander.cipher, on: request.db)
        return .ok(.init(body: .json(try Components.Schemas.Contact(archived))))
    }

    func recordConsent(_ input: Operations.RecordConsent.Input) async throws -> Operations.RecordConsent.Output {
        let request = try RequestContext.request
        let id = try APIID.parse(input.path.contactId, parameter: "contactId")
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let recorded = try await Contacts.recordConsent(
            id, NewConsent(scope: body.scope, givenAt: body.givenAt), access: request.access,
            deps: request.dependencies, cipher: request.application.meander.cipher, on: request.db)
        return .ok(.init(body: .json(try Components.Schemas.Contact(recorded))))
    }

    func withdrawConsent(_ input: Operations.WithdrawConsent.Input) async throws -> Operations.WithdrawConsent.Output {
        let request = try RequestContext.request
        let withdrawn = try await Contacts.withdrawConsent(
            try APIID.parse(input.path.contactId, parameter: "contactId"), access: request.access,
            deps: request.dependencies, cipher: request.application.meander.cipher, on: request.db)
        return .ok(.init(body: .json(try Components.Schemas.Contact(withdrawn))))
    }

    func assignMentor(_ input: Operations.AssignMentor.Input) async throws -> Operations.AssignMentor.Output {
        let request = try RequestContext.request
        let id = try APIID.parse(input.path.contactId, parameter: "contactId")
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        guard let mentorID = APIID.uuid(body.mentorId) else {
            throw AppError.validation([.init(field: "/mentor_id", code: "invalid_value", message: "Not a user id.")])
        }
        let assigned = try await Contacts.assignMentor(
            mentorID, to: id, access: request.access, deps: request.dependencies,
            cipher: request.application.meander.cipher, on: request.db)
        return .ok(.init(body: .json(try Components.Schemas.Contact(assigned))))
    }

    func unassignMentor(_ input: Operations.UnassignMentor.Input) async throws -> Operations.UnassignMentor.Output {
        let request = try RequestContext.request
        let id = try APIID.parse(input.path.contactId, parameter: "contactId")
        let mentorID = try APIID.parse(input.path.mentorId, parameter: "mentorId")
        let unassigned = try await Contacts.unassignMentor(
            mentorID, from: id, access: request.access, deps: request.dependencies,
            cipher: request.application.meander.cipher, on: request.db)
        return .ok(.init(body: .json(try Components.Schemas.Contact(unassigned))))
    }
}

extension Keyset {
    /// Contacts by last name, then first name (either may be missing: those come after the named ones).
    static let contacts = Keyset(
        "listContacts", table: Contact.schema, [.column("last_name", nullable: true), .column("first_name", nullable: true)],
        id: .ascending)
}

import Fluent
import FluentSQL
import Foundation
import Vapor

extension APIHandler {
    func listContacts(_ input: Operations.ListContacts.Input) async throws -> Operations.ListContacts.Output {
        let request = try RequestContext.request
        let query = input.query
        let page = try Keyset.contacts.page(limit: query.limit.map(Int.init), cursor: query.cursor, request: request)
        // With an organisation: 404 outside the caller's reach, as everywhere. Without: a caller with no role that
        // reads contacts anywhere (the platform admin) is refused outright.
        var scope: UUID?
        if let raw = query.organizationId {
            let organizationID = try APIID.parse(raw, parameter: "organization_id")
            try await request.access.authorize(in: organizationID)
            scope = organizationID
        } else {
            try request.access.authorizeAnywhere()
        }
        var reach = try await ContactAccess.reach(access: request.access, on: request.db)
        let principal = try request.requirePrincipal()
        if let scope {
            let subtree = try await OrganizationTree.subtreeIDs(of: [scope], on: request.db)
            reach.staff.formIntersection(subtree)
            reach.mentor.formIntersection(subtree)
        }
        guard !reach.isEmpty else { return .ok(.init(body: .json(.init(items: [], nextCursor: nil)))) }

        let builder = Contact.query(on: request.db).filter(\.$erasedAt == nil)
        let (staff, mentor) = (reach.staff, reach.mentor)
        builder.group(.or) { or in
            if !staff.isEmpty {
                or.filter(\.$organization.$id ~~ Array(staff))
            }
            if !mentor.isEmpty {
                or.group(.and) { and in
                    and.filter(\.$organization.$id ~~ Array(mentor))
                        .filter(ContactAccess.assignedFilter(to: principal.userID))
                }
            }
        }
        if let status = query.status {
            builder.filter(\.$status == Contact.Status(status))
        }
        if let raw = query.mentorId {
            builder.filter(ContactAccess.assignedFilter(to: try APIID.parse(raw, parameter: "mentor_id")))
        }
        if let county = query.countyCode {
            builder.filter(\.$countyCode == county)
        }
        if let municipality = query.municipalityCode {
            builder.filter(\.$municipalityCode == municipality)
        }
        if let q = query.q {
            builder.filter(CaseFoldedMatch.contains(q, in: [(Contact.schema, "first_name"), (Contact.schema, "last_name")]))
        }
        let rows = try await builder.page(page).all()
        let (contacts, next) = try await page.finish(rows, id: { try $0.requireID() }, on: request.db)
        let items = try await Components.Schemas.Contact.list(contacts, reach: reach, on: request.db)
        return .ok(.init(body: .json(.init(items: items, nextCursor: next))))
    }

    func createContact(_ input: Operations.CreateContact.Input) async throws -> Operations.CreateContact.Output {
        let request = try RequestContext.request
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        let organizationID = try APIID.parse(body.organizationId, parameter: "organization_id")
        let lineage = try await request.access.authorize(in: organizationID)
        let principal = try request.requirePrincipal()
        if ContactAccess.isPaused(principal, in: lineage) {
            throw AppError(.forbidden, "Your membership here is paused.")
        }

        var errors: [AppError.FieldError] = []
        let firstName = ContactRules.name(body.firstName, field: "/first_name", errors: &errors)
        let lastName = ContactRules.name(body.lastName, field: "/last_name", errors: &errors)
        let birthYear = body.birthYear.flatMap { ContactRules.birthYear(Int($0), now: request.now, errors: &errors) }
        let municipality = body.municipalityCode.flatMap { ContactRules.municipality($0, errors: &errors) }
        let consent = body.consent.flatMap {
            ContactRules.consent(scope: $0.scope, givenAt: $0.givenAt, now: request.now, pointer: "/consent", errors: &errors)
        }
        var mentorIDs: [UUID] = []
        for (index, raw) in (body.mentorIds ?? []).enumerated() {
            guard let id = APIID.uuid(raw) else {
                errors.append(.init(field: "/mentor_ids/\(index)", code: "invalid_value", message: "Not a user id."))
                continue
            }
            if !mentorIDs.contains(id) { mentorIDs.append(id) }
        }
        try ContactRules.throwing(errors)
        for (index, id) in mentorIDs.enumerated() {
            try await ContactRules.checkMentor(id, lineage: lineage, field: "/mentor_ids/\(index)", on: request.db)
        }

        let contact = Contact(
            id: request.dependencies.uuid(), organizationID: organizationID, firstName: firstName, lastName: lastName, birthYear: birthYear,
            phone: ContactRules.text(body.phone), address: ContactRules.text(body.address),
            postalCode: body.postalCode, postalPlace: ContactRules.text(body.postalPlace),
            municipalityCode: municipality?.code, countyCode: municipality?.countyCode,
            status: body.status == .inactive ? .inactive : .active, consentGivenAt: consent?.givenAt,
            consentScope: consent?.scope, createdByID: principal.userID)
        let contactID = try contact.requireID()
        let secrets = ContactSecrets(cipher: request.application.meander.cipher)
        let needs = ContactRules.text(body.needs)
        let notes = ContactRules.text(body.notes)
        try await request.db.writeTransaction { [mentorIDs] db in
            try await secrets.seal(needs: needs, notes: notes, into: contact, on: db)
            try await contact.create(on: db)
            for mentorID in mentorIDs {
                try await ContactMentorAssignment(
                    organizationID: organizationID, contactID: contactID, mentorID: mentorID,
                    assignedByID: principal.userID
                ).create(on: db)
            }
            try await AuditLog.append(
                AuditEvent(
                    "contact.created", request: request, organizationID: organizationID, targetType: "contact",
                    targetID: contactID,
                    metadata: [
                        "status": contact.status.rawValue, "consent": consent == nil ? "false" : "true",
                        "mentor_ids": mentorIDs.map { $0.uuidString.lowercased() }.joined(separator: ","),
                    ]),
                on: db)
        }
        // The caller just sent the needs and notes: echoing them back is not a read of stored data.
        let created = try Components.Schemas.Contact(
            contact, view: .full, mentorIDs: mentorIDs, needs: needs, notes: notes)
        return .created(.init(body: .json(created)))
    }

    func getContact(_ input: Operations.GetContact.Input) async throws -> Operations.GetContact.Output {
        let request = try RequestContext.request
        let (contact, view) = try await ContactAccess.load(
            try APIID.parse(input.path.contactId, parameter: "contactId"), access: request.access, on: request.db)
        return .ok(.init(body: .json(try Components.Schemas.Contact(try await request.readContact(contact, view: view)))))
    }

    func updateContact(_ input: Operations.UpdateContact.Input) async throws -> Operations.UpdateContact.Output {
        let request = try RequestContext.request
        let (loaded, _) = try await ContactAccess.load(
            try APIID.parse(input.path.contactId, parameter: "contactId"), access: request.access, on: request.db)
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        try Contacts.checkNotErased(loaded)
        let patch = try ContactPatch(body, raw: RawBody.object(of: request) ?? [:])
        let contactID = try loaded.requireID()
        let secrets = ContactSecrets(cipher: request.application.meander.cipher)
        // Read again under the row lock: two edits of different fields (needs and notes are sealed together) must
        // not undo each other, and an erasure that committed first must win.
        let contact = try await request.db.writeTransaction { db in
            let contact = try await Contacts.lockUnlessErased(contactID, on: db)
            let changed = try await patch.apply(to: contact, secrets: secrets, on: db)
            guard !changed.isEmpty else { return contact }
            try await contact.save(on: db)
            try await AuditLog.append(
                AuditEvent(
                    "contact.updated", request: request, organizationID: contact.$organization.id, targetType: "contact",
                    targetID: contactID, metadata: ["fields": changed.joined(separator: ",")]),
                on: db)
            return contact
        }
        return .ok(.init(body: .json(try Components.Schemas.Contact(try await request.readContact(contact, view: .full)))))
    }

    func archiveContact(_ input: Operations.ArchiveContact.Input) async throws -> Operations.ArchiveContact.Output {
        let request = try RequestContext.request
        let (contact, _) = try await ContactAccess.load(
            try APIID.parse(input.path.contactId, parameter: "contactId"), access: request.access, on: request.db)
        try Contacts.checkNotErased(contact)
        guard contact.status != .archived else { throw AppError(.conflict, "The contact is already archived.") }
        let contactID = try contact.requireID()
        let now = request.now
        try await request.db.writeTransaction { db in
            try await Contacts.transition(contact, to: .archived, at: now, on: db)
            // Nobody follows up an archived contact: the assignments end, and with them the mentors' access.
            let ended = try await Contacts.endAssignments(of: contactID, at: now, on: db)
            try await AuditLog.append(
                AuditEvent(
                    "contact.archived", request: request, organizationID: contact.$organization.id,
                    targetType: "contact", targetID: contactID, metadata: ["mentors_unassigned": String(ended)]),
                on: db)
        }
        return .ok(.init(body: .json(try Components.Schemas.Contact(try await request.readContact(contact, view: .full)))))
    }

    func recordConsent(_ input: Operations.RecordConsent.Input) async throws -> Operations.RecordConsent.Output {
        let request = try RequestContext.request
        let (contact, _) = try await ContactAccess.load(
            try APIID.parse(input.path.contactId, parameter: "contactId"), access: request.access, on: request.db)
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        try Contacts.checkNotErased(contact)
        var errors: [AppError.FieldError] = []
        guard let consent = ContactRules.consent(scope: body.scope, givenAt: body.givenAt, now: request.now, errors: &errors) else {
            throw AppError.validation(errors)
        }
        let contactID = try contact.requireID()
        let recorded = try await request.db.writeTransaction { db in
            let contact = try await Contacts.lockUnlessErased(contactID, on: db)
            // A new consent (another scope, or given again after a withdrawal) replaces the one on record.
            contact.consentGivenAt = consent.givenAt
            contact.consentScope = consent.scope
            contact.consentWithdrawnAt = nil
            try await contact.save(on: db)
            try await AuditLog.append(
                AuditEvent(
                    "contact.consent_recorded", request: request, organizationID: contact.$organization.id,
                    targetType: "contact", targetID: contactID,
                    metadata: ["given_at": consent.givenAt.formatted(.iso8601)]),
                on: db)
            return contact
        }
        return .ok(.init(body: .json(try Components.Schemas.Contact(try await request.readContact(recorded, view: .full)))))
    }

    func withdrawConsent(_ input: Operations.WithdrawConsent.Input) async throws -> Operations.WithdrawConsent.Output {
        let request = try RequestContext.request
        let (contact, _) = try await ContactAccess.load(
            try APIID.parse(input.path.contactId, parameter: "contactId"), access: request.access, on: request.db)
        try Contacts.checkNotErased(contact)
        guard contact.consentGivenAt != nil else { throw AppError(.conflict, "No consent is on record.") }
        guard contact.consentWithdrawnAt == nil else { throw AppError(.conflict, "The consent is already withdrawn.") }
        let contactID = try contact.requireID()
        let now = request.now
        try await request.db.writeTransaction { db in
            // Conditional, so that two withdrawals racing each other do not both succeed.
            let updated = try await db.sqlDatabase().update(Contact.schema)
                .set("consent_withdrawn_at", to: now)
                .set("updated_at", to: now)
                .where("id", .equal, contactID)
                .where("consent_withdrawn_at", .is, SQLLiteral.null)
                .where("erased_at", .is, SQLLiteral.null)
                .returning("id")
                .all()
            guard !updated.isEmpty else { throw AppError(.conflict, "The consent is already withdrawn.") }
            try await AuditLog.append(
                AuditEvent(
                    "contact.consent_withdrawn", request: request, organizationID: contact.$organization.id,
                    targetType: "contact", targetID: contactID),
                on: db)
        }
        contact.consentWithdrawnAt = now
        contact.updatedAt = now
        return .ok(.init(body: .json(try Components.Schemas.Contact(try await request.readContact(contact, view: .full)))))
    }

    func assignMentor(_ input: Operations.AssignMentor.Input) async throws -> Operations.AssignMentor.Output {
        let request = try RequestContext.request
        let (contact, _) = try await ContactAccess.load(
            try APIID.parse(input.path.contactId, parameter: "contactId"), access: request.access, on: request.db)
        guard case .json(let body) = input.body else { throw AppError(.unsupportedMediaType) }
        try Contacts.checkNotErased(contact)
        guard contact.status != .archived else {
            throw AppError(.conflict, "The contact is archived; reactivate them before assigning a mentor.")
        }
        guard let mentorID = APIID.uuid(body.mentorId) else {
            throw AppError.validation([.init(field: "/mentor_id", code: "invalid_value", message: "Not a user id.")])
        }
        let contactID = try contact.requireID()
        let lineage = try await OrganizationTree.lineage(of: contact.$organization.id, on: request.db)
        try await ContactRules.checkMentor(mentorID, lineage: lineage, field: "/mentor_id", on: request.db)
        if try await ContactAccess.isAssigned(contact: contactID, to: mentorID, on: request.db) {
            throw AppError(.conflict, "The mentor is already assigned to this contact.")
        }
        let principal = try request.requirePrincipal()
        // A re-assignment after an unassignment is a new row: the history of who followed the contact when stays.
        let assignment = ContactMentorAssignment(
            organizationID: contact.$organization.id, contactID: contactID, mentorID: mentorID,
            assignedByID: principal.userID)
        do {
            try await request.db.writeTransaction { db in
                _ = try await Contacts.lockUnlessErased(contactID, on: db)
                try await assignment.create(on: db)
                try await AuditLog.append(
                    AuditEvent(
                        "contact.mentor_assigned", request: request, organizationID: contact.$organization.id,
                        targetType: "contact", targetID: contactID,
                        metadata: ["mentor_id": mentorID.uuidString.lowercased()]),
                    on: db)
            }
        } catch let error as any DatabaseError where error.isConstraintFailure {
            throw AppError(.conflict, "The mentor is already assigned to this contact.")
        }
        return .ok(.init(body: .json(try Components.Schemas.Contact(try await request.readContact(contact, view: .full)))))
    }

    func unassignMentor(_ input: Operations.UnassignMentor.Input) async throws -> Operations.UnassignMentor.Output {
        let request = try RequestContext.request
        let (contact, _) = try await ContactAccess.load(
            try APIID.parse(input.path.contactId, parameter: "contactId"), access: request.access, on: request.db)
        let mentorID = try APIID.parse(input.path.mentorId, parameter: "mentorId")
        let contactID = try contact.requireID()
        let notAssigned = AppError(.notFound, "The mentor is not assigned to this contact.")
        try await request.db.writeTransaction { db in
            let ended = try await db.sqlDatabase().update(ContactMentorAssignment.schema)
                .set("unassigned_at", to: request.now)
                .set("updated_at", to: request.now)
                .where("contact_id", .equal, contactID)
                .where("mentor_id", .equal, mentorID)
                .where("unassigned_at", .is, SQLLiteral.null)
                .returning("id")
                .all()
            guard !ended.isEmpty else { throw notAssigned }
            try await AuditLog.append(
                AuditEvent(
                    "contact.mentor_unassigned", request: request, organizationID: contact.$organization.id,
                    targetType: "contact", targetID: contactID,
                    metadata: ["mentor_id": mentorID.uuidString.lowercased()]),
                on: db)
        }
        return .ok(.init(body: .json(try Components.Schemas.Contact(try await request.readContact(contact, view: .full)))))
    }
}

/// Shared steps of the contact operations.
enum Contacts {
    /// An erased contact is an anonymous statistic: nothing about it changes any more.
    static func checkNotErased(_ contact: Contact) throws {
        guard contact.erasedAt == nil else { throw AppError(.conflict, "The contact has been erased.") }
    }

    /// Locks the contact's row for the rest of the transaction (a no-op write: a row lock on PostgreSQL, the write
    /// lock on SQLite) and reads it afresh; 409 when it has been erased meanwhile.
    static func lockUnlessErased(_ id: UUID, on db: any Database) async throws -> Contact {
        let locked = try await db.sqlDatabase().update(Contact.schema)
            .set("erased_at", to: SQLColumn("erased_at"))
            .where("id", .equal, id)
            .where("erased_at", .is, SQLLiteral.null)
            .returning("id")
            .all()
        guard !locked.isEmpty, let contact = try await Contact.find(id, on: db) else {
            throw AppError(.conflict, "The contact has been erased.")
        }
        return contact
    }

    /// Moves a contact to a status with a conditional update; 409 when another request changed it first.
    static func transition(
        _ contact: Contact, to status: Contact.Status, at now: Date, on db: any Database
    ) async throws {
        let updated = try await db.sqlDatabase().update(Contact.schema)
            .set("status", to: status.rawValue)
            .set("updated_at", to: now)
            .where("id", .equal, try contact.requireID())
            .where("status", .equal, contact.status.rawValue)
            .where("erased_at", .is, SQLLiteral.null)
            .returning("id")
            .all()
        guard !updated.isEmpty else { throw AppError(.conflict, "The contact changed meanwhile; reload it and try again.") }
        contact.status = status
        contact.updatedAt = now
    }

    /// Ends every open mentor assignment of a contact; returns how many there were.
    @discardableResult
    static func endAssignments(of contactID: UUID, at time: Date, on db: any Database) async throws -> Int {
        try await db.sqlDatabase().update(ContactMentorAssignment.schema)
            .set("unassigned_at", to: time)
            .set("updated_at", to: time)
            .where("contact_id", .equal, contactID)
            .where("unassigned_at", .is, SQLLiteral.null)
            .returning("id")
            .all()
            .count
    }
}

extension Contact.Status {
    init(_ status: Components.Schemas.ContactStatus) {
        switch status {
        case .active: self = .active
        case .inactive: self = .inactive
        case .archived: self = .archived
        }
    }
}

extension Keyset {
    /// Contacts by last name, then first name (either may be missing: those come after the named ones).
    static let contacts = Keyset(
        "listContacts", table: Contact.schema, [.column("last_name", nullable: true), .column("first_name", nullable: true)],
        id: .ascending)
}

extension Request {
    /// The contact as this request's caller may see it, its sensitive reads audited (`ContactRead.open`).
    fileprivate func readContact(_ contact: Contact, view: ContactView) async throws -> ContactRead {
        try await ContactRead.open(
            contact, view: view, by: try Caller(self), deps: dependencies, cipher: application.meander.cipher, on: db)
    }
}

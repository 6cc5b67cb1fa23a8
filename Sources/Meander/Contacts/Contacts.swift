import Fluent
import FluentSQL
import Foundation

/// The contacts service: registering, listing, reading and changing the people that peer mentors follow up, their
/// consent and their mentors, for the API, the portal, the CLI and jobs alike. It takes domain values, an `Access`
/// for the operation's permission, the app's dependencies and a database, and returns domain values (`ContactRead`)
/// or throws `AppError`; it never sees a request, a wire type or the contract.
///
/// It owns `contacts` and `contact_mentor_assignments`. A subject's export and erasure are `ContactGDPR`'s; other
/// capabilities reach these tables through the functions here, never their SQL.
enum Contacts {}

/// A new contact, as the service takes it: values as the caller sent them, checked by the service.
struct NewContact: Sendable {
    var organizationID: UUID
    var firstName: String
    var lastName: String
    var birthYear: Int?
    var phone: String?
    var address: String?
    var postalCode: String?
    var postalPlace: String?
    var municipalityCode: String?
    /// Registered as inactive rather than active.
    var inactive: Bool = false
    var consent: NewConsent?
    /// In the order given; repeats count once.
    var mentorIDs: [UUID] = []
    /// Special-category text: sealed before it is stored, never logged.
    var needs: String?
    var notes: String?
}

/// A consent being recorded: its scope, and when it was given (now when `nil`).
struct NewConsent: Sendable {
    var scope: String
    var givenAt: Date?
}

/// The fields an edit sets, as the caller sent them. A field left `nil` is unchanged; for the clearable ones,
/// `.some(nil)` clears it.
struct ContactChanges: Sendable {
    var firstName: String?
    var lastName: String?
    var birthYear: Int??
    var phone: String??
    var address: String??
    var postalCode: String??
    var postalPlace: String??
    var municipalityCode: String??
    /// Active or inactive (archiving is its own operation).
    var inactive: Bool?
    var needs: String??
    var notes: String??
}

/// What the contact list is filtered by.
struct ContactFilter: Sendable {
    /// Only this organisation's subtree.
    var organizationID: UUID?
    var status: Contact.Status?
    var mentorID: UUID?
    var countyCode: String?
    var municipalityCode: String?
    /// Part of the first or last name, case-folded.
    var text: String?
}

extension Contacts {
    // MARK: - Reading

    /// One page of the contacts the caller may see: staff over their subtrees, a peer mentor the contacts assigned
    /// to them. With an organisation: 404 outside the caller's reach, as everywhere. Without: 403 for a caller with
    /// no role that reads contacts anywhere (the platform admin). Items carry no needs or notes.
    static func list(
        _ filter: ContactFilter, page: KeysetPage, access: Access, on db: any Database
    ) async throws -> (items: [ContactRead], next: String?) {
        if let scope = filter.organizationID {
            try await access.authorize(in: scope)
        } else {
            try access.authorizeAnywhere()
        }
        var reach = try await ContactAccess.reach(access: access, on: db)
        let principal = try access.caller.requirePrincipal()
        if let scope = filter.organizationID {
            let subtree = try await OrganizationTree.subtreeIDs(of: [scope], on: db)
            reach.staff.formIntersection(subtree)
            reach.mentor.formIntersection(subtree)
        }
        guard !reach.isEmpty else { return ([], nil) }

        let builder = Contact.query(on: db).filter(\.$erasedAt == nil)
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
        if let status = filter.status {
            builder.filter(\.$status == status)
        }
        if let mentorID = filter.mentorID {
            builder.filter(ContactAccess.assignedFilter(to: mentorID))
        }
        if let county = filter.countyCode {
            builder.filter(\.$countyCode == county)
        }
        if let municipality = filter.municipalityCode {
            builder.filter(\.$municipalityCode == municipality)
        }
        if let text = filter.text {
            builder.filter(
                CaseFoldedMatch.contains(text, in: [(Contact.schema, "first_name"), (Contact.schema, "last_name")]))
        }
        let rows = try await builder.page(page).all()
        let (contacts, next) = try await page.finish(rows, id: { try $0.requireID() }, on: db)
        let mentors = try await ContactMentors.open(of: contacts.compactMap(\.id), on: db)
        let items = try contacts.map { contact in
            ContactRead(
                contact: contact, view: reach.view(of: contact), mentorIDs: mentors[try contact.requireID()] ?? [],
                needs: nil, notes: nil)
        }
        return (items, next)
    }

    /// The contact as the caller may see it (404 otherwise), its sensitive reads audited.
    static func read(
        _ id: UUID, access: Access, deps: AppDependencies, cipher: FieldCipher, on db: any Database
    ) async throws -> ContactRead {
        let (contact, view) = try await ContactAccess.load(id, access: access, on: db)
        return try await ContactRead.open(contact, view: view, by: access.caller, deps: deps, cipher: cipher, on: db)
    }

    // MARK: - Registering and changing

    /// Registers a contact with its first mentors. Refused (403) to a caller whose staff roles there are all paused.
    static func create(
        _ new: NewContact, access: Access, deps: AppDependencies, cipher: FieldCipher, on db: any Database
    ) async throws -> ContactRead {
        let organizationID = new.organizationID
        let lineage = try await access.authorize(in: organizationID)
        let principal = try access.caller.requirePrincipal()
        if ContactAccess.isPaused(principal, in: lineage) {
            throw AppError(.forbidden, "Your membership here is paused.")
        }

        let now = deps.now
        var errors: [AppError.FieldError] = []
        let firstName = ContactRules.name(new.firstName, field: "/first_name", errors: &errors)
        let lastName = ContactRules.name(new.lastName, field: "/last_name", errors: &errors)
        let birthYear = new.birthYear.flatMap { ContactRules.birthYear($0, now: now, errors: &errors) }
        let municipality = new.municipalityCode.flatMap { ContactRules.municipality($0, errors: &errors) }
        let consent = new.consent.flatMap {
            ContactRules.consent(scope: $0.scope, givenAt: $0.givenAt, now: now, pointer: "/consent", errors: &errors)
        }
        try ContactRules.throwing(errors)
        var mentorIDs: [UUID] = []
        for id in new.mentorIDs where !mentorIDs.contains(id) {
            mentorIDs.append(id)
        }
        for (index, id) in mentorIDs.enumerated() {
            try await ContactRules.checkMentor(id, lineage: lineage, field: "/mentor_ids/\(index)", on: db)
        }

        let contact = Contact(
            id: deps.uuid(), organizationID: organizationID, firstName: firstName, lastName: lastName,
            birthYear: birthYear, phone: ContactRules.text(new.phone), address: ContactRules.text(new.address),
            postalCode: new.postalCode, postalPlace: ContactRules.text(new.postalPlace),
            municipalityCode: municipality?.code, countyCode: municipality?.countyCode,
            status: new.inactive ? .inactive : .active, consentGivenAt: consent?.givenAt,
            consentScope: consent?.scope, createdByID: principal.userID)
        let contactID = try contact.requireID()
        let secrets = ContactSecrets(cipher: cipher)
        let needs = ContactRules.text(new.needs)
        let notes = ContactRules.text(new.notes)
        let event = access.caller.event(
            "contact.created", organizationID: organizationID, targetType: "contact", targetID: contactID,
            metadata: [
                "status": contact.status.rawValue, "consent": consent == nil ? "false" : "true",
                "mentor_ids": mentorIDs.map { $0.uuidString.lowercased() }.joined(separator: ","),
            ])
        try await db.auditedWrite(event, clock: deps.clock) { [mentorIDs] db in
            try await secrets.seal(needs: needs, notes: notes, into: contact, on: db)
            try await contact.create(on: db)
            for mentorID in mentorIDs {
                try await ContactMentorAssignment(
                    organizationID: organizationID, contactID: contactID, mentorID: mentorID,
                    assignedByID: principal.userID
                ).create(on: db)
            }
        }
        // The caller just sent the needs and notes: handing them back is not a read of stored data.
        return ContactRead(contact: contact, view: .full, mentorIDs: mentorIDs, needs: needs, notes: notes)
    }

    /// Changes a contact's fields. Needs and notes are sealed afresh when either changes; nothing is written or
    /// audited when nothing changed.
    static func update(
        _ id: UUID, _ changes: ContactChanges, access: Access, deps: AppDependencies, cipher: FieldCipher,
        on db: any Database
    ) async throws -> ContactRead {
        let (loaded, _) = try await ContactAccess.load(id, access: access, on: db)
        try checkNotErased(loaded)
        let patch = try ContactPatch(changes, now: deps.now)
        let secrets = ContactSecrets(cipher: cipher)
        let caller = access.caller
        // Read again under the row lock: two edits of different fields (needs and notes are sealed together) must
        // not undo each other, and an erasure that committed first must win.
        let contact = try await db.auditedWrite(clock: deps.clock) { db -> (Contact, AuditEvent?) in
            let contact = try await lockUnlessErased(id, on: db)
            let changed = try await patch.apply(to: contact, secrets: secrets, on: db)
            guard !changed.isEmpty else { return (contact, nil) }
            try await contact.save(on: db)
            let event = caller.event(
                "contact.updated", organizationID: contact.$organization.id, targetType: "contact", targetID: id,
                metadata: ["fields": changed.joined(separator: ",")])
            return (contact, event)
        }
        return try await ContactRead.open(contact, view: .full, by: caller, deps: deps, cipher: cipher, on: db)
    }

    /// Archives a contact: nobody follows up an archived contact, so its mentor assignments end, and with them the
    /// mentors' access.
    static func archive(
        _ id: UUID, access: Access, deps: AppDependencies, cipher: FieldCipher, on db: any Database
    ) async throws -> ContactRead {
        let (contact, _) = try await ContactAccess.load(id, access: access, on: db)
        try checkNotErased(contact)
        guard contact.status != .archived else { throw AppError(.conflict, "The contact is already archived.") }
        let now = deps.now
        let caller = access.caller
        try await db.auditedWrite(clock: deps.clock) { db -> (Void, AuditEvent?) in
            try await transition(contact, to: .archived, at: now, on: db)
            let ended = try await endAssignments(of: id, at: now, on: db)
            let event = caller.event(
                "contact.archived", organizationID: contact.$organization.id, targetType: "contact", targetID: id,
                metadata: ["mentors_unassigned": String(ended)])
            return ((), event)
        }
        return try await ContactRead.open(contact, view: .full, by: caller, deps: deps, cipher: cipher, on: db)
    }

    // MARK: - Consent

    /// Records a consent. A new one (another scope, or given again after a withdrawal) replaces the one on record.
    static func recordConsent(
        _ id: UUID, _ consent: NewConsent, access: Access, deps: AppDependencies, cipher: FieldCipher,
        on db: any Database
    ) async throws -> ContactRead {
        let (contact, _) = try await ContactAccess.load(id, access: access, on: db)
        try checkNotErased(contact)
        var errors: [AppError.FieldError] = []
        guard
            let valid = ContactRules.consent(
                scope: consent.scope, givenAt: consent.givenAt, now: deps.now, errors: &errors)
        else {
            throw AppError.validation(errors)
        }
        let event = access.caller.event(
            "contact.consent_recorded", organizationID: contact.$organization.id, targetType: "contact", targetID: id,
            metadata: ["given_at": valid.givenAt.formatted(.iso8601)])
        let recorded = try await db.auditedWrite(event, clock: deps.clock) { db in
            let contact = try await lockUnlessErased(id, on: db)
            contact.consentGivenAt = valid.givenAt
            contact.consentScope = valid.scope
            contact.consentWithdrawnAt = nil
            try await contact.save(on: db)
            return contact
        }
        return try await ContactRead.open(recorded, view: .full, by: access.caller, deps: deps, cipher: cipher, on: db)
    }

    /// Withdraws the consent on record; 409 when there is none, or it is withdrawn already.
    static func withdrawConsent(
        _ id: UUID, access: Access, deps: AppDependencies, cipher: FieldCipher, on db: any Database
    ) async throws -> ContactRead {
        let (contact, _) = try await ContactAccess.load(id, access: access, on: db)
        try checkNotErased(contact)
        guard contact.consentGivenAt != nil else { throw AppError(.conflict, "No consent is on record.") }
        guard contact.consentWithdrawnAt == nil else { throw AppError(.conflict, "The consent is already withdrawn.") }
        let now = deps.now
        let event = access.caller.event(
            "contact.consent_withdrawn", organizationID: contact.$organization.id, targetType: "contact", targetID: id)
        try await db.auditedWrite(event, clock: deps.clock) { db in
            // Conditional, so that two withdrawals racing each other do not both succeed.
            let updated = try await db.sqlDatabase().update(Contact.schema)
                .set("consent_withdrawn_at", to: now)
                .set("updated_at", to: now)
                .where("id", .equal, id)
                .where("consent_withdrawn_at", .is, SQLLiteral.null)
                .where("erased_at", .is, SQLLiteral.null)
                .returning("id")
                .all()
            guard !updated.isEmpty else { throw AppError(.conflict, "The consent is already withdrawn.") }
        }
        contact.consentWithdrawnAt = now
        contact.updatedAt = now
        return try await ContactRead.open(contact, view: .full, by: access.caller, deps: deps, cipher: cipher, on: db)
    }

    // MARK: - Mentors

    /// Assigns a peer mentor, who must hold a live `peer_mentor` role in the contact's organisation or above it. A
    /// re-assignment after an unassignment is a new row: the history of who followed the contact when stays.
    static func assignMentor(
        _ mentorID: UUID, to id: UUID, access: Access, deps: AppDependencies, cipher: FieldCipher,
        on db: any Database
    ) async throws -> ContactRead {
        let (contact, _) = try await ContactAccess.load(id, access: access, on: db)
        try checkNotErased(contact)
        guard contact.status != .archived else {
            throw AppError(.conflict, "The contact is archived; reactivate them before assigning a mentor.")
        }
        let lineage = try await OrganizationTree.lineage(of: contact.$organization.id, on: db)
        try await ContactRules.checkMentor(mentorID, lineage: lineage, field: "/mentor_id", on: db)
        let alreadyAssigned = AppError(.conflict, "The mentor is already assigned to this contact.")
        if try await ContactAccess.isAssigned(contact: id, to: mentorID, on: db) { throw alreadyAssigned }
        let principal = try access.caller.requirePrincipal()
        let assignment = ContactMentorAssignment(
            organizationID: contact.$organization.id, contactID: id, mentorID: mentorID,
            assignedByID: principal.userID)
        let event = access.caller.event(
            "contact.mentor_assigned", organizationID: contact.$organization.id, targetType: "contact", targetID: id,
            metadata: ["mentor_id": mentorID.uuidString.lowercased()])
        do {
            try await db.auditedWrite(event, clock: deps.clock) { db in
                _ = try await lockUnlessErased(id, on: db)
                try await assignment.create(on: db)
            }
        } catch let error as any DatabaseError where error.isConstraintFailure {
            throw alreadyAssigned
        }
        return try await ContactRead.open(contact, view: .full, by: access.caller, deps: deps, cipher: cipher, on: db)
    }

    /// Ends a mentor's open assignment; 404 when there is none.
    static func unassignMentor(
        _ mentorID: UUID, from id: UUID, access: Access, deps: AppDependencies, cipher: FieldCipher,
        on db: any Database
    ) async throws -> ContactRead {
        let (contact, _) = try await ContactAccess.load(id, access: access, on: db)
        let now = deps.now
        let event = access.caller.event(
            "contact.mentor_unassigned", organizationID: contact.$organization.id, targetType: "contact", targetID: id,
            metadata: ["mentor_id": mentorID.uuidString.lowercased()])
        try await db.auditedWrite(event, clock: deps.clock) { db in
            let ended = try await db.sqlDatabase().update(ContactMentorAssignment.schema)
                .set("unassigned_at", to: now)
                .set("updated_at", to: now)
                .where("contact_id", .equal, id)
                .where("mentor_id", .equal, mentorID)
                .where("unassigned_at", .is, SQLLiteral.null)
                .returning("id")
                .all()
            guard !ended.isEmpty else { throw AppError(.notFound, "The mentor is not assigned to this contact.") }
        }
        return try await ContactRead.open(contact, view: .full, by: access.caller, deps: deps, cipher: cipher, on: db)
    }

    // MARK: - Shared steps

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

/// One contact as its reader may see it: its needs and notes opened for the view, and its open assignments.
struct ContactRead: Sendable {
    let contact: Contact
    let view: ContactView
    let mentorIDs: [UUID]
    let needs: String?
    let notes: String?

    /// Reads a contact for `view`. Whenever it opens stored needs or notes, who read them is audited as
    /// `contact.sensitive_read` (never what was read).
    static func open(
        _ contact: Contact, view: ContactView, by caller: Caller, deps: AppDependencies, cipher: FieldCipher,
        on db: any Database
    ) async throws -> ContactRead {
        let id = try contact.requireID()
        let secrets = ContactSecrets(cipher: cipher)
        let needs = try await secrets.open(contact.needsCiphertext, .needs, of: contact, on: db)
        let notes = view == .full ? try await secrets.open(contact.notesCiphertext, .notes, of: contact, on: db) : nil
        let mentors = try await ContactMentors.open(of: [id], on: db)[id] ?? []
        let read = [needs.map { _ in "needs" }, notes.map { _ in "notes" }].compactMap { $0 }
        if !read.isEmpty {
            try await AuditLog.append(
                caller.event(
                    "contact.sensitive_read", organizationID: contact.$organization.id, targetType: "contact",
                    targetID: id, metadata: ["fields": read.joined(separator: ","), "view": view.rawValue]
                ).dated(by: deps.clock),
                on: db)
        }
        return ContactRead(contact: contact, view: view, mentorIDs: mentors, needs: needs, notes: notes)
    }
}

/// The open mentor assignments of contacts.
enum ContactMentors {
    /// Mentor ids by contact, for assignments not ended.
    static func open(of contactIDs: [UUID], on db: any Database) async throws -> [UUID: [UUID]] {
        guard !contactIDs.isEmpty else { return [:] }
        let rows = try await ContactMentorAssignment.query(on: db)
            .filter(\.$contact.$id ~~ contactIDs)
            .filter(\.$unassignedAt == nil)
            .all()
        return Dictionary(grouping: rows, by: { $0.$contact.id }).mapValues { $0.map { $0.$mentor.id } }
    }
}

/// Seals and opens a contact's special-category fields (`needs_ciphertext`, `notes_ciphertext`).
struct ContactSecrets: Sendable {
    enum Column: String {
        case needs = "needs_ciphertext"
        case notes = "notes_ciphertext"
    }

    let cipher: FieldCipher

    init(cipher: FieldCipher) {
        self.cipher = cipher
    }

    static func context(_ column: Column, contactID: UUID, organizationID: UUID) -> FieldContext {
        FieldContext(organizationID: organizationID, table: Contact.schema, column: column.rawValue, rowID: contactID)
    }

    func open(_ envelope: Data?, _ column: Column, of contact: Contact, on db: any Database) async throws -> String? {
        try await cipher.open(
            envelope, Self.context(column, contactID: try contact.requireID(), organizationID: contact.$organization.id),
            on: db)
    }

    /// Seals both fields afresh under the organisation's newest data key and sets `key_version` to match, so that a
    /// row never mixes key versions. The contact must have its id already: it is bound into the ciphertext.
    func seal(needs: String?, notes: String?, into contact: Contact, on db: any Database) async throws {
        let id = try contact.requireID()
        let organizationID = contact.$organization.id
        contact.needsCiphertext = try await cipher.seal(
            needs, Self.context(.needs, contactID: id, organizationID: organizationID), on: db)
        contact.notesCiphertext = try await cipher.seal(
            notes, Self.context(.notes, contactID: id, organizationID: organizationID), on: db)
        contact.keyVersion = (contact.needsCiphertext ?? contact.notesCiphertext).flatMap(FieldCipher.keyVersion(of:))
    }
}

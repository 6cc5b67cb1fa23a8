import Fluent
import Foundation

extension Components.Schemas.Contact {
    /// The API view of a contact. `needs` and `notes` are the opened values (nil when not read); the mentor view
    /// leaves out the address, birth year, notes and consent whatever is passed in.
    init(
        _ contact: Contact, view: ContactView, mentorIDs: [UUID], needs: String? = nil, notes: String? = nil
    ) throws {
        let full = view == .full
        self.init(
            id: try contact.requireID().uuidString.lowercased(),
            organizationId: contact.$organization.id.uuidString.lowercased(),
            status: Components.Schemas.ContactStatus(contact.status),
            view: full ? .full : .mentor,
            firstName: contact.firstName,
            lastName: contact.lastName,
            birthYear: full ? contact.birthYear.map { Int32($0) } : nil,
            phone: contact.phone,
            address: full ? contact.address : nil,
            postalCode: full ? contact.postalCode : nil,
            postalPlace: full ? contact.postalPlace : nil,
            municipalityCode: contact.municipalityCode,
            countyCode: contact.countyCode,
            needs: needs,
            notes: full ? notes : nil,
            consent: full ? Self.consent(of: contact) : nil,
            mentorIds: mentorIDs.map { $0.uuidString.lowercased() }.sorted(),
            erasedAt: contact.erasedAt,
            createdAt: contact.createdAt ?? .distantPast,
            updatedAt: contact.updatedAt ?? contact.createdAt ?? .distantPast)
    }

    private static func consent(of contact: Contact) -> Components.Schemas.Consent? {
        guard let givenAt = contact.consentGivenAt, let scope = contact.consentScope else { return nil }
        return Components.Schemas.Consent(givenAt: givenAt, scope: scope, withdrawnAt: contact.consentWithdrawnAt)
    }

    /// Maps a page of contacts (without needs and notes, which only the single-contact responses carry), loading
    /// their open mentor assignments in one query.
    static func list(
        _ contacts: [Contact], reach: TenantReach, on db: any Database
    ) async throws -> [Components.Schemas.Contact] {
        let mentors = try await ContactMentors.open(of: contacts.compactMap(\.id), on: db)
        return try contacts.map { contact in
            try Components.Schemas.Contact(
                contact, view: reach.view(of: contact), mentorIDs: mentors[try contact.requireID()] ?? [])
        }
    }

    /// The API view of a contact as `ContactRead.open` read it.
    init(_ read: ContactRead) throws {
        try self.init(read.contact, view: read.view, mentorIDs: read.mentorIDs, needs: read.needs, notes: read.notes)
    }
}

extension Components.Schemas.ContactStatus {
    init(_ status: Contact.Status) {
        switch status {
        case .active: self = .active
        case .inactive: self = .inactive
        case .archived: self = .archived
        }
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

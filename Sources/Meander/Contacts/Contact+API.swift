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

    /// The API view of a contact as the service read it.
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

extension Contact.Status {
    init(_ status: Components.Schemas.ContactStatus) {
        switch status {
        case .active: self = .active
        case .inactive: self = .inactive
        case .archived: self = .archived
        }
    }
}

extension NewContact {
    /// The service's input from the wire. The contract has already checked the ids' format.
    init(_ body: Components.Schemas.ContactCreate) throws {
        self.init(
            organizationID: try APIID.parse(body.organizationId, parameter: "organization_id"),
            firstName: body.firstName, lastName: body.lastName, birthYear: body.birthYear.map { Int($0) },
            phone: body.phone, address: body.address, postalCode: body.postalCode, postalPlace: body.postalPlace,
            municipalityCode: body.municipalityCode, inactive: body.status == .inactive,
            consent: body.consent.map { NewConsent(scope: $0.scope, givenAt: $0.givenAt) },
            mentorIDs: try (body.mentorIds ?? []).enumerated().map { index, raw in
                guard let id = APIID.uuid(raw) else {
                    throw AppError.validation([
                        .init(field: "/mentor_ids/\(index)", code: "invalid_value", message: "Not a user id.")
                    ])
                }
                return id
            },
            needs: body.needs, notes: body.notes)
    }
}

extension ContactChanges {
    /// The service's input from the wire; `raw` is the JSON as sent, to tell an explicit `null` from an absent key.
    init(_ body: Components.Schemas.ContactUpdate, raw: [String: JSONValue]) {
        func given<T>(_ key: String, _ value: T?) -> T?? { raw.keys.contains(key) ? .some(value) : nil }
        self.init(
            firstName: body.firstName, lastName: body.lastName,
            birthYear: given("birth_year", body.birthYear.map { Int($0) }),
            phone: given("phone", body.phone), address: given("address", body.address),
            postalCode: given("postal_code", body.postalCode), postalPlace: given("postal_place", body.postalPlace),
            municipalityCode: given("municipality_code", body.municipalityCode),
            inactive: body.status.map { $0 == .inactive }, needs: given("needs", body.needs),
            notes: given("notes", body.notes))
    }
}

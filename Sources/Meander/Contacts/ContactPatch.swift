import Fluent
import Foundation

/// A checked edit of a contact: `ContactChanges` after `Contacts.update` validated them. For each field `nil` leaves
/// it alone; for the nullable ones `.some(nil)` clears it.
struct ContactPatch: Sendable {
    var firstName: String?
    var lastName: String?
    var birthYear: Int??
    var phone: String??
    var address: String??
    var postalCode: String??
    var postalPlace: String??
    var municipality: Municipality??
    var status: Contact.Status?
    var needs: String??
    var notes: String??

    /// Checks the changes as the caller sent them; `now` bounds the birth year.
    init(_ changes: ContactChanges, now: Date) throws {
        var errors: [AppError.FieldError] = []
        firstName = changes.firstName.flatMap { ContactRules.name($0, field: "/first_name", errors: &errors) }
        lastName = changes.lastName.flatMap { ContactRules.name($0, field: "/last_name", errors: &errors) }
        if let year = changes.birthYear {
            birthYear = .some(year.flatMap { ContactRules.birthYear($0, now: now, errors: &errors) })
        }
        phone = changes.phone.map(ContactRules.text)
        address = changes.address.map(ContactRules.text)
        postalCode = changes.postalCode
        postalPlace = changes.postalPlace.map(ContactRules.text)
        if let code = changes.municipalityCode {
            municipality = .some(code.flatMap { ContactRules.municipality($0, errors: &errors) })
        }
        status = changes.inactive.map { $0 ? .inactive : .active }
        needs = changes.needs.map(ContactRules.text)
        notes = changes.notes.map(ContactRules.text)
        try ContactRules.throwing(errors)
    }

    /// Applies the patch to a contact read inside the caller's transaction and returns the names of the fields that
    /// changed. Needs and notes are compared with the opened values; when either changes, both are sealed afresh.
    func apply(to contact: Contact, secrets: ContactSecrets, on db: any Database) async throws -> [String] {
        var changed: [String] = []
        func set<Value: Equatable>(_ key: String, _ keyPath: ReferenceWritableKeyPath<Contact, Value>, _ value: Value?) {
            guard let value, contact[keyPath: keyPath] != value else { return }
            contact[keyPath: keyPath] = value
            changed.append(key)
        }
        set("first_name", \.firstName, firstName.map { Optional($0) })
        set("last_name", \.lastName, lastName.map { Optional($0) })
        set("birth_year", \.birthYear, birthYear)
        set("phone", \.phone, phone)
        set("address", \.address, address)
        set("postal_code", \.postalCode, postalCode)
        set("postal_place", \.postalPlace, postalPlace)
        if let municipality {
            set("municipality_code", \.municipalityCode, .some(municipality?.code))
            set("county_code", \.countyCode, .some(municipality?.countyCode))
        }
        set("status", \.status, status)

        guard needs != nil || notes != nil else { return changed }
        let storedNeeds = try await secrets.open(contact.needsCiphertext, .needs, of: contact, on: db)
        let storedNotes = try await secrets.open(contact.notesCiphertext, .notes, of: contact, on: db)
        let newNeeds = needs ?? storedNeeds
        let newNotes = notes ?? storedNotes
        if newNeeds != storedNeeds { changed.append("needs") }
        if newNotes != storedNotes { changed.append("notes") }
        if newNeeds != storedNeeds || newNotes != storedNotes {
            try await secrets.seal(needs: newNeeds, notes: newNotes, into: contact, on: db)
        }
        return changed
    }
}

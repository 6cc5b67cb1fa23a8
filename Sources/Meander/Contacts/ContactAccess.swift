import Fluent
import FluentSQL
import Foundation

/// What a caller may see of a contact.
enum ContactView: String, Sendable {
    /// Staff (coordinator and above): every field.
    case full
    /// The assigned peer mentor: no address, birth year, notes or consent.
    case mentor
}

/// Who reaches which contacts, on top of `Access`: staff over their subtrees, a peer mentor over the contacts
/// currently assigned to them and nothing else.
enum ContactAccess {
    static var notFound: AppError { AppError(.notFound, "No such contact.") }

    /// Loads a contact and authorises `access`'s permission in its organisation.
    ///
    /// For `contacts.read` a caller without a staff role there sees the contact only while it is assigned to them
    /// (404 otherwise). Operations that change a contact are refused (403) to a caller whose roles there are all held
    /// through paused memberships.
    static func load(_ id: UUID, access: Access, on db: any Database) async throws -> (Contact, ContactView) {
        guard let contact = try await Contact.find(id, on: db) else { throw notFound }
        let lineage = try await access.authorize(in: contact.$organization.id)
        let principal = try access.caller.requirePrincipal()
        let reading = access.declared == .contactsRead
        if TenantReach.isStaff(principal, in: lineage) {
            if !reading, isPaused(principal, in: lineage) {
                throw AppError(.forbidden, "Your membership here is paused.")
            }
            return (contact, .full)
        }
        // Only `contacts.read` reaches this far without a staff role: a peer mentor, who sees their own contacts.
        guard reading, try await isAssigned(contact: id, to: principal.userID, on: db) else { throw notFound }
        return (contact, .mentor)
    }

    /// Whether every staff role the caller holds over the lineage comes through a paused membership.
    static func isPaused(_ principal: Principal, in lineage: [Organization]) -> Bool {
        TenantReach.isPaused(principal, in: lineage, roles: TenantReach.staffRoles)
    }

    static func isAssigned(contact: UUID, to mentorID: UUID, on db: any Database) async throws -> Bool {
        try await ContactMentorAssignment.query(on: db)
            .filter(\.$contact.$id == contact)
            .filter(\.$mentor.$id == mentorID)
            .filter(\.$unassignedAt == nil)
            .count() > 0
    }

    /// The caller's reach for lists, within what `access` allows; runs its check.
    static func reach(access: Access, on db: any Database) async throws -> TenantReach {
        // Contact permissions are never platform-wide, so this is never nil.
        let reachable = try await access.reachableOrganizationIDs() ?? []
        let reach = try await TenantReach.of(try access.caller.requirePrincipal(), on: db)
        return TenantReach(staff: reach.staff.intersection(reachable), mentor: reach.mentor.intersection(reachable))
    }

    /// A filter for contacts with an open assignment to `mentorID`.
    static func assignedFilter(to mentorID: UUID) -> DatabaseQuery.Filter {
        .sql(
            embed: """
                EXISTS (SELECT 1 FROM \(ident: ContactMentorAssignment.schema) a \
                WHERE a.contact_id = \(ident: Contact.schema).id AND a.mentor_id = \(bind: mentorID) \
                AND a.unassigned_at IS NULL)
                """)
    }
}

extension TenantReach {
    /// How a contact of this reach is shown.
    func view(of contact: Contact) -> ContactView {
        staff.contains(contact.$organization.id) ? .full : .mentor
    }

    var isEmpty: Bool { staff.isEmpty && mentor.isEmpty }
}

import Fluent
import FluentSQL
import Foundation
import Vapor

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
    static let staffRoles: Set<UserRole.Role> = [.coordinator, .orgAdmin, .nationalAdmin]

    static var notFound: AppError { AppError(.notFound, "No such contact.") }

    /// Loads the contact named in the path and authorises the operation's permission in its organisation.
    ///
    /// For `contacts.read` a caller without a staff role there sees the contact only while it is assigned to them
    /// (404 otherwise). Operations that change a contact are refused (403) to a caller whose roles there are all held
    /// through paused memberships.
    static func load(_ rawID: String, request: Request) async throws -> (Contact, ContactView) {
        let id = try APIID.parse(rawID, parameter: "contactId")
        guard let contact = try await Contact.find(id, on: request.db) else { throw notFound }
        let lineage = try await request.access.authorize(in: contact.$organization.id)
        let principal = try request.requirePrincipal()
        if isStaff(principal, in: lineage) {
            if request.permission != .contactsRead, isPaused(principal, in: lineage) {
                throw AppError(.forbidden, "Your membership here is paused.")
            }
            return (contact, .full)
        }
        // Only `contacts.read` reaches this far without a staff role: a peer mentor, who sees their own contacts.
        guard request.permission == .contactsRead, try await isAssigned(contact: id, to: principal.userID, on: request.db)
        else { throw notFound }
        return (contact, .mentor)
    }

    /// Whether the caller holds a staff role on the organisation or above it.
    static func isStaff(_ principal: Principal, in lineage: [Organization]) -> Bool {
        let ids = Set(lineage.compactMap(\.id))
        return principal.grants.contains { grant in
            staffRoles.contains(grant.role) && grant.organizationID.map(ids.contains) == true
        }
    }

    /// Whether every staff role the caller holds over the lineage comes through a paused membership.
    static func isPaused(_ principal: Principal, in lineage: [Organization]) -> Bool {
        let ids = Set(lineage.compactMap(\.id))
        let reaching = principal.grants.filter { staffRoles.contains($0.role) }.compactMap(\.organizationID)
            .filter(ids.contains)
        return !reaching.isEmpty && reaching.allSatisfy(principal.pausedOrganizationIDs.contains)
    }

    static func isAssigned(contact: UUID, to mentorID: UUID, on db: any Database) async throws -> Bool {
        try await ContactMentorAssignment.query(on: db)
            .filter(\.$contact.$id == contact)
            .filter(\.$mentor.$id == mentorID)
            .filter(\.$unassignedAt == nil)
            .count() > 0
    }

    /// The organisations where the caller sees contacts as staff, and those where only as a peer mentor.
    struct Reach: Sendable {
        var staff: Set<UUID>
        var mentor: Set<UUID>

        var isEmpty: Bool { staff.isEmpty && mentor.isEmpty }

        func view(of contact: Contact) -> ContactView {
            staff.contains(contact.$organization.id) ? .full : .mentor
        }
    }

    /// The caller's reach for lists; runs `Access`'s check for the request.
    static func reach(of request: Request) async throws -> Reach {
        // Marks the request as checked; contact permissions are never platform-wide, so this is never nil.
        let reachable = try await request.access.reachableOrganizationIDs() ?? []
        let principal = try request.requirePrincipal()
        let staffRoots = Set(principal.grants.filter { staffRoles.contains($0.role) }.compactMap(\.organizationID))
        let mentorRoots = Set(principal.grants.filter { $0.role == .peerMentor }.compactMap(\.organizationID))
        let staff = try await OrganizationTree.subtreeIDs(of: staffRoots, on: request.db).intersection(reachable)
        let mentor = try await OrganizationTree.subtreeIDs(of: mentorRoots, on: request.db).intersection(reachable)
            .subtracting(staff)
        return Reach(staff: staff, mentor: mentor)
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

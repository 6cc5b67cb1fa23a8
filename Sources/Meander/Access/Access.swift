import Fluent
import Foundation

/// Checks a permission against the caller's roles — the one place scope is enforced. No HTTP: a handler gets one
/// for its operation's declared permission (`request.access`), a service for the permission its rule needs
/// (`caller.access(.activitiesCreate, on: db)`).
///
/// Outside the caller's reach a record answers 404 (ids leak nothing); inside it, a role that does not grant
/// the permission answers 403.
struct Access: Sendable {
    let caller: Caller
    /// The permission to check; `nil` when the operation declares none (a 500: every route must declare one).
    let declared: Permission?
    /// Where the tree is read unless a check is given another database.
    let db: any Database

    private var permission: Permission {
        get throws {
            guard let permission = declared else {
                throw AppError(.internalError, "The operation declares no permission.")
            }
            return permission
        }
    }

    private func requirePrincipal() throws -> Principal { try caller.requirePrincipal() }

    private func markAuthorized() { caller.checked?() }

    /// Authorises the declared permission on one organisation (and returns its lineage, nearest first), reading the
    /// tree on `db` (the request's database unless given).
    @discardableResult
    func authorize(in organizationID: UUID, on db: (any Database)? = nil) async throws -> [Organization] {
        let permission = try permission
        let principal = try requirePrincipal()
        let lineage = try await OrganizationTree.lineage(of: organizationID, on: db ?? self.db)
        guard !lineage.isEmpty else { throw AppError(.notFound, "No such organisation.") }
        markAuthorized()
        let grants = permission.grants
        if principal.grants.contains(where: { grants[$0.role] == .anywhere }) {
            return lineage
        }
        let lineageIDs = Set(lineage.compactMap(\.id))
        let inReach = principal.grants.filter { grant in
            grant.organizationID.map(lineageIDs.contains) ?? false
        }
        guard !inReach.isEmpty else { throw AppError(.notFound, "No such organisation.") }
        let granting = inReach.filter { grants[$0.role] != nil }
        guard !granting.isEmpty else {
            throw AppError(.forbidden, "Your roles here do not allow \(permission.rawValue).")
        }
        // A suspended tenant acts on nothing: a role counts only if no organisation from where it is held upwards is
        // suspended. Someone above a suspended branch (a national admin) can still act on it, and lift it.
        let usable = granting.contains { grant in
            guard let index = lineage.firstIndex(where: { $0.id == grant.organizationID }) else { return false }
            return !lineage[index...].contains { $0.status == .suspended }
        }
        guard usable else { throw AppError(.forbidden, "The organisation is suspended.") }
        return lineage
    }

    /// Authorises a permission that is not tied to one organisation: the caller needs a granting role anywhere.
    func authorizeAnywhere() throws {
        let permission = try permission
        let principal = try requirePrincipal()
        markAuthorized()
        guard principal.grants.contains(where: { permission.grants[$0.role] != nil }) else {
            throw AppError(.forbidden, "Your roles do not allow \(permission.rawValue).")
        }
    }

    /// The organisations where the declared permission holds, for filtering lists; `nil` means every organisation.
    ///
    /// One rule for every list: a caller none of whose roles grants the permission anywhere (a platform admin asking
    /// for tenant data) is refused with 403, as `authorizeAnywhere` refuses them, instead of being shown an empty page.
    func reachableOrganizationIDs() async throws -> Set<UUID>? {
        let permission = try permission
        let principal = try requirePrincipal()
        try authorizeAnywhere()
        let grants = permission.grants
        if principal.grants.contains(where: { grants[$0.role] == .anywhere }) {
            return nil
        }
        let roots = Set(principal.grants.filter { grants[$0.role] == .subtree }.compactMap(\.organizationID))
        return try await OrganizationTree.subtreeIDs(of: roots, on: db)
    }

    /// Only the caller themself: `authenticated` operations act on the caller's own account.
    func authorizeSelf() throws -> Principal {
        markAuthorized()
        return try requirePrincipal()
    }
}

import Fluent
import Foundation

/// How far a caller reaches into tenant data (contacts, activities) beyond `Access`'s organisational check: as staff
/// (coordinator and above) over whole subtrees, or as a peer mentor over their own work and assigned contacts only.
struct TenantReach: Sendable {
    /// Organisations where the caller acts as staff: the subtrees of their coordinator and admin roles.
    var staff: Set<UUID>
    /// Organisations where the caller acts as a peer mentor only.
    var mentor: Set<UUID>

    static let staffRoles: Set<UserRole.Role> = [.coordinator, .orgAdmin, .nationalAdmin]

    /// The reach of a caller, from their grants. Call after an `Access` check.
    static func of(_ principal: Principal, on db: any Database) async throws -> TenantReach {
        let staffRoots = Set(principal.grants.filter { staffRoles.contains($0.role) }.compactMap(\.organizationID))
        let mentorRoots = Set(principal.grants.filter { $0.role == .peerMentor }.compactMap(\.organizationID))
        let staff = try await OrganizationTree.subtreeIDs(of: staffRoots, on: db)
        let mentor = try await OrganizationTree.subtreeIDs(of: mentorRoots, on: db).subtracting(staff)
        return TenantReach(staff: staff, mentor: mentor)
    }

    /// Whether the caller holds a staff role on an organisation whose lineage (nearest first) is given, or above it.
    static func isStaff(_ principal: Principal, in lineage: [Organization]) -> Bool {
        let ids = Set(lineage.compactMap(\.id))
        return principal.grants.contains { grant in
            staffRoles.contains(grant.role) && grant.organizationID.map(ids.contains) == true
        }
    }

    /// Whether the caller's roles reaching the lineage (of `roles`, default all) all come through paused memberships.
    static func isPaused(
        _ principal: Principal, in lineage: [Organization], roles: Set<UserRole.Role>? = nil
    ) -> Bool {
        let ids = Set(lineage.compactMap(\.id))
        let reaching = principal.grants.filter { roles?.contains($0.role) ?? true }.compactMap(\.organizationID)
            .filter(ids.contains)
        return !reaching.isEmpty && reaching.allSatisfy(principal.pausedOrganizationIDs.contains)
    }
}

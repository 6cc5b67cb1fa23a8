import Fluent
import Foundation

/// Who may hand out or take away which role.
enum RoleRules {
    /// The highest rank among the caller's roles that reach an organisation: held there or above, or platform-wide.
    static func highestRank(of principal: Principal, over lineage: [Organization]) -> Int {
        let lineageIDs = Set(lineage.compactMap(\.id))
        return principal.grants
            .filter { grant in grant.organizationID.map(lineageIDs.contains) ?? true }
            .map(\.role.rank)
            .max() ?? 0
    }

    /// `platform_admin` is never granted within an organisation (400); no role above the caller's own (403).
    static func checkGrantable(
        _ roles: [UserRole.Role], by principal: Principal, over lineage: [Organization], field: String
    ) throws {
        if roles.contains(.platformAdmin) {
            throw AppError.validation([
                .init(
                    field: field, code: "invalid_value",
                    message: "platform_admin is platform-wide and cannot be granted within an organisation.")
            ])
        }
        let own = highestRank(of: principal, over: lineage)
        if let above = roles.first(where: { $0.rank > own }) {
            throw AppError(.forbidden, "You cannot grant \(above.rawValue), which ranks above your own roles here.")
        }
    }

    /// Managing a membership (pause, resume, end) needs a rank at least as high as the member's own roles there.
    /// Nobody pauses, ends or takes roles from their own membership: an admin could lock themselves (and, as the
    /// last admin, the organisation) out. Another admin does it.
    static func checkNotSelf(_ membership: OrganizationMembership, _ principal: Principal) throws {
        guard membership.$user.id != principal.userID else {
            throw AppError(.forbidden, "You cannot change your own membership or roles; ask another admin.")
        }
    }

    static func checkOutranks(
        _ membership: OrganizationMembership, by principal: Principal, over lineage: [Organization],
        on db: any Database
    ) async throws {
        try checkNotSelf(membership, principal)
        let memberRoles = try await UserRole.query(on: db)
            .filter(\.$user.$id == membership.$user.id)
            .filter(\.$organization.$id == membership.$organization.id)
            .filter(\.$revokedAt == nil)
            .all(\.$role)
        let memberRank = memberRoles.map(\.rank).max() ?? 0
        guard memberRank <= highestRank(of: principal, over: lineage) else {
            throw AppError(.forbidden, "This member holds a role above your own here.")
        }
    }
}

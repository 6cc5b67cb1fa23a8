import Fluent
import Foundation
import Vapor

/// How far a caller reaches into activities and contacts: as staff (coordinator and above) over whole subtrees, or
/// as a peer mentor over their own work only.
struct ActivityReach: Sendable {
    /// Organisations where the caller acts as staff: the subtrees of their coordinator and admin roles.
    let staffOrganizationIDs: Set<UUID>
    /// Organisations where the caller acts as a peer mentor only: their own activities.
    let mentorOrganizationIDs: Set<UUID>

    static let staffRoles: Set<UserRole.Role> = [.coordinator, .orgAdmin, .nationalAdmin]

    /// The reach of the request's caller. Call after an `Access` check.
    static func of(_ principal: Principal, on db: any Database) async throws -> ActivityReach {
        let staffRoots = Set(
            principal.grants.filter { staffRoles.contains($0.role) }.compactMap(\.organizationID))
        let mentorRoots = Set(principal.grants.filter { $0.role == .peerMentor }.compactMap(\.organizationID))
        let staff = try await OrganizationTree.subtreeIDs(of: staffRoots, on: db)
        let mentor = try await OrganizationTree.subtreeIDs(of: mentorRoots, on: db).subtracting(staff)
        return ActivityReach(staffOrganizationIDs: staff, mentorOrganizationIDs: mentor)
    }

    /// Whether the caller acts as staff in an organisation whose lineage (nearest first) is given.
    static func isStaff(_ principal: Principal, in lineage: [Organization]) -> Bool {
        let ids = Set(lineage.compactMap(\.id))
        return principal.grants.contains { grant in
            staffRoles.contains(grant.role) && grant.organizationID.map(ids.contains) == true
        }
    }

    /// Whether the caller's only roles reaching the lineage are held through paused memberships.
    static func isPaused(_ principal: Principal, in lineage: [Organization]) -> Bool {
        let ids = Set(lineage.compactMap(\.id))
        let reaching = principal.grants.compactMap(\.organizationID).filter(ids.contains)
        return !reaching.isEmpty && reaching.allSatisfy(principal.pausedOrganizationIDs.contains)
    }
}

/// Bufdir periods that are closed: a finalised or submitted report freezes the activities it covers.
enum ClosedPeriods {
    /// Whether an activity of `organization` (lineage nearest first) on `date` lies in a finalised report's period.
    static func contains(_ date: Date, lineage: [Organization], on db: any Database) async throws -> Bool {
        let day = Self.day(of: date)
        return try await BufdirReport.query(on: db)
            .filter(\.$organization.$id ~~ lineage.compactMap(\.id))
            .filter(\.$status ~~ [.finalized, .submitted])
            .filter(\.$periodStart <= day)
            .filter(\.$periodEnd >= day)
            .count() > 0
    }

    /// The calendar day in Norway, `yyyy-MM-dd`.
    static func day(of date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Oslo") ?? .gmt
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }
}

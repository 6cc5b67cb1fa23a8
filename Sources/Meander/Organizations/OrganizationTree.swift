import Fluent
import Foundation

/// Walks the organisation tree (national → regional → local) up and down.
enum OrganizationTree {
    /// The organisation and its ancestors, nearest first; empty when it does not exist.
    ///
    /// One recursive query (every request that touches tenant data asks this), at most 16 levels.
    static func lineage(of organizationID: UUID, on db: any Database) async throws -> [Organization] {
        try await LineageStatement(organizationID: organizationID).rows(on: db)
    }

    /// The organisations and everything below them.
    static func subtreeIDs(of roots: Set<UUID>, on db: any Database) async throws -> Set<UUID> {
        var result = roots
        var frontier = roots
        var depth = 0
        while !frontier.isEmpty, depth < 16 {
            let children = try await Organization.query(on: db)
                .filter(\.$parent.$id ~~ Array(frontier))
                .all(\.$id)
            frontier = Set(children).subtracting(result)
            result.formUnion(frontier)
            depth += 1
        }
        return result
    }
}

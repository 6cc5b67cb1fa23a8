import Fluent
import Foundation

/// Walks the organisation tree (national → regional → local) up and down.
enum OrganizationTree {
    /// The organisation and its ancestors, nearest first; empty when it does not exist.
    static func lineage(of organizationID: UUID, on db: any Database) async throws -> [Organization] {
        var chain: [Organization] = []
        var next: UUID? = organizationID
        while let id = next, chain.count < 16 {
            guard let organization = try await Organization.find(id, on: db) else { break }
            chain.append(organization)
            next = organization.$parent.id
        }
        return chain
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

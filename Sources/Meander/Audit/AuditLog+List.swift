import Fluent
import Foundation

/// What the audit list is filtered by.
struct AuditFilter: Sendable {
    /// Only this organisation's subtree; the caller's whole reach when `nil`.
    var organizationID: UUID?
    var action: String?
    var actorUserID: UUID?
    var outcome: AuditLogEntry.Outcome?
    var from: Date?
    var to: Date?
}

extension AuditLog {
    /// One page of the audit entries the caller may read. With an organisation: 404 outside reach, 403 inside it
    /// for a role without the permission; a granting role on its lineage reaches its whole subtree. Without: the
    /// caller's whole reach (403 when no role grants it anywhere), and for a platform admin every entry, also those
    /// without an organisation (platform-wide events).
    static func list(
        _ filter: AuditFilter, page: () throws -> KeysetPage, access: Access, on db: any Database
    ) async throws -> (items: [AuditLogEntry], next: String?) {
        let organizations: Set<UUID>?
        if let organizationID = filter.organizationID {
            try await access.authorize(in: organizationID)
            organizations = try await OrganizationTree.subtreeIDs(of: [organizationID], on: db)
        } else {
            try access.authorizeAnywhere()
            organizations = try await access.reachableOrganizationIDs()
        }
        let page = try page()
        if let organizations, organizations.isEmpty { return ([], nil) }

        let builder = AuditLogEntry.query(on: db)
        if let organizations {
            builder.filter(\.$organizationID ~~ Array(organizations))
        }
        if let action = filter.action {
            builder.filter(\.$action == action)
        }
        if let actor = filter.actorUserID {
            builder.filter(\.$actorUserID == actor)
        }
        if let outcome = filter.outcome {
            builder.filter(\.$outcome == outcome)
        }
        if let from = filter.from {
            builder.filter(\.$createdAt >= from)
        }
        if let to = filter.to {
            builder.filter(\.$createdAt < to)
        }
        let rows = try await builder.page(page).all()
        return try await page.finish(rows, id: { try $0.requireID() }, on: db)
    }

    /// Walks the whole chain and reports the first break, for a platform admin.
    static func verify(access: Access, on db: any Database) async throws -> AuditChain.Result {
        try access.authorizeAnywhere()
        return try await AuditChain.verify(on: db)
    }
}

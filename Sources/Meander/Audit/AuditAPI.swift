import Fluent
import Foundation
import Vapor

extension APIHandler {
    func listAuditEntries(_ input: Operations.ListAuditEntries.Input) async throws -> Operations.ListAuditEntries.Output {
        let request = try RequestContext.request
        let query = input.query
        // The organisations whose entries may be listed; nil means every entry, also those without an organisation
        // (platform-wide events), which only a platform admin reaches.
        let organizations: Set<UUID>?
        if let raw = query.organizationId {
            // One organisation: 404 outside reach, 403 inside it for a role without audit.read. A granting role on
            // its lineage reaches its whole subtree.
            guard let organizationID = APIID.uuid(raw) else { throw AppError(.notFound, "No such organisation.") }
            try await request.access.authorize(in: organizationID)
            organizations = try await OrganizationTree.subtreeIDs(of: [organizationID], on: request.db)
        } else {
            // The caller's whole reach: 403 when no role of theirs grants audit.read anywhere.
            try request.access.authorizeAnywhere()
            organizations = try await request.access.reachableOrganizationIDs()
        }
        let page = try Keyset.auditEntries.page(limit: query.limit.map(Int.init), cursor: query.cursor, request: request)
        if let organizations, organizations.isEmpty {
            return .ok(.init(body: .json(.init(items: [], nextCursor: nil))))
        }

        let builder = AuditLogEntry.query(on: request.db)
        if let organizations {
            builder.filter(\.$organizationID ~~ Array(organizations))
        }
        if let action = query.action {
            builder.filter(\.$action == action)
        }
        if let raw = query.actorUserId {
            guard let actor = APIID.uuid(raw) else {
                throw AppError.invalidParameter("actor_user_id", "must be a UUID.")
            }
            builder.filter(\.$actorUserID == actor)
        }
        if let outcome = query.outcome {
            guard let value = AuditLogEntry.Outcome(rawValue: outcome.rawValue) else {
                throw AppError.invalidParameter("outcome", "unknown outcome '\(outcome.rawValue)'.")
            }
            builder.filter(\.$outcome == value)
        }
        if let from = query.from {
            builder.filter(\.$createdAt >= from)
        }
        if let to = query.to {
            builder.filter(\.$createdAt < to)
        }
        let rows = try await builder.page(page).all()
        let (entries, next) = try await page.finish(rows, id: { try $0.requireID() }, on: request.db)
        return .ok(.init(body: .json(.init(items: try entries.map(Components.Schemas.AuditEntry.init), nextCursor: next))))
    }

    func verifyAuditLog(_ input: Operations.VerifyAuditLog.Input) async throws -> Operations.VerifyAuditLog.Output {
        let request = try RequestContext.request
        try request.access.authorizeAnywhere()
        let result = try await AuditChain.verify(on: request.db)
        return .ok(.init(body: .json(.init(result))))
    }
}

extension Components.Schemas.AuditEntry {
    /// The API view of an audit entry; metadata stays internal.
    init(_ model: AuditLogEntry) throws {
        guard let outcome = Components.Schemas.AuditOutcome(rawValue: model.outcome.rawValue) else {
            throw AppError(.internalError, "Unknown audit outcome in the database.")
        }
        self.init(
            id: try model.requireID().uuidString.lowercased(),
            sequence: model.sequence,
            createdAt: model.createdAt,
            actorUserId: model.actorUserID?.uuidString.lowercased(),
            sessionId: model.sessionID?.uuidString.lowercased(),
            organizationId: model.organizationID?.uuidString.lowercased(),
            action: model.action,
            targetType: model.targetType,
            targetId: model.targetID?.uuidString.lowercased(),
            outcome: outcome,
            client: model.client.rawValue,
            ip: model.ip,
            userAgent: model.userAgent,
            hash: model.hash,
            previousHash: model.previousHash)
    }
}

extension Components.Schemas.AuditVerification {
    /// The API view of a verification run.
    init(_ result: AuditChain.Result) {
        self.init(
            valid: result.isValid, entryCount: result.entryCount, headHash: result.headHash,
            firstBadSequence: result.firstBadSequence, problem: result.problem)
    }
}

extension Keyset {
    /// Audit entries, newest first: the chain's sequence is unique, the id only completes the general form.
    static let auditEntries = Keyset(
        "listAuditEntries", table: AuditLogEntry.schema, [.column("sequence", .descending)], id: .descending)
}

import Foundation
import Vapor

extension APIHandler {
    func listAuditEntries(_ input: Operations.ListAuditEntries.Input) async throws -> Operations.ListAuditEntries.Output {
        let request = try RequestContext.request
        let query = input.query
        var filter = AuditFilter(action: query.action, from: query.from, to: query.to)
        if let raw = query.organizationId {
            guard let organizationID = APIID.uuid(raw) else { throw AppError(.notFound, "No such organisation.") }
            filter.organizationID = organizationID
        }
        if let raw = query.actorUserId {
            guard let actor = APIID.uuid(raw) else {
                throw AppError.invalidParameter("actor_user_id", "must be a UUID.")
            }
            filter.actorUserID = actor
        }
        if let outcome = query.outcome {
            guard let value = AuditLogEntry.Outcome(rawValue: outcome.rawValue) else {
                throw AppError.invalidParameter("outcome", "unknown outcome '\(outcome.rawValue)'.")
            }
            filter.outcome = value
        }
        let page = { try Keyset.auditEntries.page(limit: query.limit.map(Int.init), cursor: query.cursor, request: request) }
        let (entries, next) = try await AuditLog.list(filter, page: page, access: request.access, on: request.db)
        return .ok(.init(body: .json(.init(items: try entries.map(Components.Schemas.AuditEntry.init), nextCursor: next))))
    }

    func verifyAuditLog(_ input: Operations.VerifyAuditLog.Input) async throws -> Operations.VerifyAuditLog.Output {
        let request = try RequestContext.request
        let result = try await AuditLog.verify(access: request.access, on: request.db)
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

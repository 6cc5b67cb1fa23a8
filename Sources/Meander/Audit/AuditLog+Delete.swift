import Fluent
import Foundation
import Vapor

extension AuditLog {
    /// Deletes a record (soft, where the model has `deleted_at`) and appends `<targetType>.deleted` in the same
    /// transaction.
    static func delete<Record: Model>(
        _ record: Record, targetType: String, organizationID: UUID, request: Request
    ) async throws where Record.IDValue == UUID {
        let id = try record.requireID()
        try await request.db.identityTransaction { transaction in
            try await record.delete(on: transaction)
            try await append(
                AuditEvent(
                    "\(targetType).deleted", request: request, organizationID: organizationID, targetType: targetType,
                    targetID: id),
                on: transaction)
        }
    }
}

import Fluent
import Foundation

extension AuditLog {
    /// Deletes a record (soft, where the model has `deleted_at`) and appends `<targetType>.deleted` in the same
    /// transaction.
    static func delete<Record: Model>(
        _ record: Record, targetType: String, organizationID: UUID, by caller: Caller, deps: AppDependencies,
        on db: any Database
    ) async throws where Record.IDValue == UUID {
        let event = caller.event(
            "\(targetType).deleted", organizationID: organizationID, targetType: targetType,
            targetID: try record.requireID())
        try await db.auditedWrite(event, clock: deps.clock) { transaction in
            try await record.delete(on: transaction)
        }
    }
}

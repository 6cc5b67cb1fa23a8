import FluentKit
import FluentSQL
import Foundation
import PostgresNIO

// The organisation tree's statement of the request path, prepared per connection on PostgreSQL (see
// `SharedStatement`).

/// An organisation and its ancestors, nearest first, in one recursive query (`OrganizationTree.lineage`).
struct LineageStatement: SharedStatement {
    static let name = "meander.lineage"

    typealias Row = Organization

    static let sql = """
        WITH RECURSIVE chain(id, depth) AS (
            SELECT id, 0 FROM organizations WHERE id = $1
            UNION ALL
            SELECT o.parent_id, c.depth + 1 FROM organizations o JOIN chain c ON o.id = c.id
            WHERE o.parent_id IS NOT NULL AND c.depth < 15
        )
        SELECT \(Organization.plainColumns) FROM organizations JOIN chain c USING (id) ORDER BY c.depth
        """

    let organizationID: UUID

    var values: [StatementValue] { [.uuid(organizationID)] }

    static func decode(_ row: any SQLRow) throws -> Organization {
        try Organization(plainRow: row)
    }
}

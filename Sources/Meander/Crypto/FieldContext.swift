import Foundation

/// Where a sealed value belongs: organisation, table, column and row. It is bound into the ciphertext (AAD), so a
/// value copied to another row, column or organisation does not open.
struct FieldContext: Sendable, Hashable {
    var organizationID: UUID
    /// The table name, e.g. `contacts`.
    var table: String
    /// The column name, e.g. `notes_ciphertext`.
    var column: String
    var rowID: UUID

    init(organizationID: UUID, table: String, column: String, rowID: UUID) {
        self.organizationID = organizationID
        self.table = table
        self.column = column
        self.rowID = rowID
    }
}

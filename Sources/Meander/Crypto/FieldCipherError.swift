import Foundation

/// Why a field could not be sealed or opened.
///
/// Messages name where (organisation, table, column, row, key version, master key id) and never what: no
/// plaintext, ciphertext or key material. The API maps these, like any unexpected error, to a 500 whose log line
/// holds only the error type.
enum FieldCipherError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not a Meander envelope: too short or an unknown format byte.
    case malformedEnvelope
    /// A table or column name that cannot be bound unambiguously (empty, or holding `|`).
    case invalidContext(table: String, column: String)
    /// The organisation has no data key of that version (or the value belongs to another organisation).
    case unknownDataKey(organizationID: UUID, version: Int)
    /// The data key is wrapped under a master key that is neither `MEANDER_MASTER_KEY` nor in
    /// `MEANDER_MASTER_KEY_PREVIOUS`.
    case unknownMasterKey(masterKeyID: String, organizationID: UUID, version: Int)
    /// The wrapped data key did not authenticate under its master key (corrupted or moved row).
    case keyUnwrapFailed(organizationID: UUID, version: Int)
    /// The value did not authenticate: tampered, or moved from another row, column or organisation.
    case decryptionFailed(table: String, column: String, rowID: UUID, version: Int)

    var description: String {
        switch self {
        case .malformedEnvelope:
            "The encrypted value is not a Meander envelope (too short or unknown format)."
        case .invalidContext(let table, let column):
            "Cannot bind an encrypted value to table '\(table)', column '\(column)': names must be non-empty and free of '|'."
        case .unknownDataKey(let organizationID, let version):
            "Organisation \(organizationID.uuidString.lowercased()) has no data key version \(version)."
        case .unknownMasterKey(let masterKeyID, let organizationID, let version):
            "Data key version \(version) of organisation \(organizationID.uuidString.lowercased()) is wrapped under master key \(masterKeyID), which is neither MEANDER_MASTER_KEY nor in MEANDER_MASTER_KEY_PREVIOUS."
        case .keyUnwrapFailed(let organizationID, let version):
            "Data key version \(version) of organisation \(organizationID.uuidString.lowercased()) does not authenticate under its master key."
        case .decryptionFailed(let table, let column, let rowID, let version):
            "The encrypted value of \(table).\(column) in row \(rowID.uuidString.lowercased()) (key version \(version)) does not authenticate: it was altered or belongs to another row, column or organisation."
        }
    }
}

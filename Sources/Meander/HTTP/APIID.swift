import Foundation

/// Ids as the API spells them (UUIDs, written lower-case), and the one place they are parsed. The contract already
/// checks the format of every declared id; what each caller does with a malformed one differs only in the answer.
enum APIID {
    /// The id a string names, or `nil`.
    static func uuid(_ raw: String) -> UUID? { UUID(uuidString: raw) }

    /// A path or query id naming a record: a malformed one is a record that does not exist (404).
    static func parse(_ raw: String, parameter: String) throws -> UUID {
        guard let id = uuid(raw) else { throw AppError(.notFound, "No such \(parameter).") }
        return id
    }

    /// A query parameter that filters a list: a malformed one is 400 `invalid_parameter`, naming it.
    static func filter(_ raw: String, parameter: String) throws -> UUID {
        guard let id = uuid(raw) else { throw AppError.invalidParameter(parameter, "Not a UUID.") }
        return id
    }

    /// A body field: a malformed one is 400 `validation_failed` at its pointer.
    static func field(_ raw: String, pointer: String) throws -> UUID {
        guard let id = uuid(raw) else {
            throw AppError.validation([.init(field: pointer, code: "invalid_format", message: "Not a UUID.")])
        }
        return id
    }

    /// The API's spelling of an id.
    static func string(_ id: UUID) -> String { id.uuidString.lowercased() }
}

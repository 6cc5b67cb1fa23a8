import Foundation
import Vapor

/// The request body as parsed JSON, for the few fields where an explicit `null` differs from an absent key
/// (the generated types read both as `nil`).
enum RawBody {
    static func object(of request: Request) -> [String: JSONValue]? {
        guard let buffer = request.body.data,
            case .object(let object)? = try? JSONDecoder().decode(JSONValue.self, from: Data(buffer: buffer))
        else { return nil }
        return object
    }
}

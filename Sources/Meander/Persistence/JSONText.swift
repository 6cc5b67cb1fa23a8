import Foundation

/// Encodes and decodes the JSON text columns (settings, metadata, payloads) that both engines store as plain TEXT.
///
/// JSON lives in TEXT rather than PostgreSQL's `jsonb` so that the same migrations and models work on SQLite.
/// Output has sorted keys so that equal values always produce equal text (hash chains and frozen reports rely on it).
enum JSONText {
    static func encode<Value: Encodable>(_ value: Value) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        guard let data = try? encoder.encode(value), let text = String(data: data, encoding: .utf8) else {
            preconditionFailure("JSON encoding of \(Value.self) failed")
        }
        return text
    }

    static func decode<Value: Decodable>(_ type: Value.Type, from text: String) -> Value? {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(type, from: Data(text.utf8))
    }
}

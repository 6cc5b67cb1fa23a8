import Foundation
import Logging
import Vapor

/// The log handler for a format: Vapor's console lines, or one JSON object per line for log shippers.
public func makeLogHandler(format: AppConfig.LogFormat, level: Logger.Level) -> @Sendable (String) -> any LogHandler {
    switch format {
    case .text:
        return { label in
            var handler = ConsoleLogger(label: label, console: Terminal(), level: level)
            handler.logLevel = level
            return handler
        }
    case .json:
        return { label in JSONLogHandler(label: label, logLevel: level) }
    }
}

/// Writes each record as one JSON object on standard output: time, level, label, message and metadata.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String

    public init(label: String, logLevel: Logger.Level) {
        self.label = label
        self.logLevel = logLevel
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var record: [String: Any] = [
            "time": Date.now.formatted(.iso8601),
            "level": event.level.rawValue,
            "label": label,
            "message": event.message.description,
            "source": event.source,
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for (key, value) in merged {
            record[key] = Self.plain(value)
        }
        // Only the error's type: its text can quote the data it failed on.
        if let error = event.error {
            record["error_type"] = String(reflecting: type(of: error))
        }
        guard let data = try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]) else { return }
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }

    private static func plain(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): convertible.description
        case .array(let array): array.map(plain)
        case .dictionary(let dictionary): dictionary.mapValues(plain)
        }
    }
}

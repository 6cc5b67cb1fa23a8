import Foundation

/// A Norwegian municipality as in force from 1 January 2024 (Statistics Norway, classification 131).
public struct Municipality: Sendable, Equatable, Hashable {
    /// Four digits; the first two are the county code.
    public let code: String
    public let name: String
    public let countyCode: String
    public let countyName: String
}

/// The official municipalities and counties, bundled from `Resources/municipalities-2024.csv`.
public enum Municipalities {
    /// Every municipality, in the file's order.
    public static let all: [Municipality] = load()

    /// Municipalities by code.
    public static let byCode: [String: Municipality] = Dictionary(
        uniqueKeysWithValues: all.map { ($0.code, $0) })

    /// County code → county name, for the 15 counties.
    public static let counties: [String: String] = Dictionary(
        all.map { ($0.countyCode, $0.countyName) }, uniquingKeysWith: { first, _ in first })

    private static func load() -> [Municipality] {
        guard let url = Bundle.module.url(forResource: "municipalities-2024", withExtension: "csv", subdirectory: "Resources"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else {
            preconditionFailure("Resources/municipalities-2024.csv is missing from the build")
        }
        return text.split(whereSeparator: \.isNewline).dropFirst().compactMap { line in
            let fields = line.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 4 else { return nil }
            return Municipality(code: fields[0], name: fields[1], countyCode: fields[2], countyName: fields[3])
        }
    }
}

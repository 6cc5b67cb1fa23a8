import Foundation

/// The language a notification is written in: Bokmål, Nynorsk or English.
enum NotificationLanguage: String, CaseIterable, Sendable {
    case nb
    case nn
    case en

    /// The language of a user's `locale` (`nb`, `nb-NO`, `no`, `nn_NO`, `en-GB`, …); anything else is Bokmål, the
    /// language most users read.
    init(locale: String) {
        let primary =
            locale.trimmingCharacters(in: .whitespaces).lowercased()
            .split(whereSeparator: { $0 == "-" || $0 == "_" }).first.map(String.init) ?? ""
        switch primary {
        // Also the three-letter codes (ISO 639-2).
        case "nn", "nno": self = .nn
        case "en", "eng": self = .en
        // `no` is the macro language; `nb` and `no` both mean Bokmål in practice.
        default: self = .nb
        }
    }

    init(_ language: User.Language) {
        switch language {
        case .nb: self = .nb
        case .nn: self = .nn
        case .en: self = .en
        }
    }
}

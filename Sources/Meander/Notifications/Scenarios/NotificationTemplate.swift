import Foundation

/// The texts of one scenario in one language, with `{placeholder}`s filled in by `render`.
///
/// The texts never carry special-category data: what a dispatch or a contact is about stays behind the login.
struct NotificationTemplate: Sendable, Equatable {
    /// Push and in-app title: a few words.
    var title: String
    /// Push and in-app text: a sentence or two, no link (the deep link travels in the notification's data).
    var body: String
    var emailSubject: String
    /// The e-mail's own paragraphs, separated by blank lines, without greeting, sign-off and footer (which
    /// `NotificationLayout` adds). The HTML part is made from the same text.
    var email: String
    /// The SMS: one message (160 GSM-7 characters) with typical values.
    var sms: String
}

/// A scenario's texts with every placeholder filled in, ready for each channel.
struct RenderedNotification: Sendable, Equatable {
    var title: String
    var body: String
    var emailSubject: String
    var emailText: String
    /// A whole HTML document: every value is escaped, and a `{link}` that is an http(s) URL becomes a link.
    var emailHTML: String
    var smsText: String
}

/// Why a notification could not be rendered.
enum NotificationTemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The caller gave no (or only a blank) value for a placeholder the scenario needs.
    case missingValue(scenario: Notification.Scenario, placeholder: String)

    var description: String {
        switch self {
        case .missingValue(let scenario, let placeholder):
            "notification '\(scenario.rawValue)': no value for {\(placeholder)}"
        }
    }
}

/// Greeting, sign-off and footer around every e-mail, per language.
struct NotificationLayout: Sendable {
    var greeting: String
    var signOff: String
    /// Under e-mails a user can turn off (not under mandatory ones).
    var optionalFooter: String

    /// The e-mail's whole text, still with placeholders.
    func email(_ template: NotificationTemplate, isMandatory: Bool) -> String {
        ([greeting, template.email, signOff] + (isMandatory ? [] : [optionalFooter])).joined(separator: "\n\n")
    }
}

extension Notification.Scenario {
    /// This scenario's texts in `language`, filled with `values` (placeholder name → value, e.g.
    /// `["first_name": "Kari"]`).
    ///
    /// Every placeholder in `requiredPlaceholders` must have a value that is not blank. Values are single-line:
    /// control characters and line breaks become spaces. Values are put in once, never read as templates
    /// themselves.
    func render(language: NotificationLanguage, values: [String: String]) throws(NotificationTemplateError)
        -> RenderedNotification
    {
        let entry = catalogue
        var cleaned: [String: String] = [:]
        for (name, value) in values { cleaned[name] = NotificationTemplating.singleLine(value) }
        for name in entry.placeholders where (cleaned[name] ?? "").isEmpty {
            throw .missingValue(scenario: self, placeholder: name)
        }
        let template = entry.template(language)
        let email = NotificationLayout.of(language).email(template, isMandatory: entry.isMandatory)
        func text(_ source: String) throws(NotificationTemplateError) -> String {
            try NotificationTemplating.render(source, values: cleaned, scenario: self)
        }
        let subject = try text(template.emailSubject)
        let html = try NotificationTemplating.html(email, values: cleaned, scenario: self)
        return RenderedNotification(
            title: try text(template.title), body: try text(template.body), emailSubject: subject,
            emailText: try text(email),
            emailHTML: NotificationTemplating.htmlDocument(
                title: NotificationTemplating.escapeHTML(subject), body: html, language: language),
            smsText: try text(template.sms))
    }
}

/// Placeholder parsing, filling and HTML escaping for notification templates.
enum NotificationTemplating {
    /// A piece of a template: text as it is, or `{name}` (lower-case letters, digits and `_`).
    enum Part: Sendable, Equatable {
        case text(String)
        case placeholder(String)
    }

    /// The template's parts; a `{` that does not start a placeholder is text.
    static func parts(_ template: String) -> [Part] {
        var parts: [Part] = []
        var text = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            text += rest[..<open]
            let afterOpen = rest.index(after: open)
            if let close = rest[afterOpen...].firstIndex(of: "}") {
                let name = rest[afterOpen..<close]
                if !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }) {
                    if !text.isEmpty { parts.append(.text(text)) }
                    text = ""
                    parts.append(.placeholder(String(name)))
                    rest = rest[rest.index(after: close)...]
                    continue
                }
            }
            text.append("{")
            rest = rest[afterOpen...]
        }
        text += rest
        if !text.isEmpty { parts.append(.text(text)) }
        return parts
    }

    /// The names of the placeholders in `template`, in order of first use.
    static func placeholders(_ template: String) -> [String] {
        var seen: [String] = []
        for case .placeholder(let name) in parts(template) where !seen.contains(name) { seen.append(name) }
        return seen
    }

    /// `template` with its placeholders filled; a placeholder without a value is an error.
    static func render(_ template: String, values: [String: String], scenario: Notification.Scenario)
        throws(NotificationTemplateError) -> String
    {
        var result = ""
        for part in parts(template) {
            switch part {
            case .text(let text): result += text
            case .placeholder(let name): result += try filled(name, in: values, scenario: scenario)
            }
        }
        return result
    }

    /// The HTML of an e-mail's text: paragraphs at blank lines, `<br>` at single line breaks, every piece escaped,
    /// and `{link}` (or `{…_link}`) an anchor when its value is an http(s) URL.
    static func html(_ template: String, values: [String: String], scenario: Notification.Scenario)
        throws(NotificationTemplateError) -> String
    {
        var result = ""
        for part in parts(template) {
            switch part {
            case .text(let text):
                result += escapeHTML(text)
            case .placeholder(let name):
                let value = try filled(name, in: values, scenario: scenario)
                let escaped = escapeHTML(value)
                if name == "link" || name.hasSuffix("_link"), isWebURL(value) {
                    result += "<a href=\"\(escaped)\">\(escaped)</a>"
                } else {
                    result += escaped
                }
            }
        }
        // Values hold no line breaks (`singleLine`), so every break here is the template's own.
        let paragraphs = result.components(separatedBy: "\n\n").map { $0.replacingOccurrences(of: "\n", with: "<br>\n") }
        return paragraphs.map { "<p>\($0)</p>" }.joined(separator: "\n")
    }

    static func htmlDocument(title: String, body: String, language: NotificationLanguage) -> String {
        """
        <!DOCTYPE html>
        <html lang="\(language.rawValue)">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(title)</title>
        </head>
        <body style="font-family: sans-serif; font-size: 16px; line-height: 1.5; color: #1a1a1a;">
        \(body)
        </body>
        </html>

        """
    }

    /// Text safe in HTML content and in a quoted attribute.
    static func escapeHTML(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// The value on one line: control characters and line or paragraph separators become spaces, and the ends are
    /// trimmed.
    static func singleLine(_ value: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in value.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .lineSeparator, .paragraphSeparator: scalars.append(" ")
            default: scalars.append(scalar)
            }
        }
        return String(scalars).trimmingCharacters(in: .whitespaces)
    }

    private static func filled(_ name: String, in values: [String: String], scenario: Notification.Scenario)
        throws(NotificationTemplateError) -> String
    {
        guard let value = values[name], !value.isEmpty else { throw .missingValue(scenario: scenario, placeholder: name) }
        return value
    }

    private static func isWebURL(_ value: String) -> Bool {
        guard let components = URLComponents(string: value), let scheme = components.scheme?.lowercased() else {
            return false
        }
        return (scheme == "https" || scheme == "http") && !(components.host ?? "").isEmpty
    }
}

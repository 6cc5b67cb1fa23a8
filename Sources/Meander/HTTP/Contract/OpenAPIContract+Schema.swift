import Foundation
import OpenAPIKit

extension OpenAPIContract {
    /// One schema of the contract, compiled once at load from OpenAPIKit's dereferenced schema into what
    /// `SchemaValidator` checks (`rules`: typed keywords, the pattern compiled, the `x-` extensions read), and
    /// readable by keyword for code that walks the contract (`subscript(_:)`).
    struct Schema: Sendable {
        /// What a value is checked against.
        let rules: Rules
        private let keywords: [String: any Sendable]

        /// A schema that allows anything (a parameter given by `content` rather than `schema`, or a body without a
        /// schema).
        static let unconstrained = Schema(rules: Rules(), keywords: [:])

        private init(rules: Rules, keywords: [String: any Sendable]) {
            self.rules = rules
            self.keywords = keywords
        }

        /// The value of a keyword as JSON Schema spells it, for code that walks the contract by keyword: `type`
        /// (a name, or names with `"null"`), `format`, `enum`, `minLength`, `maxLength`, `pattern`, `minimum`,
        /// `maximum`, `minItems`, `maxItems`, `uniqueItems`, `items`, `required`, `properties`,
        /// `additionalProperties`, `minProperties`, `maxProperties`, `allOf`, `anyOf`, `oneOf` and every `x-`
        /// extension. Subschemas come back as `Schema`, and so does `properties`: a `Schema` whose keys are the
        /// property names (and which allows anything itself).
        subscript(keyword: String) -> (any Sendable)? { keywords[keyword] }

        /// The keywords present (see `subscript(_:)`); for `properties`, the property names.
        var keys: Dictionary<String, any Sendable>.Keys { keywords.keys }

        /// Compiles a dereferenced schema; fails on a pattern that does not compile.
        init(_ schema: DereferencedJSONSchema) throws {
            let core = Core(schema)
            let rules = Rules()
            var keywords: [String: any Sendable] = [:]
            rules.multiline = core.extensions["x-multiline"] as? Bool == true
            rules.dateRangeName = core.extensions["x-date-range"] as? String
            rules.yearRangeName = core.extensions["x-year-range"] as? String
            rules.format = core.format
            keywords["format"] = core.format
            if let allowed = core.allowed {
                rules.allowed = allowed
                rules.allowedText = allowed.map(\.enumText).joined(separator: ", ")
                keywords["enum"] = allowed.map(\.plainValue)
            }
            // Dereferencing names each schema that came from `components` in an extension of its own; not the
            // document's.
            for (name, value) in core.extensions where name != OpenAPI.Components.componentNameExtension {
                keywords[name] = Self.plain(value)
            }

            var types: Set<String>?
            switch schema {
            case .null:
                types = ["null"]
            case .boolean:
                types = ["boolean"]
            case .number(_, let numeric):
                types = ["number"]
                // Exclusive bounds (`exclusiveMinimum`/`exclusiveMaximum`) are not among the checked keywords.
                rules.minimum = numeric.minimum.flatMap { $0.exclusive ? nil : $0.value }
                rules.maximum = numeric.maximum.flatMap { $0.exclusive ? nil : $0.value }
            case .integer(_, let integer):
                types = ["integer"]
                rules.minimum = integer.minimum.flatMap { $0.exclusive ? nil : Double($0.value) }
                rules.maximum = integer.maximum.flatMap { $0.exclusive ? nil : Double($0.value) }
            case .string(_, let string):
                types = ["string"]
                // OpenAPIKit reads an absent `minLength` as 0, which no string is shorter than.
                rules.minLength = string.minLength > 0 ? string.minLength : nil
                rules.maxLength = string.maxLength
                if let pattern = string.pattern {
                    rules.pattern = pattern
                    rules.regex = try NSRegularExpression(pattern: pattern)
                    keywords["pattern"] = pattern
                }
            case .array(_, let array):
                types = ["array"]
                rules.minItems = array.minItems > 0 ? array.minItems : nil
                rules.maxItems = array.maxItems
                rules.uniqueItems = array.uniqueItems
                if let items = array.items {
                    let compiled = try Schema(items)
                    rules.items = compiled.rules
                    keywords["items"] = compiled
                }
                if array.uniqueItems { keywords["uniqueItems"] = true }
            case .object(_, let object):
                types = ["object"]
                try Self.compile(object, into: rules, keywords: &keywords)
            case .all(of: let parts, core: _):
                let compiled = try parts.map(Schema.init)
                rules.allOf = compiled.map(\.rules)
                keywords["allOf"] = compiled
            case .any(of: let options, core: _):
                let compiled = try options.map(Schema.init)
                rules.anyOf = compiled.map(\.rules)
                keywords["anyOf"] = compiled
            case .one(of: let options, core: _):
                let compiled = try options.map(Schema.init)
                rules.oneOf = compiled.map(\.rules)
                keywords["oneOf"] = compiled
            case .not, .fragment:
                // `not` is not among the checked keywords; a fragment has no `type` (`type: 'null'` alone aside).
                types = core.nullable ? ["null"] : nil
            }
            if var named = types {
                if core.nullable { named.insert("null") }
                rules.types = named
                rules.expectedTypes = named.sorted().joined(separator: " or ")
                keywords["type"] = named.count == 1 ? named.first! : named.sorted()
            }
            if let minimum = rules.minimum { keywords["minimum"] = minimum }
            if let maximum = rules.maximum { keywords["maximum"] = maximum }
            if let minLength = rules.minLength { keywords["minLength"] = minLength }
            if let maxLength = rules.maxLength { keywords["maxLength"] = maxLength }
            if let minItems = rules.minItems { keywords["minItems"] = minItems }
            if let maxItems = rules.maxItems { keywords["maxItems"] = maxItems }
            self.init(rules: rules, keywords: keywords)
        }

        private static func compile(
            _ object: DereferencedJSONSchema.ObjectContext, into rules: Rules, keywords: inout [String: any Sendable]
        ) throws {
            var properties: [String: Schema] = [:]
            var required: [String] = []
            for (name, property) in object.properties {
                let core = Core(property)
                if core.required { required.append(name) }
                // OpenAPIKit adds a required name missing from `properties` as an inferred fragment; it stays a
                // name that must be present, not a declared property.
                guard !core.inferred else { continue }
                properties[name] = try Schema(property)
            }
            rules.required = required
            rules.properties = properties.mapValues(\.rules)
            if !required.isEmpty { keywords["required"] = required }
            keywords["properties"] = Schema(rules: Rules(), keywords: properties)
            // OpenAPIKit folds the required names' count into `minProperties`; past them, the keyword said more.
            if object.minProperties > required.count { rules.minProperties = object.minProperties }
            rules.maxProperties = object.maxProperties
            if let minimum = rules.minProperties { keywords["minProperties"] = minimum }
            if let maximum = rules.maxProperties { keywords["maxProperties"] = maximum }
            switch object.additionalProperties {
            case .a(let allowed)?:
                rules.additionalProperties = allowed ? .unchecked : .forbidden
                keywords["additionalProperties"] = allowed
            case .b(let schema)?:
                let compiled = try Schema(schema)
                rules.additionalProperties = .checked(compiled.rules)
                keywords["additionalProperties"] = compiled
            case nil:
                rules.additionalProperties = .unchecked
            }
        }

        /// An extension's value as plain Swift values (`String`, `Bool`, `Int`, `Double`, arrays and dictionaries).
        private static func plain(_ value: Any) -> any Sendable {
            switch value {
            case let string as String: string
            case let bool as Bool: bool
            case let int as Int: int
            case let double as Double: double
            case let array as [Any]: array.map(plain)
            case let object as [String: Any]: object.mapValues(plain)
            default: String(describing: value)
            }
        }
    }

    /// A schema's keywords as `SchemaValidator` reads them: set once while compiling, then only read (and so safe
    /// to share between requests).
    final class Rules: @unchecked Sendable {
        enum Additional {
            /// Absent or `true`: other fields are allowed, their text still checked (`TextRule`).
            case unchecked
            /// `false`: other fields answer `unknown_field`.
            case forbidden
            /// A schema: other fields are checked against it.
            case checked(Rules)
        }

        /// The allowed JSON types (`"null"` among them when nullable); nil when the schema names none.
        var types: Set<String>?
        /// `types`, sorted and joined for the error message.
        var expectedTypes = ""
        /// `enum` (or `const`), and its values for the error message.
        var allowed: [JSONValue]?
        var allowedText = ""
        var format: String?
        var multiline = false
        var dateRangeName: String?
        var yearRangeName: String?

        var minLength: Int?
        var maxLength: Int?
        var pattern: String?
        /// `pattern`, compiled once.
        var regex: NSRegularExpression?

        var minimum: Double?
        var maximum: Double?

        var minItems: Int?
        var maxItems: Int?
        var uniqueItems = false
        var items: Rules?

        var required: [String] = []
        var properties: [String: Rules] = [:]
        var additionalProperties = Additional.unchecked
        var minProperties: Int?
        var maxProperties: Int?

        var allOf: [Rules] = []
        var anyOf: [Rules] = []
        var oneOf: [Rules] = []
    }
}

/// What every kind of OpenAPIKit schema has, read from its core context directly (`DereferencedJSONSchema`'s own
/// accessors rebuild the whole schema below it on every call).
private struct Core {
    var nullable: Bool
    var required: Bool
    var inferred: Bool
    var format: String?
    var allowed: [JSONValue]?
    var extensions: [String: Any]

    init(_ schema: DereferencedJSONSchema) {
        switch schema {
        case .null(let core): self.init(core)
        case .boolean(let core): self.init(core)
        case .number(let core, _): self.init(core)
        case .integer(let core, _): self.init(core)
        case .string(let core, _): self.init(core)
        case .object(let core, _): self.init(core)
        case .array(let core, _): self.init(core)
        case .all(of: _, let core): self.init(core)
        case .one(of: _, let core): self.init(core)
        case .any(of: _, let core): self.init(core)
        case .not(_, let core): self.init(core)
        case .fragment(let core): self.init(core)
        }
    }

    private init<Format: OpenAPIFormat>(_ core: JSONSchema.CoreContext<Format>) {
        nullable = core.nullable
        required = core.required
        inferred = core.inferred
        format = core.format.rawValue.isEmpty ? nil : core.format.rawValue
        allowed = core.allowedValues?.map { JSONValue(contractValue: $0.value) }
        extensions = core.vendorExtensions.mapValues(\.value)
    }
}

extension JSONValue {
    /// A value of the contract (an `enum` entry) as JSON.
    init(contractValue value: Any) {
        switch value {
        case let string as String: self = .string(string)
        case let bool as Bool: self = .bool(bool)
        case let int as Int: self = .integer(Int64(int))
        case let uint as UInt: self = .integer(Int64(clamping: uint))
        case let double as Double: self = .number(double)
        case is NSNull, is Void: self = .null
        case let array as [Any]: self = .array(array.map(JSONValue.init(contractValue:)))
        case let object as [String: Any]: self = .object(object.mapValues(JSONValue.init(contractValue:)))
        default: self = .string(String(describing: value))
        }
    }

    /// How an `enum` entry is named in an error message.
    var enumText: String {
        switch self {
        case .null: "null"
        case .bool(let value): "\(value)"
        case .integer(let value): "\(value)"
        case .number(let value): "\(value)"
        case .string(let value): value
        case .array, .object: "\(plainValue)"
        }
    }

    /// As plain Swift values (`String`, `Bool`, `Int`, `Double`, arrays, dictionaries; `null` as `JSONValue.null`).
    var plainValue: any Sendable {
        switch self {
        case .null: JSONValue.null
        case .bool(let value): value
        case .integer(let value): Int(value)
        case .number(let value): value
        case .string(let value): value
        case .array(let items): items.map(\.plainValue)
        case .object(let object): object.mapValues(\.plainValue)
        }
    }
}

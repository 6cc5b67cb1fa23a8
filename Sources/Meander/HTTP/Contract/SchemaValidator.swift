import Foundation

/// Validates JSON values and raw parameter strings against the JSON Schema subset the contract uses:
/// `type` (with `null`), `enum`, string lengths, `pattern` and formats (`uuid`, `date-time`, `date`, `email`),
/// numeric bounds and `int32`/`int64`, arrays (`items`, sizes, `uniqueItems`), objects (`required`,
/// `properties`, `additionalProperties`, sizes) and `allOf`/`anyOf`/`oneOf`.
///
/// The generated server code decodes types but enforces none of these constraints; doing it here, from the same
/// document, gives every bad field its own error and keeps the contract and the checks in step. OpenAPIKit parses the
/// document but checks no instance against it; the schemas arrive here compiled (`OpenAPIContract.Rules`).
///
/// Two rules hold for every string of every request, whatever its schema says (see `TextRule`): no NUL, and no other
/// C0 control character unless the field is marked `x-multiline: true` (where tab, line feed and carriage return
/// are allowed). Two Meander extensions bound dates and years that a fixed `minimum` cannot (see `DateRange`):
/// `x-date-range` on `date`/`date-time` strings and `x-year-range` on integer years.
enum SchemaValidator {
    typealias Schema = OpenAPIContract.Schema
    typealias Rules = OpenAPIContract.Rules

    /// Validates `value` and appends one error per bad field, named by its JSON pointer.
    static func validate(
        _ value: JSONValue, against schema: Schema, at pointer: String, context: ValidationContext = .init(),
        errors: inout [AppError.FieldError]
    ) {
        validate(value, against: schema.rules, at: pointer, context: context, errors: &errors)
    }

    private static func validate(
        _ value: JSONValue, against schema: Rules, at pointer: String, context: ValidationContext,
        errors: inout [AppError.FieldError]
    ) {
        let before = errors.count
        for part in schema.allOf {
            validate(value, against: part, at: pointer, context: context, errors: &errors)
        }
        for options in [schema.anyOf, schema.oneOf] where !options.isEmpty {
            let passes = options.contains { option in
                var scratch: [AppError.FieldError] = []
                validate(value, against: option, at: pointer, context: context, errors: &scratch)
                return scratch.isEmpty
            }
            if !passes {
                errors.append(.init(field: pointer, code: "invalid_value", message: "Matches none of the allowed shapes."))
            }
        }
        guard errors.count == before else { return }
        if case .string(let string) = value, let error = TextRule.violation(in: string, multiline: schema.multiline, at: pointer) {
            errors.append(error)
            return
        }

        if let types = schema.types, !types.contains(value.typeName), !(value.typeName == "integer" && types.contains("number")) {
            errors.append(
                .init(
                    field: pointer, code: value == .null ? "required" : "invalid_type",
                    message: value == .null ? "This field may not be null." : "Expected \(schema.expectedTypes), got \(value.typeName)."))
            return
        }
        if let allowed = schema.allowed, !allowed.contains(where: { value.matches($0) }) {
            errors.append(.init(field: pointer, code: "invalid_value", message: "Must be one of: \(schema.allowedText)."))
            return
        }
        switch value {
        case .string(let string):
            validateString(string, schema: schema, pointer: pointer, context: context, errors: &errors)
        case .integer, .number:
            validateNumber(value, schema: schema, pointer: pointer, context: context, errors: &errors)
        case .array(let items):
            validateArray(items, schema: schema, pointer: pointer, context: context, errors: &errors)
        case .object(let object):
            validateObject(object, schema: schema, pointer: pointer, context: context, errors: &errors)
        case .null, .bool:
            break
        }
    }

    /// Converts a raw parameter value to JSON by the schema's type, then validates it.
    static func validateParameter(
        _ raw: [String], name: String, schema: Schema, context: ValidationContext = .init(),
        errors: inout [AppError.FieldError]
    ) {
        // A parameter is one line whatever its type: a control character fails before any conversion.
        for value in raw {
            if let error = TextRule.violation(in: value, at: name) {
                errors.append(error)
                return
            }
        }
        let rules = schema.rules
        let types = rules.types ?? ["string"]
        if types.contains("array") {
            let itemTypes = rules.items?.types ?? ["string"]
            let values = raw.map { convert($0, to: itemTypes) }
            validate(.array(values), against: rules, at: name, context: context, errors: &errors)
            return
        }
        guard raw.count <= 1 else {
            errors.append(.init(field: name, code: "invalid_value", message: "Give this parameter once."))
            return
        }
        validate(convert(raw.first ?? "", to: types), against: rules, at: name, context: context, errors: &errors)
    }

    private static func convert(_ raw: String, to types: Set<String>) -> JSONValue {
        if types.contains("integer"), let integer = Int64(raw) { return .integer(integer) }
        if types.contains("number"), let number = Double(raw), number.isFinite { return .number(number) }
        if types.contains("boolean"), raw == "true" || raw == "false" { return .bool(raw == "true") }
        return .string(raw)
    }

    private static func validateString(
        _ string: String, schema: Rules, pointer: String, context: ValidationContext,
        errors: inout [AppError.FieldError]
    ) {
        let length = string.count
        if let minimum = schema.minLength, length < minimum {
            errors.append(
                .init(
                    field: pointer, code: minimum == 1 ? "required" : "too_short",
                    message: minimum == 1 ? "Must not be empty." : "Must be at least \(minimum) characters."))
            return
        }
        if let maximum = schema.maxLength, length > maximum {
            errors.append(.init(field: pointer, code: "too_long", message: "Must be at most \(maximum) characters."))
            return
        }
        if let pattern = schema.pattern, let regex = schema.regex,
            regex.firstMatch(in: string, range: NSRange(string.startIndex..., in: string)) == nil
        {
            errors.append(.init(field: pointer, code: "invalid_format", message: "Must match the pattern \(pattern)."))
            return
        }
        if let format = schema.format, !matchesFormat(string, format) {
            errors.append(.init(field: pointer, code: "invalid_format", message: "Must be a valid \(format)."))
            return
        }
        if let name = schema.dateRangeName {
            guard let range = DateRange(rawValue: name) else {
                errors.append(.init(field: pointer, code: "invalid_value", message: "Unknown x-date-range '\(name)'."))
                return
            }
            if let error = range.violation(string, at: pointer, context: context) { errors.append(error) }
        }
    }

    static func matchesFormat(_ string: String, _ format: String) -> Bool {
        switch format {
        case "uuid":
            return APIID.uuid(string) != nil
        case "date-time":
            return RFC3339.date(from: string) != nil
        case "date":
            return RFC3339.isFullDate(Array(string.utf8))
        case "email":
            let parts = string.split(separator: "@", omittingEmptySubsequences: false)
            return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".")
                && !parts[1].hasPrefix(".") && !parts[1].hasSuffix(".")
                && !string.contains(where: { $0.isWhitespace || $0.isNewline })
        default:
            return true
        }
    }

    private static func validateNumber(
        _ value: JSONValue, schema: Rules, pointer: String, context: ValidationContext,
        errors: inout [AppError.FieldError]
    ) {
        guard let number = value.numericValue else { return }
        if let name = schema.yearRangeName {
            guard let range = YearRange(rawValue: name) else {
                errors.append(.init(field: pointer, code: "invalid_value", message: "Unknown x-year-range '\(name)'."))
                return
            }
            let years = range.years(context: context)
            if number < Double(years.lowerBound) || number > Double(years.upperBound) {
                errors.append(
                    .init(
                        field: pointer, code: "out_of_range",
                        message: "Must be a year from \(years.lowerBound) to \(years.upperBound) (\(range.meaning))."))
                return
            }
        }
        var lower = schema.minimum
        var upper = schema.maximum
        switch schema.format {
        case "int32":
            lower = max(lower ?? -Double.infinity, Double(Int32.min))
            upper = min(upper ?? Double.infinity, Double(Int32.max))
        case "int64":
            lower = max(lower ?? -Double.infinity, Double(Int64.min))
            upper = min(upper ?? Double.infinity, Double(Int64.max))
        default:
            break
        }
        if let lower, number < lower {
            errors.append(.init(field: pointer, code: "out_of_range", message: "Must be at least \(format(lower))."))
        } else if let upper, number > upper {
            errors.append(.init(field: pointer, code: "out_of_range", message: "Must be at most \(format(upper))."))
        }
    }

    private static func format(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e18 ? String(Int64(number)) : String(number)
    }

    private static func validateArray(
        _ items: [JSONValue], schema: Rules, pointer: String, context: ValidationContext,
        errors: inout [AppError.FieldError]
    ) {
        if let minimum = schema.minItems, items.count < minimum {
            errors.append(.init(field: pointer, code: "too_short", message: "Must have at least \(minimum) item(s)."))
        }
        if let maximum = schema.maxItems, items.count > maximum {
            errors.append(.init(field: pointer, code: "too_long", message: "Must have at most \(maximum) item(s)."))
        }
        if schema.uniqueItems {
            for (index, item) in items.enumerated() where items[..<index].contains(item) {
                errors.append(.init(field: "\(pointer)/\(index)", code: "duplicate", message: "Items must be unique."))
                break
            }
        }
        for (index, item) in items.enumerated() {
            if let itemSchema = schema.items {
                validate(item, against: itemSchema, at: "\(pointer)/\(index)", context: context, errors: &errors)
            } else {
                TextRule.scan(item, at: "\(pointer)/\(index)", errors: &errors)
            }
        }
    }

    private static func validateObject(
        _ object: [String: JSONValue], schema: Rules, pointer: String, context: ValidationContext,
        errors: inout [AppError.FieldError]
    ) {
        let base = pointer == "/" ? "" : pointer
        for name in schema.required where object[name] == nil {
            errors.append(.init(field: "\(base)/\(name)", code: "required", message: "This field is required."))
        }
        if let minimum = schema.minProperties, object.count < minimum {
            errors.append(.init(field: pointer, code: "too_short", message: "Must have at least \(minimum) field(s)."))
        }
        if let maximum = schema.maxProperties, object.count > maximum {
            errors.append(.init(field: pointer, code: "too_long", message: "Must have at most \(maximum) field(s)."))
        }
        for name in object.keys.sorted() {
            let value = object[name]!
            let field = "\(base)/\(TextRule.escapedPointerToken(name))"
            if let error = TextRule.violation(in: name, at: field) {
                errors.append(error)
            } else if let propertySchema = schema.properties[name] {
                validate(value, against: propertySchema, at: field, context: context, errors: &errors)
            } else {
                switch schema.additionalProperties {
                case .forbidden:
                    errors.append(.init(field: field, code: "unknown_field", message: "This field is not allowed."))
                case .checked(let additional):
                    validate(value, against: additional, at: field, context: context, errors: &errors)
                case .unchecked:
                    // A free-form value: no schema to check, but its text still reaches the database.
                    TextRule.scan(value, at: field, errors: &errors)
                }
            }
        }
    }
}

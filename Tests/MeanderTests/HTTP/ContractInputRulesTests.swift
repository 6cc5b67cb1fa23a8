import Foundation
import Testing
import Vapor
import VaporTesting

@testable import Meander

/// The rules every input of every operation follows, tested by generating cases from the contract itself: a new
/// operation or field is covered the moment it is in `openapi.yaml`.
///
/// - Text: NUL in any string (body field, object key, query, path or header parameter) answers 400 with the field's
///   code `invalid_character`, on both engines and before anything reaches the database (PostgreSQL refuses NUL in
///   text, so a leak shows as a 500); other control characters likewise, except line breaks and tab in
///   `x-multiline` fields.
/// - Dates and years: a value just outside a field's `x-date-range`/`x-year-range` answers 400 `out_of_range` for
///   that field, and a value inside it does not.
@Suite("Contract input rules")
struct ContractInputRulesTests {
    static let contract = try! OpenAPIContract.bundled()

    /// A string leaf of a request body: its JSON pointer (array items at index 0) and schema.
    struct Leaf: Sendable, CustomStringConvertible {
        var operationID: String
        var pointer: String
        var schema: OpenAPIContract.Schema
        var description: String { "\(operationID) \(pointer)" }
    }

    /// Every leaf of every JSON request body, with the types the schema allows there.
    static let leaves: [Leaf] = contract.operations.sorted { $0.operationID < $1.operationID }.flatMap { operation in
        guard let schema = operation.requestBodies["application/json"] else { return [Leaf]() }
        var found: [Leaf] = []
        collect(schema, at: "", operationID: operation.operationID, into: &found, depth: 0)
        return found
    }

    static func collect(
        _ schema: OpenAPIContract.Schema, at pointer: String, operationID: String, into found: inout [Leaf], depth: Int
    ) {
        guard depth < 8 else { return }
        for key in ["allOf", "anyOf", "oneOf"] {
            for case let part as OpenAPIContract.Schema in (schema[key] as? [any Sendable]) ?? [] {
                collect(part, at: pointer, operationID: operationID, into: &found, depth: depth + 1)
            }
        }
        let types = Self.types(schema)
        if let properties = schema["properties"] as? OpenAPIContract.Schema {
            for name in properties.keys.sorted() {
                guard let child = properties[name] as? OpenAPIContract.Schema else { continue }
                collect(child, at: pointer + "/" + name, operationID: operationID, into: &found, depth: depth + 1)
            }
        }
        if let items = schema["items"] as? OpenAPIContract.Schema {
            collect(items, at: pointer + "/0", operationID: operationID, into: &found, depth: depth + 1)
        }
        if !pointer.isEmpty, !types.isDisjoint(with: ["string", "integer"]) || schema["x-date-range"] != nil,
            !found.contains(where: { $0.operationID == operationID && $0.pointer == pointer })
        {
            found.append(Leaf(operationID: operationID, pointer: pointer, schema: schema))
        }
    }

    static func types(_ schema: OpenAPIContract.Schema) -> Set<String> {
        if let single = schema["type"] as? String { return [single] }
        return Set(((schema["type"] as? [any Sendable]) ?? []).compactMap { $0 as? String })
    }

    static var stringLeaves: [Leaf] { leaves.filter { types($0.schema).contains("string") } }
    static var rangedLeaves: [Leaf] { leaves.filter { $0.schema["x-date-range"] != nil || $0.schema["x-year-range"] != nil } }

    /// A body holding `value` at `pointer` and nothing else (`/a/0/b` makes `{"a": [{"b": value}]}`).
    static func body(setting pointer: String, to value: JSONValue) -> JSONValue {
        let tokens = pointer.split(separator: "/").map(String.init)
        func build(_ rest: ArraySlice<String>) -> JSONValue {
            guard let first = rest.first else { return value }
            if Int(first) != nil { return .array([build(rest.dropFirst())]) }
            return .object([first: build(rest.dropFirst())])
        }
        return build(tokens[...])
    }

    static func encode(_ value: JSONValue) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }

    /// The operation's path with every parameter filled by a well-formed value (`override` for one of them).
    static func path(of operation: OpenAPIContract.Operation, override: (name: String, value: String)? = nil) -> String {
        var path = operation.path
        for parameter in operation.parameters where parameter.location == .path {
            let value: String
            if let override, override.name == parameter.name {
                value = override.value
            } else if parameter.name == "year" {
                value = "2025"
            } else if parameter.name == "role" {
                value = "peer_mentor"
            } else {
                value = UUID().api
            }
            path = path.replacingOccurrences(of: "{\(parameter.name)}", with: value)
        }
        return path
    }

    /// A caller every operation authenticates: a national admin (and platform admin) of a fresh tree.
    static func caller(_ app: Application) async throws -> SignedIn {
        let tree = try await IdentityFixtures.tree(app)
        return try await IdentityFixtures.signedIn(
            app, email: "rules@input.test", roles: [(.nationalAdmin, tree.national), (.platformAdmin, nil)])
    }

    static func send(
        _ app: Application, _ operation: OpenAPIContract.Operation, path: String, json: String?, caller: SignedIn,
        headers extra: HTTPHeaders = [:]
    ) async throws -> APIResult {
        var headers = caller.headers
        for (name, value) in extra { headers.replaceOrAdd(name: name, value: value) }
        var result: APIResult?
        try await app.testing().test(
            HTTPMethod(rawValue: operation.method), path, headers: headers, body: json.map { ByteBuffer(string: $0) }
        ) { response in
            result = APIResult(status: response.status, body: Data(buffer: response.body), headers: response.headers)
        }
        return try #require(result)
    }

    static func fieldErrors(_ result: APIResult) -> [AppError.FieldError] {
        (try? JSONDecoder().decode(ProblemDocument.self, from: result.body))?.errors ?? []
    }

    static func operation(_ id: String) -> OpenAPIContract.Operation {
        contract.operations.first { $0.operationID == id }!
    }

    // MARK: - Text

    @Test("the contract's bodies have string fields to test, the free-text ones marked x-multiline")
    func coverage() {
        #expect(Self.stringLeaves.count >= 60)
        let multiline = Self.stringLeaves.filter { $0.schema["x-multiline"] as? Bool == true }.map(\.description)
        #expect(multiline.contains("createContact /needs"))
        #expect(multiline.contains("createActivity /summary"))
        #expect(!multiline.contains("createContact /first_name"))
    }

    @Test("NUL in any string field of any body answers 400 invalid_character at that field")
    func nulInBodies() async throws {
        try await withTestApp { app in
            // given
            let caller = try await Self.caller(app)
            var checked = 0
            for leaf in Self.stringLeaves {
                let operation = Self.operation(leaf.operationID)
                let json = try Self.encode(Self.body(setting: leaf.pointer, to: .string("Ola\u{0}Nordmann")))

                // when
                let result = try await Self.send(app, operation, path: Self.path(of: operation), json: json, caller: caller)

                // then
                #expect(result.status == .badRequest, "\(leaf): \(result.status) \(result.text)")
                #expect(
                    Self.fieldErrors(result).contains { $0.field == leaf.pointer && $0.code == TextRule.code },
                    "\(leaf): \(result.text)")
                checked += 1
            }
            #expect(checked == Self.stringLeaves.count)
        }
    }

    @Test("other control characters: refused in single-line fields; line breaks and tab pass in x-multiline ones")
    func controlCharacters() async throws {
        try await withTestApp { app in
            // given
            let caller = try await Self.caller(app)
            for leaf in Self.stringLeaves {
                let operation = Self.operation(leaf.operationID)
                let multiline = leaf.schema["x-multiline"] as? Bool == true
                for (text, allowed) in [("linje 1\nlinje 2\tkolonne", multiline), ("escape \u{1B}[2J", false), ("del\u{7F}", false)] {
                    let json = try Self.encode(Self.body(setting: leaf.pointer, to: .string(text)))

                    // when
                    let result = try await Self.send(
                        app, operation, path: Self.path(of: operation), json: json, caller: caller)

                    // then
                    let flagged = Self.fieldErrors(result).contains { $0.field == leaf.pointer && $0.code == TextRule.code }
                    #expect(flagged == !allowed, "\(leaf) \(text.debugDescription): \(result.status) \(result.text)")
                }
            }
        }
    }

    @Test("NUL in an object key answers 400 invalid_character")
    func nulInKeys() async throws {
        try await withTestApp { app in
            // given
            let caller = try await Self.caller(app)
            let operation = Self.operation("createContact")

            // when
            let result = try await Self.send(
                app, operation, path: operation.path, json: #"{"first\u0000name": "Ola"}"#, caller: caller)

            // then
            #expect(result.status == .badRequest)
            #expect(Self.fieldErrors(result).contains { $0.field == "/first\u{0}name" && $0.code == TextRule.code })
        }
    }

    @Test("NUL or a control character in any query or header parameter answers 400 invalid_character")
    func nulInParameters() async throws {
        try await withTestApp { app in
            // given
            let caller = try await Self.caller(app)
            var checked = 0
            for operation in Self.contract.operations.sorted(by: { $0.operationID < $1.operationID }) {
                for parameter in operation.parameters where parameter.location == .query || parameter.location == .header {
                    for bad in ["a\u{0}b", "a\u{1}b"] {
                        var path = Self.path(of: operation)
                        var headers: HTTPHeaders = [:]
                        if parameter.location == .query {
                            let encoded = bad.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                            path += "?\(parameter.name)=\(encoded)"
                        } else {
                            headers.replaceOrAdd(name: parameter.name, value: bad)
                        }
                        let json = operation.requestBodies["application/json"] == nil ? nil : "{}"

                        // when
                        let result = try await Self.send(app, operation, path: path, json: json, caller: caller, headers: headers)

                        // then
                        #expect(result.status == .badRequest, "\(operation.operationID) \(parameter.name): \(result.text)")
                        #expect(
                            Self.fieldErrors(result).contains { $0.field == parameter.name && $0.code == TextRule.code },
                            "\(operation.operationID) \(parameter.name): \(result.text)")
                        checked += 1
                    }
                }
            }
            #expect(checked >= 80)
        }
    }

    @Test("NUL in a path parameter answers a 4xx, never a 5xx")
    func nulInPaths() async throws {
        try await withTestApp { app in
            // given
            let caller = try await Self.caller(app)
            for operation in Self.contract.operations where operation.parameters.contains(where: { $0.location == .path }) {
                for parameter in operation.parameters where parameter.location == .path {
                    let path = Self.path(of: operation, override: (parameter.name, "a%00b"))
                    let json = operation.requestBodies["application/json"] == nil ? nil : "{}"

                    // when
                    let result = try await Self.send(app, operation, path: path, json: json, caller: caller)

                    // then
                    #expect(
                        (400..<500).contains(result.status.code), "\(operation.operationID) \(parameter.name): \(result.text)")
                }
            }
        }
    }

    @Test("an undeclared query parameter with NUL is refused too")
    func nulInUndeclaredQuery() async throws {
        try await withTestApp { app in
            // given
            let caller = try await Self.caller(app)

            // when
            let result = try await API.send(app, .GET, "/api/v1/contacts?utm=a%00b", as: caller)

            // then
            #expect(result.status == .badRequest)
            #expect(Self.fieldErrors(result).contains { $0.field == "utm" && $0.code == TextRule.code })
        }
    }

    // MARK: - Dates and years

    /// A value just below and just above a ranged leaf's range, and one inside it.
    static func probes(for leaf: Leaf, context: ValidationContext) throws -> (outside: [JSONValue], inside: JSONValue) {
        if let name = leaf.schema["x-year-range"] as? String {
            let years = try #require(YearRange(rawValue: name), "unknown x-year-range \(name)").years(context: context)
            return ([.integer(Int64(years.lowerBound - 1)), .integer(Int64(years.upperBound + 1))], .integer(Int64(years.upperBound)))
        }
        let name = try #require(leaf.schema["x-date-range"] as? String)
        let bounds = try #require(DateRange(rawValue: name), "unknown x-date-range \(name)").bounds(context: context)
        let isDay = leaf.schema["format"] as? String == "date"
        func text(_ date: Date) -> JSONValue {
            .string(isDay ? String(date.formatted(.iso8601).prefix(10)) : date.formatted(.iso8601))
        }
        // A day is compared at midnight UTC: step a whole day (or a minute for instants) past each end.
        let step: TimeInterval = isDay ? 86_400 * 2 : 120
        let middle = bounds.lowerBound + (bounds.upperBound.timeIntervalSince(bounds.lowerBound)) / 2
        return ([text(bounds.lowerBound - step), text(bounds.upperBound + step)], text(middle))
    }

    @Test("every ranged date and year field refuses values just outside its range, and takes one inside")
    func ranges() async throws {
        try await withTestApp { app in
            // given
            let caller = try await Self.caller(app)
            let context = ValidationContext(config: app.meander.config)
            #expect(Self.rangedLeaves.count >= 10)
            for leaf in Self.rangedLeaves {
                let operation = Self.operation(leaf.operationID)
                let (outside, inside) = try Self.probes(for: leaf, context: context)
                for value in outside {
                    // when
                    let json = try Self.encode(Self.body(setting: leaf.pointer, to: value))
                    let result = try await Self.send(app, operation, path: Self.path(of: operation), json: json, caller: caller)

                    // then
                    #expect(result.status == .badRequest, "\(leaf) \(value): \(result.text)")
                    #expect(
                        Self.fieldErrors(result).contains { $0.field == leaf.pointer && $0.code == "out_of_range" },
                        "\(leaf) \(value): \(result.text)")
                }
                let json = try Self.encode(Self.body(setting: leaf.pointer, to: inside))
                let result = try await Self.send(app, operation, path: Self.path(of: operation), json: json, caller: caller)
                #expect(
                    !Self.fieldErrors(result).contains { $0.field == leaf.pointer },
                    "\(leaf) \(inside) is in range: \(result.text)")
            }
        }
    }

    @Test("ranged query parameters refuse values outside their range")
    func rangedParameters() async throws {
        try await withTestApp { app in
            // given
            let caller = try await Self.caller(app)
            var checked = 0
            for operation in Self.contract.operations {
                for parameter in operation.parameters where parameter.location != .header {
                    let leaf = Leaf(operationID: operation.operationID, pointer: parameter.name, schema: parameter.schema)
                    guard parameter.schema["x-date-range"] != nil || parameter.schema["x-year-range"] != nil else { continue }
                    let (outside, _) = try Self.probes(for: leaf, context: ValidationContext(config: app.meander.config))
                    for value in outside {
                        let raw: String
                        switch value {
                        case .integer(let year): raw = String(year)
                        case .string(let text): raw = text.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                        default: continue
                        }
                        let path =
                            parameter.location == .path
                            ? Self.path(of: operation, override: (parameter.name, raw))
                            : Self.path(of: operation) + "?\(parameter.name)=\(raw)"
                        let json = operation.requestBodies["application/json"] == nil ? nil : "{}"

                        // when
                        let result = try await Self.send(app, operation, path: path, json: json, caller: caller)

                        // then
                        #expect(
                            Self.fieldErrors(result).contains { $0.field == parameter.name && $0.code == "out_of_range" },
                            "\(operation.operationID) \(parameter.name)=\(raw): \(result.text)")
                        checked += 1
                    }
                }
            }
            #expect(checked >= 12)
        }
    }

    @Test(
        "the ranges move with a fixed clock, not the machine's",
        arguments: [
            // (now, range or year range, value, refused)
            ("2026-12-04T12:00:00Z", "activity", "2026-12-05T11:59:00Z", false),
            ("2026-12-04T12:00:00Z", "activity", "2026-12-05T12:01:00Z", true),
            ("2026-12-04T12:00:00Z", "activity", "1999-12-31T23:59:00Z", true),
            ("2026-12-04T12:00:00Z", "recorded", "2026-12-05T11:00:00Z", false),
            ("2026-12-04T12:00:00Z", "upcoming", "2026-12-04T11:00:00Z", true),
            ("2026-12-04T12:00:00Z", "reporting-period", "2027-12-31", false),
            ("2026-12-04T12:00:00Z", "reporting-period", "2028-01-02", true),
            // Past 23:00 UTC on 31 December it is already the new year in Norway.
            ("2026-12-31T23:30:00Z", "year:birth", "2027", false),
            ("2026-12-31T22:30:00Z", "year:birth", "2027", true),
            ("2026-12-04T12:00:00Z", "year:reporting", "2027", false),
            ("2026-12-04T12:00:00Z", "year:reporting", "2028", true),
            ("2026-12-04T12:00:00Z", "year:rules", "2031", false),
            ("2026-12-04T12:00:00Z", "year:rules", "2032", true),
        ])
    func fixedClock(now: String, range: String, value: String, refused: Bool) throws {
        // given
        let context = ValidationContext(now: try #require(RFC3339.date(from: now)))

        // when
        let flagged: Bool
        if range.hasPrefix("year:") {
            let years = try #require(YearRange(rawValue: String(range.dropFirst(5)))).years(context: context)
            flagged = !years.contains(try #require(Int(value)))
        } else {
            flagged = try #require(DateRange(rawValue: range)).violation(value, at: "/x", context: context) != nil
        }

        // then
        #expect(flagged == refused, "\(range) \(value) at \(now)")
    }

    @Test("the activity's future margin and earliest date come from the configuration")
    func configuredActivityRange() async throws {
        try await withTestApp(configure: { config in
            config.activityFutureMargin = 3_600
            config.activityEarliestDate = Date(timeIntervalSince1970: 1_577_836_800)  // 2020-01-01
        }) { app in
            // given
            let caller = try await Self.caller(app)
            let operation = Self.operation("createActivity")
            let now = Date()
            for (date, refused) in [
                (now + 2 * 3_600, true), (now + 30 * 60, false),
                (Date(timeIntervalSince1970: 1_577_836_700), true), (Date(timeIntervalSince1970: 1_577_836_900), false),
            ] {
                let json = try Self.encode(Self.body(setting: "/occurred_at", to: .string(date.formatted(.iso8601))))

                // when
                let result = try await Self.send(app, operation, path: operation.path, json: json, caller: caller)

                // then
                let flagged = Self.fieldErrors(result).contains { $0.field == "/occurred_at" && $0.code == "out_of_range" }
                #expect(flagged == refused, "\(date): \(result.text)")
            }
        }
    }
}

extension JSONValue: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let bool): try container.encode(bool)
        case .integer(let integer): try container.encode(integer)
        case .number(let number): try container.encode(number)
        case .string(let string): try container.encode(string)
        case .array(let array): try container.encode(array)
        case .object(let object): try container.encode(object)
        }
    }
}

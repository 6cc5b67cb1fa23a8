import Foundation
import Testing

@testable import Meander

@Suite("Contract validation")
struct SchemaValidatorTests {
    static let contract = try! OpenAPIContract(
        yaml: """
            openapi: 3.1.0
            info: {title: t, version: '1'}
            paths:
              /things/{thingId}:
                post:
                  operationId: makeThing
                  x-permission: things.create
                  parameters:
                    - {name: thingId, in: path, required: true, schema: {type: string, format: uuid}}
                    - {name: limit, in: query, schema: {type: integer, format: int32, minimum: 1, maximum: 10}}
                    - {name: flag, in: query, schema: {type: boolean}}
                  requestBody:
                    required: true
                    content:
                      application/json:
                        schema: {$ref: '#/components/schemas/Thing'}
                  responses: {'200': {description: ok}}
            components:
              schemas:
                Thing:
                  type: object
                  additionalProperties: false
                  required: [name, kind]
                  properties:
                    name: {type: string, minLength: 1, maxLength: 5}
                    kind: {type: string, enum: [a, b]}
                    count: {type: [integer, 'null'], minimum: 0}
                    email: {type: string, format: email}
                    tags: {type: array, maxItems: 2, uniqueItems: true, items: {type: string}}
                    when: {type: string, format: date-time}
            """)

    static var operation: OpenAPIContract.Operation {
        contract.operation(method: "POST", pathComponents: ["things", "{}"])!
    }

    private func bodyErrors(_ json: String) throws -> [AppError.FieldError] {
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8))
        var errors: [AppError.FieldError] = []
        SchemaValidator.validate(value, against: try #require(Self.operation.requestBodies["application/json"]), at: "/", errors: &errors)
        return errors
    }

    @Test(
        "JSON values keep their kind: booleans, integers, other numbers and strings stay apart",
        arguments: [
            ("true", JSONValue.bool(true)),
            ("false", .bool(false)),
            ("1", .integer(1)),
            ("-7", .integer(-7)),
            ("1.5", .number(1.5)),
            (#""1""#, .string("1")),
            (#""true""#, .string("true")),
            ("null", .null),
            (#"[true, 1, "x", null]"#, .array([.bool(true), .integer(1), .string("x"), .null])),
            (#"{"a": false, "b": {"c": 2.25}}"#, .object(["a": .bool(false), "b": .object(["c": .number(2.25)])])),
            ("[]", .array([])),
            ("{}", .object([:])),
        ])
    func jsonKinds(json: String, expected: JSONValue) throws {
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)) == expected)
    }

    @Test("the contract is parsed with permissions and resolved references")
    func parsed() throws {
        let operation = Self.operation
        #expect(operation.operationID == "makeThing")
        #expect(operation.permission == "things.create")
        #expect(operation.requestBodyRequired)
        #expect(operation.parameters.map(\.name) == ["thingId", "limit", "flag"])
        #expect((operation.requestBodies["application/json"]?["required"] as? [any Sendable])?.count == 2)
    }

    @Test(
        "bodies: each bad field is named with its JSON pointer and code",
        arguments: [
            (#"{"name": "ok", "kind": "a"}"#, []),
            (#"{"kind": "a"}"#, [("/name", "required")]),
            (#"{"name": "", "kind": "a"}"#, [("/name", "required")]),
            (#"{"name": "toolong", "kind": "c"}"#, [("/kind", "invalid_value"), ("/name", "too_long")]),
            (#"{"name": 3, "kind": "a"}"#, [("/name", "invalid_type")]),
            (#"{"name": "x", "kind": "a", "extra": 1}"#, [("/extra", "unknown_field")]),
            (#"{"name": "x", "kind": "a", "count": -1}"#, [("/count", "out_of_range")]),
            (#"{"name": "x", "kind": "a", "count": null}"#, []),
            (#"{"name": "x", "kind": "a", "count": 1.5}"#, [("/count", "invalid_type")]),
            (#"{"name": "x", "kind": "a", "email": "not-an-email"}"#, [("/email", "invalid_format")]),
            (#"{"name": "x", "kind": "a", "tags": ["a", "a"]}"#, [("/tags/1", "duplicate")]),
            (#"{"name": "x", "kind": "a", "tags": ["a", "b", "c"]}"#, [("/tags", "too_long")]),
            (#"{"name": "x", "kind": "a", "when": "yesterday"}"#, [("/when", "invalid_format")]),
            (#"{"name": "x", "kind": "a", "when": "2026-11-27T10:00:00Z"}"#, []),
            (#"[1, 2]"#, [("/", "invalid_type")]),
        ])
    func bodies(json: String, expected: [(String, String)]) throws {
        // when
        let errors = try bodyErrors(json)

        // then
        #expect(errors.map(\.field) == expected.map(\.0))
        #expect(errors.map(\.code) == expected.map(\.1))
    }

    @Test(
        "parameters are converted by their schema and checked",
        arguments: [
            ("limit", ["5"], []),
            ("limit", ["0"], ["out_of_range"]),
            ("limit", ["11"], ["out_of_range"]),
            ("limit", ["five"], ["invalid_type"]),
            ("limit", ["99999999999"], ["out_of_range"]),
            ("limit", ["1", "2"], ["invalid_value"]),
            ("flag", ["true"], []),
            ("flag", ["yes"], ["invalid_type"]),
            ("thingId", ["0b8a6f3e-6c1e-4d59-9d0e-1c1a4f9b1a2b"], []),
            ("thingId", ["nope"], ["invalid_format"]),
        ])
    func parameters(name: String, raw: [String], expected: [String]) throws {
        // given
        let parameter = try #require(Self.operation.parameters.first { $0.name == name })

        // when
        var errors: [AppError.FieldError] = []
        SchemaValidator.validateParameter(raw, name: name, schema: parameter.schema, errors: &errors)

        // then
        #expect(errors.map(\.code) == expected)
        #expect(errors.allSatisfy { $0.field == name })
    }

    @Test("query strings are split and percent-decoded")
    func queryItems() {
        let items = ContractValidationMiddleware.queryItems("a=1&b=x%20y&a=2&c=&d+e=f+g")
        #expect(items["a"] == ["1", "2"])
        #expect(items["b"] == ["x y"])
        #expect(items["c"] == [""])
        #expect(items["d e"] == ["f g"])
    }
}

import Foundation
import OpenAPIRuntime
import Vapor

/// Offline sync: up to 500 activities, each handled as `createActivity` would handle it alone.
enum ActivityBatch {
    static func run(_ items: [OpenAPIObjectContainer], request: Request) async throws -> Components.Schemas.BatchResult {
        // Each item is authorised on its own organisation; the batch as a whole needs the permission somewhere.
        let access = request.access
        try access.authorizeAnywhere()
        guard
            let schema = request.application.meander.contract.operations
                .first(where: { $0.operationID == "createActivity" })?.requestBodies["application/json"]
        else { throw AppError(.internalError, "The contract has no createActivity body.") }
        let rules = BufdirRulesCache()
        var results: [Components.Schemas.BatchItemResult] = []
        var created = 0
        var replayed = 0
        for (index, item) in items.enumerated() {
            let data = try JSONEncoder().encode(item)
            let clientID = (try? JSONDecoder().decode(ClientIDProbe.self, from: data))?.clientId
            do {
                let body = try decode(
                    data, schema: schema, index: index,
                    context: ValidationContext(now: request.now, config: request.application.meander.config))
                let logged = try await Activities.log(
                    try NewActivity(body), access: access, deps: request.dependencies,
                    cipher: request.application.meander.cipher, rules: rules, on: request.db)
                let view = try Components.Schemas.Activity(
                    try await Activities.record(logged.activity, summary: logged.summary, on: request.db))
                if logged.created { created += 1 } else { replayed += 1 }
                results.append(
                    .init(
                        index: Int32(index), clientId: view.clientId, outcome: logged.created ? .created : .replayed,
                        status: logged.created ? 201 : 200, activity: view))
            } catch let error as AppError {
                let rooted = error.rootingFieldPointers(at: "/items/\(index)").concealingExistence()
                results.append(
                    .init(
                        index: Int32(index), clientId: clientID, outcome: outcome(of: rooted),
                        status: Int32(rooted.status.code), problem: problem(rooted, request: request)))
            }
        }
        return .init(results: results, created: Int32(created), replayed: Int32(replayed), failed: Int32(items.count - created - replayed))
    }

    private struct ClientIDProbe: Decodable {
        var clientId: String?
        enum CodingKeys: String, CodingKey { case clientId = "client_id" }
    }

    /// Checks one item against the `ActivityCreate` schema (errors named `/items/N/...`) and decodes it.
    private static func decode(
        _ data: Data, schema: OpenAPIContract.Schema, index: Int, context: ValidationContext
    ) throws -> Components.Schemas.ActivityCreate {
        let value = try JSONDecoder().decode(JSONValue.self, from: data)
        var errors: [AppError.FieldError] = []
        SchemaValidator.validate(value, against: schema, at: "/items/\(index)", context: context, errors: &errors)
        guard errors.isEmpty else { throw AppError.validation(errors) }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = RFC3339.date(from: text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: text))
            }
            return date
        }
        do {
            return try decoder.decode(Components.Schemas.ActivityCreate.self, from: data)
        } catch {
            throw AppError.validation([
                .init(field: "/items/\(index)", code: "invalid_value", message: "Not an ActivityCreate object.")
            ])
        }
    }

    private static func outcome(of error: AppError) -> Components.Schemas.BatchItemResult.OutcomePayload {
        switch error.status {
        case .conflict: .conflict
        case .forbidden, .unauthorized: .forbidden
        case .notFound: .notFound
        default: .invalid
        }
    }

    private static func problem(_ error: AppError, request: Request) -> Components.Schemas.Problem {
        Components.Schemas.Problem(
            _type: ProblemDocument.typeURI(for: error.code), title: error.code.title, status: Int32(error.status.code),
            detail: error.detail, instance: request.url.path, code: error.code.rawValue,
            requestId: request.headers.first(name: "X-Request-Id"),
            errors: error.fieldErrors.isEmpty
                ? nil : error.fieldErrors.map { .init(field: $0.field, code: $0.code, message: $0.message) })
    }
}

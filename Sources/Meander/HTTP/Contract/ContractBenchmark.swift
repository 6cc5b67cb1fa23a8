import Foundation

/// The contract's start-up parse and its request checks, run as `configure` and `ContractValidationMiddleware` run
/// them, for `Benchmarks/ContractValidation` (`scripts/bench-contract`): a public door to internal code, so that the
/// benchmark times the real path in a plain release build, without `-enable-testing`.
public enum ContractBenchmark {
    /// The contract as bundled with this build, as text.
    public static func bundledDocument() throws -> String {
        String(decoding: try OpenAPIDocument.bytes(), as: UTF8.self)
    }

    /// Parses `yaml` as start-up does (the operations, then the check that each declares a permission); returns the
    /// number of operations.
    public static func load(_ yaml: String) throws -> Int {
        let contract = try OpenAPIContract(yaml: yaml)
        try contract.checkPermissionsDeclared()
        return contract.operations.count
    }

    /// One request to an operation of the bundled contract: its query string and JSON body, checked as the
    /// middleware checks them.
    public struct Request: Sendable {
        let operation: OpenAPIContract.Operation
        let body: Data?
        let query: String?
        let pathParameters: [String: String]
        let itemSchema: OpenAPIContract.Schema?

        /// - Parameter itemsAs: checks each element of the body's `items` against this operation's body too, as
        ///   `POST /api/v1/activities/batch` checks each item against `createActivity`'s schema after the middleware
        ///   has checked the batch.
        public init(
            operationID: String, body: Data? = nil, query: String? = nil, pathParameters: [String: String] = [:],
            itemsAs itemOperationID: String? = nil
        ) throws {
            let contract = try OpenAPIContract.bundled()
            guard let operation = contract.operations.first(where: { $0.operationID == operationID }) else {
                throw AppError(.internalError, "The contract has no operation \(operationID).")
            }
            self.operation = operation
            self.body = body
            self.query = query
            self.pathParameters = pathParameters
            if let itemOperationID {
                itemSchema = contract.operations.first { $0.operationID == itemOperationID }?.requestBodies["application/json"]
                guard itemSchema != nil else { throw AppError(.internalError, "The contract has no body for \(itemOperationID).") }
            } else {
                itemSchema = nil
            }
        }

        /// Checks the request once; returns the number of field errors found (0 for a valid request, 1 for a body
        /// that is not JSON).
        public func check() -> Int {
            let context = ValidationContext()
            var found = 0
            do {
                try ContractValidationMiddleware.checkParameters(
                    of: operation, query: query, path: { pathParameters[$0] }, headers: { _ in [] }, context: context)
            } catch {
                found += (error as? AppError)?.fieldErrors.count ?? 1
            }
            guard let body, let schema = operation.requestBodies["application/json"] else { return found }
            do {
                let value = try ContractValidationMiddleware.checkJSONBody(body, against: schema, context: context)
                if let itemSchema, case .object(let object) = value, case .array(let items)? = object["items"] {
                    var errors: [AppError.FieldError] = []
                    for (index, item) in items.enumerated() {
                        SchemaValidator.validate(item, against: itemSchema, at: "/items/\(index)", context: context, errors: &errors)
                    }
                    found += errors.count
                }
            } catch {
                found += max((error as? AppError)?.fieldErrors.count ?? 1, 1)
            }
            return found
        }
    }
}

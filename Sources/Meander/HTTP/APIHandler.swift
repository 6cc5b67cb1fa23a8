import OpenAPIRuntime
import Vapor

/// Implements the generated `APIProtocol`: one method per `operationId` in `openapi.yaml`.
///
/// Each capability adds its operations in an extension in its own folder (`Activities/ActivityTypesAPI.swift`, …).
/// Handlers reach the Vapor request (database, logger) through `RequestContext`.
struct APIHandler: APIProtocol {}

import Fluent
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import OpenAPIVapor
import Vapor

/// Wires one application: databases, migrations, middleware and the API, all from one `AppConfig`.
public func configure(_ app: Application, config: AppConfig) async throws {
    let contract = try OpenAPIContract.bundled()
    app.meander = Meander(config: config, metrics: HTTPMetrics(), contract: contract)
    app.logger.logLevel = config.logLevel

    try configureDatabase(app, config: config)
    app.migrations.add(MigrationList.all)

    app.routes.defaultMaxBodySize = ByteCount(value: config.maxBodySize)
    app.middleware = Middlewares()
    app.middleware.use(RequestIDMiddleware())
    app.middleware.use(RouteLoggingMiddleware(logLevel: .info))
    app.middleware.use(MetricsMiddleware(metrics: app.meander.metrics))
    app.middleware.use(ProblemMiddleware(routes: app.routes))
    app.middleware.use(BodyLimitMiddleware(maxBodySize: config.maxBodySize))
    app.middleware.use(ContractValidationMiddleware(contract: contract))

    let transport = VaporTransport(routesBuilder: app.grouped(RequestContextMiddleware()))
    try APIHandler().registerHandlers(
        on: transport, serverURL: URL(string: "/")!,
        configuration: .init(jsonEncodingOptions: [.sortedKeys]))

    app.asyncCommands.use(MigrateCommand(), as: "migrate")
    app.asyncCommands.use(SeedCommand(), as: "seed")
    app.asyncCommands.use(DemoCommand(), as: "demo")
}

private func configureDatabase(_ app: Application, config: AppConfig) throws {
    switch config.database {
    case .sqlite(let path):
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        app.databases.use(.sqlite(.file(path), maxConnectionsPerEventLoop: 1), as: .sqlite)
    case .postgres(let url):
        app.databases.use(
            try .postgres(url: url, maxConnectionsPerEventLoop: config.databasePoolSize, sqlLogLevel: .debug),
            as: .psql)
    }
}

/// Meander's per-application state.
public struct Meander: Sendable {
    public let config: AppConfig
    public let metrics: HTTPMetrics
    /// The OpenAPI document, parsed: operations, parameters, body schemas and permissions.
    let contract: OpenAPIContract
}

extension Application {
    private struct MeanderKey: StorageKey {
        typealias Value = Meander
    }

    /// Meander's configuration and shared services for this application.
    public var meander: Meander {
        get {
            guard let value = storage[MeanderKey.self] else { fatalError("configure(_:config:) has not run") }
            return value
        }
        set { storage[MeanderKey.self] = newValue }
    }
}

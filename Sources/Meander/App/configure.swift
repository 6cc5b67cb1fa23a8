import Crypto
import Fluent
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import OpenAPIVapor
import SQLKit
import Vapor

/// Wires one application: databases, migrations, middleware and the API, all from one `AppConfig`, with the clock and
/// id source of `dependencies` (live unless a test gives its own).
public func configure(
    _ app: Application, config: AppConfig, dependencies: AppDependencies = .live
) async throws {
    let contract = try OpenAPIContract.bundled()
    try contract.checkPermissionsDeclared()
    let metrics = HTTPMetrics()
    let tokens = await TokenService(
        signingKey: config.tokenSigningKey, accessTokenLifetime: config.accessTokenLifetime)
    app.meander = Meander(
        config: config, dependencies: dependencies, metrics: metrics, contract: contract, tokens: tokens,
        cipher: FieldCipher(masterKey: config.masterKey, previousMasterKeys: config.previousMasterKeys),
        files: config.storage.makeBlobStore(httpClient: app.http.client.shared),
        pageCursorKey: PageCursor.key(signingKey: config.tokenSigningKey),
        jobs: JobSystem(metrics: JobMetrics(registry: metrics.registry), configuration: config.workers))
    app.logger.logLevel = config.logLevel
    app.lifecycle.use(JobWorkersShutdown())

    try configureDatabase(app, config: config)
    let channels = try NotificationChannels.make(
        config: config, clock: dependencies.clock, httpClient: app.http.client.shared, logger: app.logger)
    app.lifecycle.use(NotificationChannelsShutdown(channels: channels))
    app.meander.jobs.registerMeanderKinds(files: app.meander.files, publicURL: config.publicURL, channels: channels)
    app.meander.jobs.attach(
        JobWorkers(
            registry: app.meander.jobs.registry,
            database: { [databases = app.databases, loops = app.eventLoopGroup, logger = app.logger, fallback = app.db] in
                // After shutdown there is no database to hand out: the fallback's calls fail instead.
                databases.database(logger: logger, on: loops.any()) ?? fallback
            }, deps: dependencies, logger: app.logger, configuration: config.workers, metrics: app.meander.jobs.metrics))
    try await prepareSQLiteConnections(app, config: config)
    app.migrations.add(MigrationList.all)

    app.routes.defaultMaxBodySize = ByteCount(value: config.maxBodySize)
    app.middleware = Middlewares()
    // One stack, so that a request crosses into async code once rather than once per middleware.
    app.middleware.use(
        AsyncMiddlewareStack([
            RequestIDMiddleware(),
            RequestLoggingMiddleware(level: .info),
            MetricsMiddleware(metrics: app.meander.metrics),
            NoStoreMiddleware(),
            ProblemMiddleware(routes: app.routes, contract: contract),
            RequestSizeMiddleware(),
            BodyLimitMiddleware(maxBodySize: config.maxBodySize, maxUploadSize: config.maxUploadSize),
            AccessMiddleware(contract: contract),
            IdempotencyMiddleware(
                contract: contract, masterKey: config.masterKey, previousMasterKeys: config.previousMasterKeys),
            ContractValidationMiddleware(contract: contract),
        ]))

    let transport = VaporTransport(routesBuilder: app.grouped(RequestContextMiddleware()))
    try APIHandler().registerHandlers(
        on: transport, serverURL: URL(string: "/")!,
        configuration: .init(dateTranscoder: RFC3339DateTranscoder(), jsonEncodingOptions: [.sortedKeys]))

    MeanderCommands.register(on: app)
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

/// SQLite allows one writer at a time. Each event loop keeps one connection; give every connection a busy timeout so
/// that a writer waits for the lock instead of failing with `SQLITE_BUSY`, and use write-ahead logging so that
/// readers never wait for writers.
private func prepareSQLiteConnections(_ app: Application, config: AppConfig) async throws {
    guard case .sqlite = config.database else { return }
    for eventLoop in app.eventLoopGroup.makeIterator() {
        guard let database = app.databases.database(logger: app.logger, on: eventLoop) as? any SQLDatabase else { continue }
        try await database.raw("PRAGMA busy_timeout = 10000").run()
        try await database.raw("PRAGMA journal_mode = WAL").run()
        try await database.raw("PRAGMA synchronous = NORMAL").run()
    }
}

/// Meander's per-application state.
public struct Meander: Sendable {
    public let config: AppConfig
    /// The clock and the id source (see `AppDependencies`).
    public let dependencies: AppDependencies
    public let metrics: HTTPMetrics
    /// The OpenAPI document, parsed: operations, parameters, body schemas and permissions.
    let contract: OpenAPIContract
    /// Signs and verifies access tokens; makes refresh and link tokens.
    let tokens: TokenService
    /// Seals and opens special-category fields under the organisations' data keys (see `FieldCipher`).
    let cipher: FieldCipher
    /// Where evidence files are kept (`MEANDER_STORAGE`: a directory or an S3 bucket).
    let files: any BlobStore
    /// Refreshes of one token in this app instance take turns (see `RefreshRotation.rotate`).
    let refreshesInFlight = KeyedAsyncLock<String>()
    /// Signs list cursors (see `PageCursor`), derived once from the token signing key.
    let pageCursorKey: SymmetricKey
    /// The job queue's kinds, metrics and this node's workers.
    let jobs: JobSystem
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

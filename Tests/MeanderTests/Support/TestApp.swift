import FluentPostgresDriver
import Foundation
import Logging
import NIOPosix
import PostgresNIO
import Vapor

@testable import Meander

/// The database engine the suite runs on, chosen by `MEANDER_TEST_DB` (`sqlite`, the default, or `postgres`).
enum TestEngine: String, Sendable {
    case sqlite, postgres

    static var current: TestEngine {
        TestEngine(rawValue: ProcessInfo.processInfo.environment["MEANDER_TEST_DB"]?.lowercased() ?? "sqlite") ?? .sqlite
    }

    /// `MEANDER_TEST_POSTGRES_URL`: an admin connection to a throwaway cluster, where tests create their databases.
    static var postgresAdminURL: String {
        ProcessInfo.processInfo.environment["MEANDER_TEST_POSTGRES_URL"]
            ?? "postgres://postgres@127.0.0.1:5432/postgres"
    }
}

/// Runs `body` with a fresh, configured `Application` on a fresh database of the current engine, and tears both
/// down afterwards, also when `body` throws.
///
/// - SQLite: a new file in a new temporary data directory.
/// - PostgreSQL: a new database, copied from a template migrated once per test process (or empty when
///   `migrate` is false), dropped at the end.
///
/// `dependencies` gives the app its clock and id source: the machine's by default, a `TestClock` and
/// `UUIDSource.incrementing()` where a test compares output or moves time.
func withTestApp(
    migrate: Bool = true,
    dependencies: AppDependencies = .live,
    configure adjust: (inout AppConfig) -> Void = { _ in },
    _ body: (Application) async throws -> Void
) async throws {
    await TestAppSlots.shared.acquire()
    do {
        try await withFreshTestApp(migrate: migrate, dependencies: dependencies, configure: adjust, body)
    } catch {
        await TestAppSlots.shared.release()
        throw error
    }
    await TestAppSlots.shared.release()
}

/// At most this many test applications live at once (`MEANDER_TEST_APPS`, default 12). Swift Testing starts every
/// test at once; unbounded, several hundred apps with their connection pools exhaust PostgreSQL's connections and
/// starve two cores, and timing-sensitive tests fail for reasons that are not theirs.
actor TestAppSlots {
    static let shared = TestAppSlots(
        slots: Int(ProcessInfo.processInfo.environment["MEANDER_TEST_APPS"] ?? "") ?? 12)

    private var free: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(slots: Int) { free = max(1, slots) }

    func acquire() async {
        if free > 0 {
            free -= 1
        } else {
            await withCheckedContinuation { waiters.append($0) }
        }
    }

    /// Hands the slot to the next waiter, or frees it.
    func release() {
        if waiters.isEmpty { free += 1 } else { waiters.removeFirst().resume() }
    }
}

private func withFreshTestApp(
    migrate: Bool,
    dependencies: AppDependencies,
    configure adjust: (inout AppConfig) -> Void,
    _ body: (Application) async throws -> Void
) async throws {
    let dataDirectory = FileManager.default.temporaryDirectory
        .appendingPathComponent("meander-test-\(UUID().uuidString.lowercased())").path
    try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dataDirectory) }

    var databaseName: String?
    let database: AppConfig.Database
    switch TestEngine.current {
    case .sqlite:
        database = .sqlite(path: dataDirectory + "/meander.sqlite")
    case .postgres:
        let name = "meander_t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let template = migrate ? try await PostgresTestCluster.shared.migratedTemplate() : nil
        try await PostgresTestCluster.shared.createDatabase(name, template: template)
        databaseName = name
        database = .postgres(url: PostgresTestCluster.url(database: name))
    }

    var config = AppConfig(
        database: database, dataDirectory: dataDirectory, tokenSigningKey: .random(), masterKey: .random(),
        logLevel: .warning)
    adjust(&config)

    let app = try await Application.make(.testing)
    app.logger.logLevel = .warning
    do {
        try await configure(app, config: config, dependencies: dependencies)
        if migrate, TestEngine.current == .sqlite {
            try await app.autoMigrate()
        }
        try await body(app)
    } catch {
        // A test that started a real server and then failed must not leave it running: its deinit would crash the
        // whole test process and hide the failure.
        await app.server.shutdown()
        try? await app.asyncShutdown()
        if let databaseName { try? await PostgresTestCluster.shared.dropDatabase(databaseName) }
        throw error
    }
    try await app.asyncShutdown()
    if let databaseName { try await PostgresTestCluster.shared.dropDatabase(databaseName) }
}

/// Creates and drops per-test databases in the throwaway cluster named by `MEANDER_TEST_POSTGRES_URL`.
actor PostgresTestCluster {
    static let shared = PostgresTestCluster()

    private var template: Task<String, any Error>?

    static func url(database: String) -> String {
        var components = URLComponents(string: TestEngine.postgresAdminURL)!
        components.path = "/" + database
        return components.string!
    }

    /// The name of a database with every migration applied, made once per test process.
    func migratedTemplate() async throws -> String {
        if let template { return try await template.value }
        let task = Task<String, any Error> {
            let name = "meander_tpl_\(ProcessInfo.processInfo.processIdentifier)_\(Int.random(in: 0..<1_000_000))"
            try await Self.execute("CREATE DATABASE \(name)")
            let app = try await Application.make(.testing)
            do {
                let config = AppConfig(
                    database: .postgres(url: Self.url(database: name)),
                    dataDirectory: FileManager.default.temporaryDirectory.path,
                    tokenSigningKey: .random(), masterKey: .random(), logLevel: .warning)
                try await configure(app, config: config)
                try await app.autoMigrate()
            } catch {
                try? await app.asyncShutdown()
                throw error
            }
            try await app.asyncShutdown()
            return name
        }
        template = task
        return try await task.value
    }

    func createDatabase(_ name: String, template: String?) async throws {
        try await Self.execute("CREATE DATABASE \(name)" + (template.map { " TEMPLATE \($0)" } ?? ""))
    }

    func dropDatabase(_ name: String) async throws {
        try await Self.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    /// Runs one statement on the admin connection (names are generated here, never user input).
    private static func execute(_ sql: String) async throws {
        let components = URLComponents(string: TestEngine.postgresAdminURL)!
        let configuration = PostgresConnection.Configuration(
            host: components.host ?? "127.0.0.1", port: components.port ?? 5432,
            username: components.user ?? "postgres", password: components.password,
            database: String(components.path.dropFirst()).isEmpty ? "postgres" : String(components.path.dropFirst()),
            tls: .disable)
        let connection = try await PostgresConnection.connect(
            configuration: configuration, id: 1, logger: Logger(label: "meander.tests.postgres"))
        do {
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "meander.tests.postgres"))
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }
}

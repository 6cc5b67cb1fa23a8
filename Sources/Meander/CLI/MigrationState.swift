import Fluent
import Foundation
import SQLKit
import Vapor

/// Whether the database a command opened holds Meander's schema: the one check of every command that needs it.
enum MigrationState {
    /// The database a command needs is absent or not migrated; says which database, and how to migrate it.
    struct NotReady: Error, CustomStringConvertible, Equatable {
        /// Where the database is (see `AppConfig.Database.location`).
        let location: String
        /// What is wrong with it.
        let problem: String

        var description: String {
            """
            meander: \(problem): \(location).
            Run 'meander migrate' with the same MEANDER_DATA_DIR and DATABASE_URL as the server first \
            (MEANDER_DATA_DIR defaults to .meander in the working directory).
            """
        }
    }

    /// The names of the migrations not applied yet, in order; nil when the database holds no migration log at all.
    static func pendingMigrations(on db: any Database) async throws -> [String]? {
        guard let sql = db as? any SQLDatabase else { return nil }
        let exists: Bool
        if sql.dialect.name == "sqlite" {
            exists =
                try await sql.raw("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_fluent_migrations'")
                .first() != nil
        } else {
            exists =
                try await sql.raw("SELECT to_regclass('_fluent_migrations')::text AS name").first()?
                .decodeNil(column: "name") == false
        }
        guard exists else { return nil }
        let applied = Set(try await MigrationLog.query(on: db).all(\.$name))
        return MigrationList.all.map(\.name).filter { !applied.contains($0) }
    }

    /// Throws `NotReady` unless every migration has been applied to the application's database.
    static func requireMigrated(_ app: Application) async throws {
        let location = app.meander.config.database.location
        switch try await pendingMigrations(on: app.db) {
        case nil:
            throw NotReady(location: location, problem: "the database has not been migrated (it holds no Meander tables)")
        case let pending? where !pending.isEmpty:
            throw NotReady(
                location: location,
                problem: "the database is not up to date (\(pending.count) of \(MigrationList.all.count) migrations pending)")
        default:
            return
        }
    }

    /// Throws `NotReady` when the SQLite file a command would open does not exist, before anything creates it.
    static func requireExistingFile(_ database: AppConfig.Database) throws {
        guard case .sqlite(let path) = database, !FileManager.default.fileExists(atPath: path) else { return }
        throw NotReady(location: database.location, problem: "there is no database")
    }
}

extension AppConfig.Database {
    /// Where the data is, for messages and the start-up log: the SQLite file, or PostgreSQL's host, port, database
    /// and user. Never the password.
    var location: String {
        switch self {
        case .sqlite(let path):
            return "SQLite file \(path)"
        case .postgres(let url):
            let components = URLComponents(string: url)
            let name = components?.path.trimmingCharacters(in: CharacterSet(charactersIn: "/")) ?? "?"
            let user = components?.user.map { " as \($0)" } ?? ""
            return "PostgreSQL database \(name) on \(components?.host ?? "?"):\(components?.port ?? 5432)\(user)"
        }
    }
}

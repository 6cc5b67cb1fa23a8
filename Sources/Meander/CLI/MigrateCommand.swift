import Fluent
import Vapor

/// `meander migrate [--revert]`: brings the schema up to date, or reverts every migration, without prompting.
struct MigrateCommand: OperatorCommand {
    struct Signature: CommandSignature {
        @Flag(name: "revert", help: "Revert every applied migration (drops all of Meander's tables).")
        var revert: Bool
    }

    var summary: String { "Create or update the database schema (--revert drops every table)." }

    var help: String {
        "Create or update the database schema, creating an SQLite file when there is none. --revert drops it."
    }

    var database: DatabaseNeed { .createsIfAbsent }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        let engine = app.meander.config.database.engineName
        if signature.revert {
            try await app.autoRevert()
            context.console.print("Reverted every migration on \(engine).")
        } else {
            try await app.autoMigrate()
            let applied = try await MigrationLog.query(on: app.db).count()
            context.console.print("Database is up to date on \(engine): \(applied) migration(s) applied.")
        }
    }
}

/// Fluent's own record of applied migrations, read to report progress.
final class MigrationLog: Model, @unchecked Sendable {
    static let schema = "_fluent_migrations"

    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String

    init() {}
}

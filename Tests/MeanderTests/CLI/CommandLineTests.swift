import Foundation
import Testing
import Vapor
import Yams

@testable import Meander

/// `meander` as an operator runs it, through the same `CommandLineRunner` as the executable: help, version, usage
/// errors, side effects, and commands against an absent or unmigrated database.
@Suite("Command line")
struct CommandLineTests {
    /// Every command path the help lists (`["bufdir", "export"]`), from the one catalogue.
    static let leafPaths: [[String]] = MeanderCommands.all.flatMap { name, command in
        (command as? any OperatorCommandGroup)?.subcommands.map { [name, $0.name] } ?? [[name]]
    }

    /// Every path with `--help`: groups too.
    static let helpPaths: [[String]] = MeanderCommands.all.map { [$0.name] } + leafPaths.filter { $0.count > 1 }

    /// The commands that need a database that is already there.
    static let pathsNeedingDatabase: [[String]] = leafPaths.filter { path in
        (MeanderCommands.command(at: path) as? any OperatorCommand)?.database != .createsIfAbsent
    }

    @Test("`meander` with no command prints the list of commands in a fixed order, exits 0 and serves nothing")
    func noArguments() async throws {
        // given
        let directory = try CommandLineRun.emptyDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }

        // when
        let bare = await CommandLineRun.run([], in: directory)
        let help = await CommandLineRun.run(["help"], in: directory)
        let flag = await CommandLineRun.run(["--help"], in: directory)

        // then
        #expect(bare.code == 0 && bare.errors.isEmpty)
        #expect(bare.output.hasPrefix("Usage: meander <command>"))
        #expect(
            bare.listedCommands == [
                "serve", "worker", "demo", "migrate", "seed", "audit verify", "bufdir export", "bufdir finalize",
                "bufdir rules", "bufdir rejudge", "jobs list", "jobs show", "jobs retry", "jobs cancel", "jobs run",
                "jobs probe", "notify", "keys status", "keys rotate", "keys rotate-data-key", "routes", "help", "version",
            ])
        #expect(help == bare)
        #expect(flag == bare)
        #expect(try CommandLineRun.contents(of: directory).isEmpty, "no data directory, key or database")
    }

    @Test("`meander --version` and `meander version` print the contract's version and exit 0")
    func version() async throws {
        // given
        let contract = try Yams.load(yaml: String(decoding: try OpenAPIDocument.bytes(), as: UTF8.self)) as? [String: Any]
        let version = try #require((contract?["info"] as? [String: Any])?["version"] as? String)

        // when
        let flag = await CommandLineRun.run(["--version"])
        let word = await CommandLineRun.run(["version"])

        // then
        #expect(flag.code == 0 && flag.output == "meander \(version)\n")
        #expect(word == flag)
    }

    @Test(
        "an unknown command or option is one plain line on standard error, exit 64",
        arguments: [
            (["frobnicate"], "meander: unknown command 'frobnicate'. Run 'meander help' for the list of commands."),
            (["bufdir", "frobnicate"], "meander: unknown command 'bufdir frobnicate'. Run 'meander help bufdir' for its commands."),
            (["help", "frobnicate"], "meander: unknown command 'frobnicate'. Run 'meander help' for the list of commands."),
            (["--frobnicate"], "meander: unknown option '--frobnicate'. Run 'meander help' for the list of commands."),
            (["keys"], "meander keys: which one? status, rotate, rotate-data-key. Run 'meander help keys' for what each does."),
        ])
    func unknownCommand(arguments: [String], expected: String) async throws {
        // given
        let directory = try CommandLineRun.emptyDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }

        // when
        let result = await CommandLineRun.run(arguments, in: directory)

        // then
        #expect(result.code == 64)
        #expect(result.errors == [expected])
        #expect(result.output.isEmpty)
        #expect(try CommandLineRun.contents(of: directory).isEmpty)
    }

    @Test("every command's --help (and `meander help <command>`) prints its usage and touches nothing", arguments: helpPaths)
    func helpHasNoSideEffects(path: [String]) async throws {
        // given
        let directory = try CommandLineRun.emptyDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }

        // when
        let flag = await CommandLineRun.run(path + ["--help"], in: directory)
        let word = await CommandLineRun.run(["help"] + path, in: directory)

        // then
        #expect(flag.code == 0 && flag.errors.isEmpty)
        let usage = flag.output.split(separator: "\n").first.map(String.init) ?? ""
        let expected = "Usage: meander \(path.joined(separator: " "))"
        #expect(usage == expected || usage.hasPrefix(expected + " "), "\(usage)")
        #expect(word == flag)
        #expect(try CommandLineRun.contents(of: directory).isEmpty, "no data directory, key or database")
    }

    @Test("the usage line shows required options and arguments without brackets, optional ones in brackets", arguments: leafPaths)
    func usageLine(path: [String]) async throws {
        // given
        let command = try #require(MeanderCommands.command(at: path) as? any OperatorCommand)
        let fields = CommandLineRun.fields(of: command)

        // when
        let result = await CommandLineRun.run(path + ["--help"])
        let usage = try #require(result.output.split(separator: "\n").first.map(String.init))

        // then
        #expect(usage.hasPrefix("Usage: meander \(path.joined(separator: " "))"))
        for field in fields {
            let required = field.kind == .argument || command.requiredOptions.contains(field.name)
            let shown = field.kind == .argument ? "<\(field.name)>" : "--\(field.name)"
            #expect(usage.contains(shown), "\(shown) in \(usage)")
            #expect(usage.contains("[" + shown) != required, "\(shown) in \(usage)")
        }
    }

    @Test("a command without its required options says which are missing, exit 64, before opening the database")
    func missingRequiredOptions() async throws {
        // given
        let directory = try CommandLineRun.emptyDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let migrated = await CommandLineRun.run(["migrate"], in: directory)
        try #require(migrated.code == 0, "\(migrated.errors)")

        // when
        let result = await CommandLineRun.run(["bufdir", "export", "--year", "2025"], in: directory)

        // then
        #expect(result.code == 64)
        #expect(
            result.errors == [
                "meander bufdir export: missing --org, --out. Run 'meander bufdir export --help' for its options."
            ])
    }

    @Test("a command that needs a database refuses an absent SQLite file, names it and creates nothing", arguments: pathsNeedingDatabase)
    func absentDatabase(path: [String]) async throws {
        // given: a directory with no .meander in it
        let directory = try CommandLineRun.emptyDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }

        // when
        let result = await CommandLineRun.run(path, in: directory)

        // then
        #expect(result.code == 1)
        let message = result.errors.joined(separator: "\n")
        #expect(message.contains("SQLite file \(directory)/.meander/meander.sqlite"))
        #expect(message.contains("meander migrate"))
        #expect(result.errors.count == 1 && !message.contains("audit_chain_heads"))
        #expect(try CommandLineRun.contents(of: directory).isEmpty, "no data directory, key or database")
    }

    @Test("a malformed setting is reported once, with exit code 78")
    func configurationError() async throws {
        // given
        let directory = try CommandLineRun.emptyDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }

        // when
        let result = await CommandLineRun.run(["audit", "verify"], in: directory, environment: ["DATABASE_URL": "foo://x"])

        // then
        #expect(result.code == 78)
        #expect(result.errors.count == 1 && result.errors[0].contains("DATABASE_URL"))
        #expect(try CommandLineRun.contents(of: directory).isEmpty)
    }

    @Test("a failing command prints its error once, as a plain line, and exits 1")
    func failingCommandReportsOnce() async throws {
        // given
        let directory = try CommandLineRun.emptyDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let migrated = await CommandLineRun.run(["migrate"], in: directory)
        try #require(migrated.code == 0, "\(migrated.errors)")
        let id = UUID().uuidString.lowercased()

        // when
        let result = await CommandLineRun.run(["keys", "rotate-data-key", id], in: directory)

        // then
        #expect(result.code == 1)
        #expect(result.errors == ["meander keys rotate-data-key: No organisation with id \(id)."])
        #expect(!result.output.contains("WARNING") && !result.output.contains(id))
    }
}

/// The one migration check of every command that needs Meander's tables, on the engine under test.
@Suite("Command line: the migration check")
struct MigrationCheckTests {
    static let pathsNeedingMigration: [[String]] = CommandLineTests.leafPaths.filter { path in
        (MeanderCommands.command(at: path) as? any OperatorCommand)?.database == .migrated
    }

    /// The path with a value for every required option and argument, so that only the database can stop it.
    static func arguments(for path: [String]) throws -> [String] {
        let command = try #require(MeanderCommands.command(at: path) as? any OperatorCommand)
        return path
            + CommandLineRun.fields(of: command).flatMap { field -> [String] in
                switch field.kind {
                case .argument: ["1"]
                case .option where command.requiredOptions.contains(field.name): ["--\(field.name)", "1"]
                default: []
                }
            }
    }

    @Test("a command run against an empty database names the database and `meander migrate`", arguments: pathsNeedingMigration)
    func emptyDatabase(path: [String]) async throws {
        try await withTestApp(migrate: false) { app in
            // given
            let arguments = try Self.arguments(for: path)

            // when
            let error = await #expect(throws: MigrationState.NotReady.self) {
                try await AuditFixtures.run(app, arguments, console: CapturingConsole())
            }

            // then
            #expect(error?.location == app.meander.config.database.location)
            #expect(error?.description.contains("meander migrate") == true)
            #expect(error?.description.contains("has not been migrated") == true)
        }
    }

    @Test("a database with a migration missing is not up to date")
    func pendingMigration() async throws {
        try await withTestApp { app in
            // given
            let last = try #require(MigrationList.all.last?.name)
            try await AuditFixtures.sql(app).delete(from: "_fluent_migrations").where("name", .equal, last).run()

            // when
            let error = await #expect(throws: MigrationState.NotReady.self) {
                try await AuditFixtures.run(app, ["audit", "verify"], console: CapturingConsole())
            }

            // then
            #expect(error?.problem.contains("1 of \(MigrationList.all.count) migrations pending") == true)
        }
    }

    @Test("a migrated database passes the check")
    func migratedDatabase() async throws {
        try await withTestApp { app in
            // when
            let pending = try await MigrationState.pendingMigrations(on: app.db)

            // then
            #expect(pending == [])
        }
    }

    @Test("the database's location never shows the password")
    func locationWithoutPassword() {
        // given
        let database = AppConfig.Database.postgres(url: "postgres://meander:hunter2@db.internal:5433/meander_prod")

        // when
        let location = database.location

        // then
        #expect(location == "PostgreSQL database meander_prod on db.internal:5433 as meander")
    }
}

/// Runs `meander` in-process, capturing what it prints.
enum CommandLineRun {
    struct Result: Equatable {
        var code: Int32
        var output: String
        var errors: [String]

        /// The first word or two of each line under "Commands:" in the list of commands.
        var listedCommands: [String] {
            let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
            guard let start = lines.firstIndex(of: "Commands:") else { return [] }
            return lines[(start + 1)...].prefix { !$0.isEmpty }.map { line in
                let name = line.trimmingCharacters(in: .whitespaces).components(separatedBy: "  ")[0]
                return name.components(separatedBy: " [")[0]
            }
        }
    }

    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        var all: [String] { lock.withLock { lines } }
        func append(_ line: String) { lock.withLock { lines.append(line) } }
    }

    static func run(
        _ arguments: [String], in directory: String = FileManager.default.temporaryDirectory.path,
        environment: [String: String] = [:]
    ) async -> Result {
        let console = CapturingConsole()
        let errors = Lines()
        let runner = CommandLineRunner(
            arguments: arguments, environment: environment, workingDirectory: directory, console: console,
            standardError: { errors.append($0) }, bootstrapLogging: { _, _ in })
        let code = await runner.run()
        return Result(code: code, output: console.text, errors: errors.all)
    }

    static func emptyDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("meander-cli-\(UUID())").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func contents(of directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory)
    }

    static func fields<C: OperatorCommand>(of command: C) -> [SignatureField] {
        SignatureField.all(of: C.Signature())
    }
}

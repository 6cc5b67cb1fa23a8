import Foundation
import Logging
import PostgresNIO
import Vapor

/// The `meander` executable: reads its arguments first, so that help, the version and a mistyped command need no
/// configuration and touch no file; then configures the application and runs the command, printing any error once.
///
/// Exit codes: 0 done, 1 the command failed, 64 (`EX_USAGE`) a mistake in the command line, 78 (`EX_CONFIG`) the
/// configuration is wrong.
public struct CommandLineRunner: Sendable {
    /// What `meander` was asked, without the executable's path.
    public var arguments: [String]
    public var environment: [String: String]
    public var workingDirectory: String
    /// Where the help and commands print; nil: the terminal.
    public var console: (any Console)?
    /// Where errors go (one line each).
    public var standardError: @Sendable (String) -> Void
    /// Installs the process's log handler once the configuration is known (at most once per process).
    public var bootstrapLogging: @Sendable (AppConfig, Logger.Level) -> Void

    public init(
        arguments: [String],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        workingDirectory: String = FileManager.default.currentDirectoryPath,
        console: (any Console)? = nil,
        standardError: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) },
        bootstrapLogging: @escaping @Sendable (AppConfig, Logger.Level) -> Void = { config, level in
            LoggingSystem.bootstrap(makeLogHandler(format: config.logFormat, level: max(level, config.logLevel)))
        }
    ) {
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.console = console
        self.standardError = standardError
        self.bootstrapLogging = bootstrapLogging
    }

    /// What the command line asks for.
    enum Invocation: Equatable {
        /// The list of commands (an empty path), or one command's or group's options.
        case help([String])
        case version
        /// Run the command at this path (`["bufdir", "export"]`); its options are still in the arguments.
        case run([String])
    }

    static let helpFlags: Set<String> = ["--help", "-h"]

    /// Reads what is asked from the arguments alone.
    static func plan(_ arguments: [String]) throws(UsageError) -> Invocation {
        guard let first = arguments.first else { return .help([]) }
        if helpFlags.contains(first) { return .help([]) }
        if first == "help" {
            let path = Array(arguments.dropFirst())
            guard path.isEmpty || MeanderCommands.command(at: path) != nil else {
                throw .unknownCommand(path.joined(separator: " "))
            }
            return .help(path)
        }
        if first == "version" || first == "--version" {
            guard arguments.count == 1 else { throw UsageError("meander: \(first) takes no arguments.") }
            return .version
        }
        if first.hasPrefix("-") {
            throw UsageError("meander: unknown option '\(first)'. Run 'meander help' for the list of commands.")
        }
        guard let command = MeanderCommands.command(at: [first]) else { throw .unknownCommand(first) }
        var path = [first]
        if let group = command as? any OperatorCommandGroup {
            let names = group.subcommands.map(\.name)
            guard let second = arguments.dropFirst().first, !second.hasPrefix("-") else {
                if let second = arguments.dropFirst().first, helpFlags.contains(second) { return .help(path) }
                throw UsageError(
                    "meander \(first): which one? \(names.joined(separator: ", ")). "
                        + "Run 'meander help \(first)' for what each does.")
            }
            guard names.contains(second) else { throw .unknownCommand("\(first) \(second)") }
            path.append(second)
        }
        if arguments.dropFirst(path.count).contains(where: helpFlags.contains) { return .help(path) }
        return .run(path)
    }

    /// Runs the command line and returns the process's exit code.
    public func run() async -> Int32 {
        var env: Environment
        let level: Logger.Level
        let invocation: Invocation
        do {
            // Vapor's own `--env` and `--log` options come out first, as Vapor's start-up would take them.
            env = try Environment.detect(arguments: ["meander"] + arguments)
            level = try Logger.Level.detect(from: &env)
            invocation = try Self.plan(env.commandInput.arguments)
        } catch {
            return report(error, path: [])
        }
        let console = self.console ?? Terminal()
        switch invocation {
        case .version:
            console.print("meander \(MeanderVersion.current)")
            return 0
        case .help(let path):
            var context = CommandContext(console: console, input: CommandInput(arguments: ["meander"]))
            context.input.executablePath = ["meander"] + path
            guard let command = MeanderCommands.command(at: path) else {
                MeanderCommands.printHelp(on: console)
                return 0
            }
            do {
                try command.outputHelp(using: &context)
            } catch {
                return report(error, path: path)
            }
            return 0
        case .run(let path):
            return await run(path, env: env, level: level)
        }
    }

    private func run(_ path: [String], env: Environment, level: Logger.Level) async -> Int32 {
        let need = (MeanderCommands.command(at: path) as? any OperatorCommand)?.database ?? .createsIfAbsent
        if need != .createsIfAbsent, let database = AppConfig.database(from: environment, workingDirectory: workingDirectory) {
            do {
                try MigrationState.requireExistingFile(database)
            } catch {
                return report(error, path: path)
            }
        }
        let config: AppConfig
        do {
            config = try AppConfig.load(from: environment, workingDirectory: workingDirectory)
        } catch {
            return report(error, path: path)
        }
        bootstrapLogging(config, level)
        let app: Application
        do {
            app = try await Application.make(env)
        } catch {
            return report(error, path: path)
        }
        if let console = self.console { app.console = console }
        var code: Int32 = 0
        do {
            try await configure(app, config: config)
            // `Application.execute()` without its own report of the error: the runner prints it once.
            try await app.startup()
            if let running = app.running {
                try await running.onStop.get()
                app.logger.notice("Meander is stopping: finishing running requests and jobs")
            }
        } catch {
            code = report(error, path: path)
        }
        let served = app.running != nil
        try? await app.asyncShutdown()
        if served {
            Logger(label: "meander").notice("Meander stopped")
        }
        return code
    }

    /// Prints an error once, as one plain message, and returns the exit code for it.
    func report(_ error: any Error, path: [String]) -> Int32 {
        let executable = (["meander"] + path).joined(separator: " ")
        let (message, code): (String?, Int32) =
            switch error {
            case let error as UsageError: (error.description, 64)
            case let error as CommandError: (Self.message(for: error, executable: executable), 64)
            case let error as ConfigError: (error.description, 78)
            case is any ReportedError: (nil, 1)
            case let error as MigrationState.NotReady: (error.description, 1)
            case let error as AppError: ("\(executable): \(error.detail ?? error.code.rawValue)", 1)
            case let error as PSQLError: ("\(executable): PostgreSQL: \(Self.message(for: error))", 1)
            default: ("\(executable): \(String(describing: error))", 1)
            }
        if let message { standardError(message) }
        return code
    }

    static func message(for error: CommandError, executable: String) -> String {
        let more = "Run '\(executable) --help' for its options."
        return switch error {
        case .unknownCommand(let name, _): UsageError.unknownCommand(name).description
        case .missingCommand: "\(executable): which one? Run 'meander help' for the list of commands."
        case .missingRequiredArgument(let name): "\(executable): missing <\(name)>. \(more)"
        case .invalidArgumentType(let name, let type): "\(executable): <\(name)> must be \(Self.kind(type)). \(more)"
        case .invalidOptionType(let name, let type): "\(executable): --\(name) must be \(Self.kind(type)). \(more)"
        case .unknownInput(let input): "\(executable): unexpected '\(input)'. \(more)"
        }
    }

    private static func kind(_ type: any Any.Type) -> String {
        switch type {
        case is Int.Type, is Int?.Type, is UInt64.Type, is UInt64?.Type: "a whole number"
        default: "a \(type)"
        }
    }

    /// The server's message and SQLSTATE, or what failed on the way to the server; never a bound value.
    static func message(for error: PSQLError) -> String {
        if let info = error.serverInfo, let message = info[.message] {
            return "\(message) (SQLSTATE \(info[.sqlState] ?? "?"))"
        }
        return "\(error.code)" + (error.underlying.map { ": \($0)" } ?? "")
    }
}

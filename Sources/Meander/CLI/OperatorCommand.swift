import Vapor

/// A `meander` command or group of commands, as `meander help` lists it.
protocol ListedCommand: AnyAsyncCommand {
    /// One line for the list of commands.
    var summary: String { get }
}

/// What a command needs of the database before it runs.
enum DatabaseNeed: Sendable, Equatable {
    /// It creates the database when there is none, and migrates it itself or needs no schema (`migrate`, `seed`,
    /// `demo`, `serve`).
    case createsIfAbsent
    /// It opens the database but reads no table (`routes`): an absent SQLite file is refused, nothing is created.
    case existing
    /// It reads and writes Meander's tables: the database must exist and have every migration applied.
    case migrated
}

/// A `meander` command: an async command that says how the help shows it and what it needs before it runs.
///
/// ConsoleKit knows no required options: a command names its own in `requiredOptions`, the help shows them without
/// brackets, and a run without them fails with a usage error before any work.
protocol OperatorCommand: AsyncCommand, ListedCommand {
    /// Long names of the options that must be given.
    var requiredOptions: [String] { get }
    /// What the command needs of the database (default: a migrated one).
    var database: DatabaseNeed { get }
}

extension OperatorCommand {
    var requiredOptions: [String] { [] }
    var database: DatabaseNeed { .migrated }

    /// ConsoleKit's parsing, then the required options and the database check, then the command.
    func run(using context: inout CommandContext) async throws {
        let signature = try Signature(from: &context.input)
        guard context.input.arguments.isEmpty else {
            throw CommandError.unknownInput(context.input.arguments.joined(separator: " "))
        }
        let fields = SignatureField.all(of: signature)
        let missing = requiredOptions.filter { name in !(fields.first { $0.name == name }?.isGiven ?? false) }
        if !missing.isEmpty {
            throw UsageError(
                "\(context.input.executable): missing \(missing.map { "--\($0)" }.joined(separator: ", ")). "
                    + "Run '\(context.input.executable) --help' for its options.")
        }
        if database == .migrated {
            try await MigrationState.requireMigrated(context.application)
        }
        try await run(using: context, signature: signature)
    }

    func outputHelp(using context: inout CommandContext) {
        let fields = SignatureField.all(of: Signature())
        let required = Set(requiredOptions)
        var usage = [context.input.executable]
        for field in fields where field.kind == .argument {
            usage.append("<\(field.name)>")
        }
        for field in fields where field.kind == .option && required.contains(field.name) {
            usage.append("--\(field.name) <\(field.name)>")
        }
        for field in fields where field.kind == .option && !required.contains(field.name) {
            usage.append("[--\(field.name) <\(field.name)>]")
        }
        for field in fields where field.kind == .flag {
            usage.append("[--\(field.name)]")
        }
        let console = context.console
        console.print("Usage: " + usage.joined(separator: " "))
        console.print()
        console.print(help)
        let width = (fields.map { $0.label.count }.max() ?? 0) + 2
        for (title, kinds) in [("Arguments:", [SignatureField.Kind.argument]), ("Options:", [.option, .flag])] {
            let listed = fields.filter { kinds.contains($0.kind) }
            guard !listed.isEmpty else { continue }
            console.print()
            console.print(title)
            for field in listed {
                let note = field.kind == .argument || required.contains(field.name) ? " (required)" : ""
                console.print("  " + field.label.padding(toLength: width, withPad: " ", startingAt: 0) + field.help + note)
            }
        }
    }
}

/// A `meander` group of commands (`audit`, `bufdir`, `keys`), listed in a fixed order.
protocol OperatorCommandGroup: AsyncCommandGroup, ListedCommand {
    /// The subcommands, in the order the help lists them.
    var subcommands: [(name: String, command: any OperatorCommand)] { get }
}

extension OperatorCommandGroup {
    var commands: [String: any AnyAsyncCommand] {
        Dictionary(uniqueKeysWithValues: subcommands.map { ($0.name, $0.command as any AnyAsyncCommand) })
    }

    func outputHelp(using context: inout CommandContext) throws {
        if let name = context.input.arguments.first, !name.hasPrefix("-") {
            context.input.arguments.removeFirst()
            guard let command = subcommands.first(where: { $0.name == name })?.command else {
                throw UsageError.unknownCommand((context.input.executablePath.dropFirst() + [name]).joined(separator: " "))
            }
            context.input.executablePath.append(name)
            return try command.outputHelp(using: &context)
        }
        let executable = context.input.executable
        let console = context.console
        console.print("Usage: \(executable) <command>")
        console.print()
        console.print(help)
        console.print()
        console.print("Commands:")
        let width = (subcommands.map(\.name.count).max() ?? 0) + 2
        for (name, command) in subcommands {
            console.print("  " + name.padding(toLength: width, withPad: " ", startingAt: 0) + command.summary)
        }
        console.print()
        console.print("Run '\(executable) <command> --help' for a command's options.")
    }
}

/// A mistake in how a command was called: printed as one line, exit code 64 (`EX_USAGE`).
struct UsageError: Error, CustomStringConvertible, Equatable {
    let description: String

    init(_ description: String) {
        self.description = description
    }

    /// `command` is the whole path (`bufdir frobnicate`); the hint names the list it should have come from.
    static func unknownCommand(_ command: String) -> UsageError {
        let words = command.split(separator: " ")
        let list = words.count > 1 ? "'meander help \(words[0])' for its commands" : "'meander help' for the list of commands"
        return UsageError("meander: unknown command '\(command)'. Run \(list).")
    }
}

/// An error the command has already told the operator about: the runner prints nothing more, it only exits 1.
protocol ReportedError: Error {}

/// One `@Option`, `@Argument` or `@Flag` of a command's signature, read by reflection for the help.
struct SignatureField {
    enum Kind: Equatable { case argument, option, flag }

    let kind: Kind
    let name: String
    let short: Character?
    let help: String
    /// After parsing: whether the input gave it (an option with a value, a flag that is set, any argument).
    let isGiven: Bool

    var label: String {
        switch kind {
        case .argument: "<\(name)>"
        case .option, .flag: "--\(name)" + (short.map { ", -\($0)" } ?? "")
        }
    }

    static func all(of signature: some CommandSignature) -> [SignatureField] {
        Mirror(reflecting: signature).children.compactMap { ($0.value as? any SignatureFieldSource)?.field }
    }
}

/// ConsoleKit's property wrappers, described for the help (their own descriptions are internal to ConsoleKit).
protocol SignatureFieldSource {
    var field: SignatureField { get }
}

extension Option: SignatureFieldSource {
    var field: SignatureField {
        SignatureField(
            kind: .option, name: name, short: short, help: help, isGiven: initialized && wrappedValue != nil)
    }
}

extension Argument: SignatureFieldSource {
    var field: SignatureField {
        SignatureField(kind: .argument, name: name, short: nil, help: help, isGiven: initialized)
    }
}

extension Flag: SignatureFieldSource {
    var field: SignatureField {
        SignatureField(kind: .flag, name: name, short: short, help: help, isGiven: initialized && wrappedValue)
    }
}

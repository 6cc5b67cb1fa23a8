import Vapor

/// Meander's version, as `meander --version` prints it and the contract's `info.version` states it.
public enum MeanderVersion {
    public static let current = "0.1.0"
}

/// Every `meander` command, in the order `meander help` lists them.
enum MeanderCommands {
    static var all: [(name: String, command: any ListedCommand)] {
        [
            ("serve", ServeHTTPCommand()),
            ("worker", WorkerCommand()),
            ("demo", DemoCommand()),
            ("migrate", MigrateCommand()),
            ("seed", SeedCommand()),
            ("audit", AuditCommand()),
            ("bufdir", BufdirCommand()),
            ("jobs", JobsCommand()),
            ("notify", NotifyCommand()),
            ("keys", KeysCommand()),
            ("routes", RoutesListCommand()),
        ]
    }

    /// Registers every command on the application, in place of Vapor's `serve` and `routes`, with no default
    /// command: `meander` without a command prints the help instead of serving.
    static func register(on app: Application) {
        for (name, command) in all {
            app.asyncCommands.use(command, as: name)
        }
        app.asyncCommands.defaultCommand = nil
    }

    /// The command that `path` names (`["bufdir", "export"]`).
    static func command(at path: [String]) -> (any ListedCommand)? {
        guard let first = path.first, let top = all.first(where: { $0.name == first })?.command else { return nil }
        guard path.count > 1 else { return top }
        guard path.count == 2, let group = top as? any OperatorCommandGroup else { return nil }
        return group.subcommands.first { $0.name == path[1] }?.command
    }

    /// The whole list, as `meander`, `meander help` and `meander --help` print it.
    static func printHelp(on console: any Console) {
        var rows: [(String, String)] = []
        for (name, command) in all {
            if let group = command as? any OperatorCommandGroup {
                rows += group.subcommands.map { ("\(name) \($0.name)", $0.command.summary) }
            } else {
                rows.append((name, command.summary))
            }
        }
        rows.append(("help [<command>]", "Show this list, or the options of one command."))
        rows.append(("version", "Print the version (also --version)."))
        let width = (rows.map(\.0.count).max() ?? 0) + 2
        console.print("Usage: meander <command> [options]")
        console.print()
        console.print(
            "Meander \(MeanderVersion.current): the API and operator commands for peer-mentor organisations. Every "
                + "command reads the same environment as the server (MEANDER_DATA_DIR, DATABASE_URL, the keys).")
        console.print()
        console.print("Commands:")
        for (name, summary) in rows {
            console.print("  " + name.padding(toLength: width, withPad: " ", startingAt: 0) + summary)
        }
        console.print()
        console.print("Run 'meander help <command>' or 'meander <command> --help' for a command's options.")
    }
}

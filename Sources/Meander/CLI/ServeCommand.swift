import Vapor

/// `meander serve [--hostname H] [--port P]`: Vapor's server, with a start-up line that says where the data is.
struct ServeHTTPCommand: OperatorCommand {
    struct Signature: CommandSignature {
        @Option(name: "hostname", short: "H", help: "Interface to listen on (default 127.0.0.1).")
        var hostname: String?

        @Option(name: "port", short: "p", help: "Port to listen on (default 8080).")
        var port: Int?
    }

    var summary: String { "Serve the HTTP API (default 127.0.0.1:8080) until SIGINT or SIGTERM." }

    var help: String {
        """
        Serve the HTTP API and the OpenAPI document, and run job workers in the same process (MEANDER_WORKERS=0 \
        turns them off; 'meander worker' runs them alone). Stops gracefully on SIGINT or SIGTERM: running requests \
        and jobs finish first, or jobs are given back to the queue. Run 'meander migrate' before the first start.
        """
    }

    /// The server makes the SQLite file when there is none; an unmigrated database is logged, not refused, so that
    /// app nodes may start before the migration of a deployment has run.
    var database: DatabaseNeed { .createsIfAbsent }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        var arguments = ["meander"]
        if let hostname = signature.hostname { arguments += ["--hostname", hostname] }
        if let port = signature.port { arguments += ["--port", String(port)] }
        var serveContext = context
        serveContext.input = CommandInput(arguments: arguments)
        try await app.servers.asyncCommand.run(using: &serveContext)

        let config = app.meander.config
        let host = signature.hostname ?? app.http.server.configuration.hostname
        let port = app.http.server.shared.localAddress?.port ?? signature.port ?? app.http.server.configuration.port
        app.logger.notice(
            "Meander \(MeanderVersion.current) serving on \(host):\(port) with \(config.database.location)",
            metadata: config.logFormat == .json
                ? [
                    "host": .string(host), "port": .stringConvertible(port),
                    "engine": .string(config.database.engineName), "database": .string(config.database.location),
                ]
                : nil)
        switch try? await MigrationState.pendingMigrations(on: app.db) {
        case nil:
            app.logger.warning("The database holds no Meander tables: run 'meander migrate' with the same settings.")
        case let pending? where !pending.isEmpty:
            app.logger.warning(
                "The database is not up to date (\(pending.count) migrations pending): run 'meander migrate'; job workers stay off until then."
            )
        default:
            app.meander.jobs.startWorkers()
        }
    }
}

/// `meander routes`: every HTTP route, one per line.
struct RoutesListCommand: OperatorCommand {
    struct Signature: CommandSignature {}

    var summary: String { "List every HTTP route." }

    var help: String { "List every HTTP route the server answers, one per line: method and path (:name is a parameter)." }

    var database: DatabaseNeed { .existing }

    func run(using context: CommandContext, signature: Signature) async throws {
        let routes = context.application.routes.all
        let width = (routes.map(\.method.rawValue.count).max() ?? 0) + 1
        for route in routes {
            let path = "/" + route.path.map(\.description).joined(separator: "/")
            context.console.print(route.method.rawValue.padding(toLength: width, withPad: " ", startingAt: 0) + path)
        }
    }
}

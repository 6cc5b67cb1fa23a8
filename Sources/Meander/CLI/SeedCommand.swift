import Fluent
import Vapor

/// `meander seed --size small|large [--seed N]`: migrates, then loads the deterministic demo data set.
struct SeedCommand: OperatorCommand {
    struct Signature: CommandSignature {
        @Option(name: "size", help: "small (default, seconds) or large (40 chapters, 1,000,000 activities).")
        var size: String?

        @Option(name: "seed", help: "Random seed; the same seed gives the same data (default 2026).")
        var seed: UInt64?
    }

    var summary: String { "Migrate, then load the deterministic demo data set into an empty database." }

    var help: String { "Migrate, then load the deterministic demo data set into an empty database." }

    var database: DatabaseNeed { .createsIfAbsent }

    func run(using context: CommandContext, signature: Signature) async throws {
        guard let size = DemoSize(rawValue: signature.size ?? "small") else {
            throw AppError(.invalidParameter, "--size must be small or large, not '\(signature.size ?? "")'.")
        }
        let app = context.application
        try await app.autoMigrate()
        guard try await DemoData.isDatabaseEmpty(app.db) else {
            throw AppError(
                .conflict, "the database already holds organisations; demo data is only loaded into an empty database.")
        }
        let summary = try await DemoData.load(
            into: app.db, size: size, seed: signature.seed ?? DemoDataGenerator.defaultSeed, logger: app.logger,
            password: app.meander.config.demoPassword)
        context.console.print(summary.description)
    }
}

/// `meander demo`: migrate, load the demo data if the database is empty, then serve and print the URL.
struct DemoCommand: OperatorCommand {
    struct Signature: CommandSignature {
        @Option(name: "hostname", short: "H", help: "Interface to listen on (default 127.0.0.1).")
        var hostname: String?

        @Option(name: "port", short: "p", help: "Port to listen on (default 8080).")
        var port: Int?
    }

    var summary: String { "Migrate, load the demo data if the database is empty, and serve it." }

    var help: String {
        "Migrate, load the small demo data set if the database is empty, then serve it and print the demo logins."
    }

    var database: DatabaseNeed { .createsIfAbsent }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        try await app.autoMigrate()
        if try await DemoData.isDatabaseEmpty(app.db) {
            context.console.print("Loading the small demo data set…")
            let summary = try await DemoData.load(
                into: app.db, size: .small, seed: DemoDataGenerator.defaultSeed, logger: app.logger,
                password: app.meander.config.demoPassword)
            context.console.print(summary.description)
        } else {
            context.console.print("The database already holds data; not loading the demo data set again.")
        }
        let hostname = signature.hostname ?? "127.0.0.1"
        let port = signature.port ?? 8080
        var serveContext = context
        serveContext.input = CommandInput(arguments: ["meander", "--hostname", hostname, "--port", String(port)])
        guard let serve = app.asyncCommands.commands["serve"] else {
            throw AppError(.internalError, "The serve command is not registered.")
        }
        try await serve.run(using: &serveContext)
        let shownHost = hostname.contains(":") ? "[\(hostname)]" : hostname
        context.console.print("")
        context.console.print("Meander is running at http://\(shownHost):\(port)/")
        context.console.print("  API contract: http://\(shownHost):\(port)/openapi.yaml")
        context.console.print("  Health:       http://\(shownHost):\(port)/health/ready")
        context.console.print("  Data:         \(app.meander.config.dataDirectory)")
        context.console.print("")
        context.console.print("Demo logins, all with the password \(app.meander.config.demoPassword):")
        for login in DemoData.logins {
            let role = login.role.padding(toLength: 15, withPad: " ", startingAt: 0)
            context.console.print("  \(login.email.padding(toLength: 34, withPad: " ", startingAt: 0)) \(role) \(login.organization)")
        }
        context.console.print("Sign in: curl -s http://\(shownHost):\(port)/api/v1/auth/login -H 'Content-Type: application/json' \\")
        context.console.print("  -d '{\"email\":\"\(DemoData.logins[1].email)\",\"password\":\"\(app.meander.config.demoPassword)\"}'")
        context.console.print("Press Ctrl-C to stop.")
    }
}

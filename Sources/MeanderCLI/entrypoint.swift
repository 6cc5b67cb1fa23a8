import Foundation
import Logging
import Meander
import NIOCore
import NIOPosix
import Vapor

/// The `meander` executable: boots logging, reads the configuration and hands over to the library.
@main
enum Entrypoint {
    static func main() async throws {
        // Swift concurrency runs on NIO's event loops instead of a second pool of threads: a request's handler and
        // its database I/O then stay on one thread instead of hopping between two pools on every await (on the
        // logging path that hopping was the largest single cost, see scripts/bench-activities). Must come before
        // any other async work. Nothing here blocks an event loop with `.wait()`.
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let config: AppConfig
        do {
            config = try AppConfig.load()
        } catch {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            exit(78)  // EX_CONFIG
        }
        var env = try Environment.detect()
        try LoggingSystem.bootstrap(from: &env) { level in
            makeLogHandler(format: config.logFormat, level: max(level, config.logLevel))
        }
        let app = try await Application.make(env)
        do {
            try await configure(app, config: config)
            try await app.execute()
        } catch {
            app.logger.report(error: error)
            try? await app.asyncShutdown()
            exit(1)
        }
        try await app.asyncShutdown()
    }
}

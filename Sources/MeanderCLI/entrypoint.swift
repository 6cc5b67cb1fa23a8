import Foundation
import Meander
import NIOCore
import NIOPosix

/// The `meander` executable: hands its arguments to the library's `CommandLineRunner` and exits with its code.
@main
enum Entrypoint {
    static func main() async {
        // Swift concurrency runs on NIO's event loops instead of a second pool of threads: a request's handler and
        // its database I/O then stay on one thread instead of hopping between two pools on every await (on the
        // logging path that hopping was the largest single cost, see scripts/bench-activities). Must come before
        // any other async work. Nothing here blocks an event loop with `.wait()`.
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        exit(await CommandLineRunner(arguments: Array(CommandLine.arguments.dropFirst())).run())
    }
}

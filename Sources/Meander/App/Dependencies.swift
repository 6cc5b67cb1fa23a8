import Foundation
import NIOConcurrencyHelpers

/// The side effects a test must be able to control: what time it is, and which id a new record gets.
///
/// One value per application (`Meander.dependencies`), live in `meander serve` and replaceable in tests, in the style
/// of isowords' `ServerEnvironment` and SPI's `Dependencies`: a struct of `@Sendable` closures, no global state.
/// Handlers, services, jobs and CLI commands read the time and new ids from it, never from `Date()` or `UUID()`.
public struct AppDependencies: Sendable {
    /// Now, and waiting.
    public var clock: AppClock
    /// New ids.
    public var uuid: UUIDSource

    public init(clock: AppClock, uuid: UUIDSource) {
        self.clock = clock
        self.uuid = uuid
    }

    /// The machine's clock and random (version 4) ids.
    public static let live = AppDependencies(clock: .live, uuid: .live)

    /// The time now, by the app's clock.
    public var now: Date { clock.now() }
}

/// The app's clock: the time now, and a sleep that a test clock turns into moving time on.
public struct AppClock: Sendable {
    public var now: @Sendable () -> Date
    public var sleep: @Sendable (Duration) async throws -> Void

    public init(now: @escaping @Sendable () -> Date, sleep: @escaping @Sendable (Duration) async throws -> Void) {
        self.now = now
        self.sleep = sleep
    }

    public static let live = AppClock(now: { Date() }, sleep: { try await Task.sleep(for: $0) })

    /// A clock that always reads `date` and never waits.
    public static func fixed(_ date: Date) -> AppClock {
        AppClock(now: { date }, sleep: { _ in await Task.yield() })
    }
}

/// A clock that stands still until a test moves it. `clock.sleep` moves it on by the time slept and returns at once,
/// so a retry's backoff or a hold's expiry is reached without waiting.
public final class TestClock: Sendable {
    private let current: NIOLockedValueBox<Date>

    public init(_ start: Date) { current = NIOLockedValueBox(start) }

    public var now: Date { current.withLockedValue { $0 } }

    public func advance(by duration: Duration) {
        current.withLockedValue { $0 = $0.addingTimeInterval(duration.timeInterval) }
    }

    public func set(_ date: Date) { current.withLockedValue { $0 = date } }

    public var clock: AppClock {
        AppClock(
            now: { [self] in now },
            sleep: { [self] duration in
                advance(by: duration)
                await Task.yield()
            })
    }
}

/// Where new ids come from.
public struct UUIDSource: Sendable {
    public var next: @Sendable () -> UUID

    public init(next: @escaping @Sendable () -> UUID) { self.next = next }

    public func callAsFunction() -> UUID { next() }

    public static let live = UUIDSource { UUID() }

    /// `00000000-0000-0000-0000-000000000001`, then `…002`, and so on: ids a golden file can hold. Each call of this
    /// function starts its own sequence.
    public static func incrementing(from first: UInt64 = 1) -> UUIDSource {
        let counter = NIOLockedValueBox(first)
        return UUIDSource {
            let value = counter.withLockedValue { value -> UInt64 in
                defer { value += 1 }
                return value
            }
            return UUID(uuidString: String(format: "00000000-0000-0000-0000-%012llx", value))!
        }
    }
}

extension Duration {
    /// The duration in seconds, as Foundation's dates count it.
    var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}

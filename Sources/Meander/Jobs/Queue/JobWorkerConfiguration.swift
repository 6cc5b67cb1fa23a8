import Foundation

/// How this node's workers run: `MEANDER_WORKERS`, `MEANDER_QUEUES`, `MEANDER_JOB_POLL_MS`,
/// `MEANDER_JOB_LEASE_SECONDS` and `MEANDER_JOB_SHUTDOWN_GRACE_SECONDS`.
public struct JobWorkerConfiguration: Sendable, Equatable {
    /// Jobs run at once per queue on this node; a queue missing or at 0 is not served here.
    public var concurrency: [String: Int]
    /// How long an idle queue waits before it looks again (a local enqueue wakes it sooner).
    public var pollIntervalMilliseconds: Int = 500
    /// A claim's lease; the heartbeat renews it every third of it. A job whose worker died is taken again after it.
    public var lease: TimeInterval = 60
    /// How often expired leases are swept and schedules looked at, in seconds.
    public var sweepInterval: Int = 5
    /// At shutdown, how long running jobs may take to finish before they are given back, in seconds.
    public var shutdownGrace: Int = 25

    /// The default: default 4, exports 1, notifications 8.
    public static let standard = JobWorkerConfiguration(concurrency: [
        JobQueues.default: 4, JobQueues.exports: 1, JobQueues.notifications: 8,
    ])

    /// No workers (`MEANDER_WORKERS=0`): this node only enqueues.
    public static let off = JobWorkerConfiguration(concurrency: [:])

    public init(concurrency: [String: Int]) {
        self.concurrency = concurrency
    }

    /// Whether this node runs any worker.
    public var isEnabled: Bool { concurrency.values.contains { $0 > 0 } }

    /// Every problem of the variables, each message starting with the variable's name.
    public struct Problems: Error, Equatable {
        public var messages: [String]
    }

    /// Reads the variables. `MEANDER_WORKERS` is `0` (no workers on this node) or a number that every queue gets;
    /// `MEANDER_QUEUES` (`default=4,exports=1,notifications=8`) sets queues one by one, over `MEANDER_WORKERS`.
    public static func parse(environment: [String: String]) throws(Problems) -> JobWorkerConfiguration {
        var messages: [String] = []
        func value(_ key: String) -> String? {
            guard let raw = environment[key]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            return raw
        }
        func number(_ key: String, in range: ClosedRange<Int>) -> Int? {
            guard let raw = value(key) else { return nil }
            guard let number = Int(raw), range.contains(number) else {
                messages.append("\(key): '\(raw)' is not a whole number between \(range.lowerBound) and \(range.upperBound)")
                return nil
            }
            return number
        }
        var configuration = JobWorkerConfiguration.standard
        if let workers = number("MEANDER_WORKERS", in: 0...256) {
            configuration.concurrency = Dictionary(uniqueKeysWithValues: JobQueues.all.map { ($0, workers) })
        }
        if let raw = value("MEANDER_QUEUES") {
            for item in raw.split(separator: ",") {
                let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, JobQueues.all.contains(parts[0]), let count = Int(parts[1]), (0...256).contains(count)
                else {
                    messages.append(
                        "MEANDER_QUEUES: '\(item)' is not QUEUE=COUNT with QUEUE one of \(JobQueues.all.joined(separator: ", ")) and COUNT 0-256"
                    )
                    continue
                }
                configuration.concurrency[parts[0]] = count
            }
        }
        if let poll = number("MEANDER_JOB_POLL_MS", in: 10...60_000) { configuration.pollIntervalMilliseconds = poll }
        if let lease = number("MEANDER_JOB_LEASE_SECONDS", in: 5...3600) { configuration.lease = TimeInterval(lease) }
        if let grace = number("MEANDER_JOB_SHUTDOWN_GRACE_SECONDS", in: 0...3600) { configuration.shutdownGrace = grace }
        guard messages.isEmpty else { throw Problems(messages: messages) }
        return configuration
    }
}

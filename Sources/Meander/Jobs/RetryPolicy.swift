import Foundation

/// When a failed job runs again: exponential backoff from `base`, capped at `cap`, with "full jitter" (a uniformly
/// random delay up to the backoff, as AWS's architecture blog recommends), so that jobs failing together do not
/// retry together. After `maxAttempts` runs the job is discarded.
struct RetryPolicy: Sendable, Equatable {
    var maxAttempts: Int
    var base: TimeInterval
    var cap: TimeInterval

    static let standard = RetryPolicy(maxAttempts: 5, base: 15, cap: 60 * 60)

    /// The longest wait after the `attempt`-th run (1-based) failed: `base × 2^(attempt − 1)`, at most `cap`.
    func ceiling(afterAttempt attempt: Int) -> TimeInterval {
        let exponent = max(0, min(attempt - 1, 62))
        return min(cap, base * pow(2, Double(exponent)))
    }

    /// The wait after the `attempt`-th run failed, `nil` when no attempt is left. `random` gives a number in
    /// `0..<1` (the app's source in production; a fixed one in tests). Never under one second, so that a retry is
    /// never immediate.
    func delay(afterAttempt attempt: Int, random: () -> Double) -> TimeInterval? {
        guard attempt < maxAttempts else { return nil }
        return max(1, ceiling(afterAttempt: attempt) * min(max(random(), 0), 1))
    }
}

import Foundation
import Testing

@testable import Meander

@Suite("Retry policy")
struct RetryPolicyTests {
    let policy = RetryPolicy(maxAttempts: 5, base: 15, cap: 100)

    @Test("the ceiling doubles from the base and stops at the cap")
    func ceilings() {
        #expect((1...6).map { policy.ceiling(afterAttempt: $0) } == [15, 30, 60, 100, 100, 100])
        #expect(policy.ceiling(afterAttempt: 10_000) == 100)
    }

    @Test("full jitter: the wait is the ceiling times the random number, at least a second")
    func jitter() {
        #expect(policy.delay(afterAttempt: 2, random: { 0.5 }) == 15)
        #expect(policy.delay(afterAttempt: 3, random: { 0.999 }) == 60 * 0.999)
        #expect(policy.delay(afterAttempt: 1, random: { 0 }) == 1)
    }

    @Test("no retry after the last attempt")
    func exhausted() {
        #expect(policy.delay(afterAttempt: 4, random: { 0.5 }) != nil)
        #expect(policy.delay(afterAttempt: 5, random: { 0.5 }) == nil)
        #expect(policy.delay(afterAttempt: 6, random: { 0.5 }) == nil)
    }

    @Test("random waits spread over the whole range, never above the ceiling")
    func spread() {
        var generator = SystemRandomNumberGenerator()
        let waits = (0..<2_000).compactMap { _ in
            policy.delay(afterAttempt: 3, random: { Double.random(in: 0..<1, using: &generator) })
        }
        #expect(waits.count == 2_000)
        #expect(waits.allSatisfy { (1...60).contains($0) })
        // Both halves of the range are used: jitter spreads retries out.
        #expect(waits.contains { $0 < 20 } && waits.contains { $0 > 40 })
    }
}

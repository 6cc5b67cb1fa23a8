import Testing

@testable import Meander

@Suite("Keyed async lock")
struct KeyedAsyncLockTests {
    /// Counts how many bodies run at once, per key.
    actor Occupancy {
        private var current: [String: Int] = [:]
        private(set) var peak: [String: Int] = [:]

        func enter(_ key: String) {
            current[key, default: 0] += 1
            peak[key] = max(peak[key] ?? 0, current[key]!)
        }

        func leave(_ key: String) { current[key, default: 0] -= 1 }
    }

    @Test("callers with one key take turns; idle keys are forgotten")
    func serialisesPerKey() async throws {
        // given
        let lock = KeyedAsyncLock<String>()
        let occupancy = Occupancy()

        // when: 40 racing callers over two keys, each holding the lock across suspension points
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<40 {
                let key = index.isMultiple(of: 2) ? "a" : "b"
                group.addTask {
                    try await lock.withLock(key) {
                        await occupancy.enter(key)
                        try await Task.sleep(for: .milliseconds(2))
                        await occupancy.leave(key)
                    }
                }
            }
            try await group.waitForAll()
        }

        // then
        #expect(await occupancy.peak == ["a": 1, "b": 1])
        #expect(await lock.heldKeys == 0)
    }

    @Test("a throwing body releases its key")
    func releasesOnError() async throws {
        struct Failure: Error {}
        let lock = KeyedAsyncLock<Int>()
        await #expect(throws: Failure.self) { try await lock.withLock(1) { throw Failure() } }
        #expect(try await lock.withLock(1) { 42 } == 42)
        #expect(await lock.heldKeys == 0)
    }
}

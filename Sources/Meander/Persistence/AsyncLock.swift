/// A FIFO async mutex: one holder at a time, waiters resume in order. Waiting holds no thread and no connection.
actor AsyncLock {
    private var locked = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func withLock<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await acquire()
        do {
            let result = try await body()
            release()
            return result
        } catch {
            release()
            throw error
        }
    }

    private func acquire() async {
        if !locked {
            locked = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty {
            locked = false
        } else {
            waiters.removeFirst().resume()
        }
    }
}

/// A FIFO async mutex per key: callers with the same key take turns, callers with different keys never wait on each
/// other. An idle key holds no memory.
actor KeyedAsyncLock<Key: Hashable & Sendable> {
    /// A key is held while it has an entry; the entry lists the callers waiting for it.
    private var queues: [Key: [CheckedContinuation<Void, Never>]] = [:]

    func withLock<T: Sendable>(_ key: Key, _ body: @Sendable () async throws -> T) async throws -> T {
        if queues[key] == nil {
            queues[key] = []
        } else {
            await withCheckedContinuation { queues[key, default: []].append($0) }
        }
        defer { release(key) }
        return try await body()
    }

    private func release(_ key: Key) {
        guard var waiters = queues[key], !waiters.isEmpty else {
            queues[key] = nil
            return
        }
        let next = waiters.removeFirst()
        queues[key] = waiters
        next.resume()
    }

    /// How many keys are held (for tests).
    var heldKeys: Int { queues.count }
}

import Foundation

/// A text progress bar on standard error: redrawn in place on a terminal, one line per 10 % otherwise.
final class ProgressReporter: @unchecked Sendable {
    private let lock = NSLock()
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private var lastDecile: [String: Int] = [:]
    private var lastDraw = ContinuousClock.now

    func update(_ label: String, done: Int, total: Int) {
        lock.lock()
        defer { lock.unlock() }
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = String(format: "[%@] %3d%% %@ %d/%d", bar, Int(fraction * 100), label, done, total)
        if isTerminal {
            let now = ContinuousClock.now
            guard done >= total || now - lastDraw > .milliseconds(100) else { return }
            lastDraw = now
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line + (done >= total ? "\n" : "")).utf8))
        } else {
            let decile = Int(fraction * 10)
            guard decile != lastDecile[label] else { return }
            lastDecile[label] = decile
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }
}

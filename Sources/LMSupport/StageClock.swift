import Foundation

/// CPU time of the calling thread, in seconds (`CLOCK_THREAD_CPUTIME_ID`): unlike wall time it
/// does not grow when other processes share the cores.
public func threadCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// Thread CPU seconds summed per named stage of a multi-threaded job (thread-safe).
///
///     let clock = StageClock()
///     clock.measure("compress") { compress(frame) }   // on any thread
///     clock.seconds   // ["compress": 0.52]
public final class StageClock: @unchecked Sendable {
    private let lock = NSLock()
    private var totals: [String: Double] = [:]

    public init() {}

    /// Adds `seconds` of CPU time to `stage`.
    public func add(_ stage: String, _ seconds: Double) {
        lock.lock(); totals[stage, default: 0] += seconds; lock.unlock()
    }

    /// Runs `body` and adds the calling thread's CPU time during it to `stage`.
    @discardableResult
    public func measure<T>(_ stage: String, _ body: () throws -> T) rethrows -> T {
        let t0 = threadCPUSeconds()
        defer { add(stage, threadCPUSeconds() - t0) }
        return try body()
    }

    /// CPU seconds by stage so far.
    public var seconds: [String: Double] { lock.lock(); defer { lock.unlock() }; return totals }
}

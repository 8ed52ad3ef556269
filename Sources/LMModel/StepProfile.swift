import Foundation

/// Wall time per kernel of `forward`/`backward` calls, for benchmarks (`model.profile = StepProfile()`).
/// Costs two clock reads per kernel call when set, nothing when nil.
public final class StepProfile {
    /// Seconds spent per kernel name (e.g. `matmul.forward`, `attention.backward`).
    public private(set) var seconds: [String: Double] = [:]
    /// Kernel names in first-seen order.
    public private(set) var order: [String] = []

    public init() {}

    /// Forgets everything measured so far.
    public func reset() {
        seconds = [:]
        order = []
    }

    private let lock = NSLock()

    /// Adds `s` seconds to `name`; safe from concurrent tasks (chunks of the forward trunk).
    func add(_ name: String, _ s: Double) {
        lock.lock()
        defer { lock.unlock() }
        if seconds[name] == nil { order.append(name) }
        seconds[name, default: 0] += s
    }
}

extension GPT {
    /// Runs `body`, adding its wall time times `share` to `profile[name]` when profiling
    /// (`share` = 1/threads for kernels that run on one thread while other threads run others).
    @inline(__always)
    func timed(_ name: String, share: Double = 1, _ body: () -> Void) {
        guard let profile else { body(); return }
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        profile.add(name, share * Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }
}

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

    func add(_ name: String, _ s: Double) {
        if seconds[name] == nil { order.append(name) }
        seconds[name, default: 0] += s
    }
}

extension GPT {
    /// Runs `body`, adding its wall time to `profile[name]` when profiling.
    @inline(__always)
    func timed(_ name: String, _ body: () -> Void) {
        guard let profile else { body(); return }
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        profile.add(name, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }
}

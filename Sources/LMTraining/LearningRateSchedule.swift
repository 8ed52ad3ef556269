import Foundation

/// Linear warmup, then cosine decay to a floor (nanoGPT's `get_lr`).
///
/// For the 0-based step index s of `totalSteps`:
///
///     s < warmup:            lr = peak · (s+1) / warmup
///     warmup ≤ s < total:    r = (s − warmup) / (total − warmup),  lr = floor + ½(1 + cos πr)(peak − floor)
///     s ≥ total:             lr = floor
///
/// Worked example: peak 1e-3, floor 1e-4, warmup 10, total 110 ⇒ step 0: 1e-4, step 9: 1e-3,
/// step 60 (r = ½): 5.5e-4, step 110: 1e-4.
public struct LearningRateSchedule: Sendable, Equatable, Codable {
    /// Largest learning rate, reached at the end of warmup.
    public var peak: Double
    /// Learning rate the cosine decays to (and stays at).
    public var floor: Double
    /// Steps of linear warmup (0 = start at the peak).
    public var warmupSteps: Int
    /// Steps of the whole run (warmup included); the cosine ends here.
    public var totalSteps: Int

    public init(peak: Double, floor: Double, warmupSteps: Int, totalSteps: Int) {
        self.peak = peak
        self.floor = floor
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    /// Learning rate for the 0-based step index `step`. Computed in Double, pure function of the
    /// step (so a resumed run gets the same values).
    public func learningRate(at step: Int) -> Double {
        if step < warmupSteps { return peak * Double(step + 1) / Double(warmupSteps) }
        if step >= totalSteps { return floor }
        let span = max(1, totalSteps - warmupSteps)
        let ratio = Double(step - warmupSteps) / Double(span)
        let coefficient = 0.5 * (1 + cos(Double.pi * ratio))
        return floor + coefficient * (peak - floor)
    }
}

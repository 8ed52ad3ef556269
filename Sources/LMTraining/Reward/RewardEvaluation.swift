import Foundation
import LMModel
import LMSupport

/// How well a reward model ranks held-out pairs.
public struct RewardAccuracy: Sendable, Codable, Equatable {
    /// Pairs scored.
    public var pairs = 0
    /// Pairs where r(chosen) > r(rejected) (ties count as wrong).
    public var correct = 0
    /// Mean pairwise loss −log σ(r(chosen) − r(rejected)), nats per pair (ln 2 = chance).
    public var loss = Double.nan
    /// Mean r(chosen) − r(rejected).
    public var meanMargin = Double.nan
    /// correct / pairs.
    public var accuracy: Double { pairs > 0 ? Double(correct) / Double(pairs) : .nan }
}

/// Scoring with a reward model (a GPT with a score head).
public enum RewardEvaluation {
    /// Rewards of `sequences` (each 1…T ids, read at its last token), in order, `batchSize` rows
    /// per forward pass of T = the model's context (padding with `padID` after each sequence).
    public static func rewards(model: GPT, sequences: [[Int32]], batchSize: Int, padID: Int32) -> [Float] {
        let t = model.config.context
        var out: [Float] = []
        out.reserveCapacity(sequences.count)
        var start = 0
        while start < sequences.count {
            let b = min(batchSize, sequences.count - start)
            var inputs = [Int32](repeating: padID, count: b * t)
            var positions = [Int](repeating: 0, count: b)
            for r in 0..<b {
                let s = sequences[start + r]
                precondition(!s.isEmpty && s.count <= t, "RewardEvaluation.rewards: a sequence must have 1…\(t) ids")
                for i in 0..<s.count { inputs[r * t + i] = s[i] }
                positions[r] = s.count - 1
            }
            out += model.forwardRewards(inputs: inputs, positions: positions, batch: b, time: t)
            start += b
        }
        return out
    }

    /// Accuracy, loss and margin over every pair of `examples`.
    public static func accuracy(model: GPT, examples: [RewardExample], batchSize: Int, padID: Int32) -> RewardAccuracy {
        let r = rewards(model: model, sequences: examples.flatMap { [$0.chosen, $0.rejected] },
                        batchSize: max(2, batchSize), padID: padID)
        var out = RewardAccuracy()
        guard !examples.isEmpty else { return out }
        var loss = 0.0, margin = 0.0
        for k in 0..<examples.count {
            let m = Double(r[2 * k]) - Double(r[2 * k + 1])
            if m > 0 { out.correct += 1 }
            loss += RewardModel.softplus(-m)
            margin += m
        }
        out.pairs = examples.count
        out.loss = loss / Double(examples.count)
        out.meanMargin = margin / Double(examples.count)
        return out
    }
}

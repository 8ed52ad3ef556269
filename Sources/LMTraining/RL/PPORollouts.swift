import Foundation
import LMModel
import LMSupport

/// One sampled response: the prompt's ids (as fed, after any truncation) and the response's ids
/// (ending with `<|end|>` when the model closed its turn).
public struct PPORollout: Sendable, Equatable {
    public var promptIDs: [Int32]
    public var responseIDs: [Int32]
    /// True when the response ends with the end-of-turn token (it did not hit the token limit).
    public var ended: Bool
}

/// The rollout batch as the models see it: B rows of T = (longest prompt + response) − 1 ids,
/// padded after each sequence; row b's response tokens are the targets at positions
/// `actionStart[b] ..< actionStart[b] + actionCount[b]` (−1 everywhere else).
public struct PPOBatch: Sendable {
    public var inputs: [Int32]
    public var targets: [Int32]
    public var batch: Int
    public var time: Int
    /// Per row: the position whose target is the first response token (= prompt length − 1).
    public var actionStart: [Int]
    /// Per row: the number of response tokens.
    public var actionCount: [Int]

    /// Packs `rollouts` (each with ≥ 1 response token and prompt + response ≤ context + 1 ids),
    /// padding with `padID`.
    public init(_ rollouts: [PPORollout], padID: Int32) {
        batch = rollouts.count
        time = max(1, rollouts.map { $0.promptIDs.count + $0.responseIDs.count - 1 }.max() ?? 1)
        inputs = [Int32](repeating: padID, count: batch * time)
        targets = [Int32](repeating: -1, count: batch * time)
        actionStart = []
        actionCount = []
        for (b, r) in rollouts.enumerated() {
            let seq = r.promptIDs + r.responseIDs
            for t in 0..<(seq.count - 1) {
                inputs[b * time + t] = seq[t]
                if t >= r.promptIDs.count - 1 { targets[b * time + t] = seq[t + 1] }
            }
            actionStart.append(r.promptIDs.count - 1)
            actionCount.append(r.responseIDs.count)
        }
    }

    /// Rows `rows` of this batch (in that order) as a batch of their own, T cut to their longest
    /// sequence.
    public func selecting(rows: [Int]) -> PPOBatch {
        var sub = self
        sub.batch = rows.count
        sub.time = max(1, rows.map { actionStart[$0] + actionCount[$0] }.max() ?? 1)
        sub.actionStart = rows.map { actionStart[$0] }
        sub.actionCount = rows.map { actionCount[$0] }
        sub.inputs = []
        sub.targets = []
        sub.inputs.reserveCapacity(sub.batch * sub.time)
        sub.targets.reserveCapacity(sub.batch * sub.time)
        for b in rows {
            sub.inputs += inputs[(b * time) ..< (b * time + sub.time)]
            sub.targets += targets[(b * time) ..< (b * time + sub.time)]
        }
        return sub
    }

    /// The entries of a (B·T) per-position array at row b's response tokens.
    public func actions(of perPosition: [Float], row b: Int) -> [Float] {
        let s = b * time + actionStart[b]
        return Array(perPosition[s ..< s + actionCount[b]])
    }

    /// Scatters per-row response values back into a (B·T) array of zeros.
    public func positions(from perAction: [[Float]]) -> [Float] {
        var out = [Float](repeating: 0, count: batch * time)
        for b in 0..<batch {
            let s = b * time + actionStart[b]
            for (k, v) in perAction[b].enumerated() { out[s + k] = v }
        }
        return out
    }
}

/// Samples responses from the policy with its KV cache, at temperature 1 and without top-k/top-p:
/// PPO needs samples from exactly the distribution whose log-probabilities it trains.
enum PPOSampler {
    /// One response to each prompt (ids, ending with the assistant token), `session.capacity`
    /// prompts at a time (`LockstepDecoder`): up to `maxTokens` ids, stopping after `endID` or
    /// when the context is full. Prompts longer than the context minus `maxTokens` keep their
    /// last tokens. Draws from `sampler` only, row by row in order at every step.
    static func respond(_ session: BatchInferenceSession, prompts: [[Int32]], maxTokens: Int, endID: Int32,
                        sampler: inout TokenSampler) -> [PPORollout] {
        let keep = max(1, session.model.config.context - maxTokens)
        let fed = prompts.map { Array($0.suffix(keep)) }
        let rows = LockstepDecoder.decode(session, prompts: fed, maxTokens: maxTokens, stopID: endID, whenFull: .stop) { _, logits in
            Int32(sampler.sample(logits))
        }
        return zip(fed, rows).map { PPORollout(promptIDs: $0, responseIDs: $1.generated, ended: $1.stopped) }
    }
}

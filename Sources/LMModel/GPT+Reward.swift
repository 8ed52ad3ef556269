import LMKernels
import LMSupport

/// The reward-model pass of a GPT with a score head (`config.scoreHead`): one scalar per sequence,
///
///     r_b = score · ln_f(x)[b, p_b]        (B rewards; p_b = the position scored in row b)
///
/// exactly Hugging Face `GPT2ForSequenceClassification` (num_labels 1) pooled at p_b (HF pools at
/// the last non-pad token; lmkit's callers pad after p_b, so with causal attention the padding
/// cannot change r_b). The LM head is not computed.
extension GPT {
    /// Runs the trunk on `inputs` (B·T ids, row-major (B, T)) and returns the B rewards, each read
    /// at `positions[b]` (0 ≤ p < T) of its row. Keeps the activations for `backwardRewards`.
    public func forwardRewards(inputs: [Int32], positions: [Int], batch: Int, time: Int) -> [Float] {
        guard let score = parameterLayout.score else {
            preconditionFailure("GPT.forwardRewards: the model has no score head (GPTConfig.scoreHead)")
        }
        precondition(positions.count == batch && positions.allSatisfy { $0 >= 0 && $0 < time },
                     "GPT.forwardRewards: need one position in 0..<\(time) per row")
        let a = prepareInputs(inputs, batch: batch, time: time)
        a.hasTargets = false
        a.logitsConsumed = true  // no logits are computed: `backward()` must not run on this pass
        a.valuesPending = false
        a.scorePositions = positions
        let c = config.channels
        return parameters.withUnsafeBufferPointer { p in
            forwardTrunk(p.baseAddress!, a)
            let w = p.baseAddress! + score
            return (0..<batch).map { b in
                let h = a.lnf + (b * time + positions[b]) * c
                var s: Float = 0
                for i in 0..<c { s += w[i] * h[i] }
                return s
            }
        }
    }

    /// Adds ∂loss/∂parameters to `gradients`, given `dRewards[b]` = ∂loss/∂r_b for the rewards of
    /// the last `forwardRewards` (call once per forward).
    public func backwardRewards(_ dRewards: [Float]) {
        guard let a = activations, let positions = a.scorePositions, let score = parameterLayout.score else {
            preconditionFailure("GPT.backwardRewards: call forwardRewards first (once per backward)")
        }
        precondition(dRewards.count == a.batch, "GPT.backwardRewards: need one gradient per row")
        a.scorePositions = nil
        let c = config.channels, n = a.batch * a.time
        parameters.withUnsafeBufferPointer { pp in
            gradients.withUnsafeMutableBufferPointer { gg in
                let p = pp.baseAddress!, g = gg.baseAddress!
                // ∂/∂ln_f(x): zero except at the scored positions, where it is dr_b · score.
                a.dC.update(repeating: 0, count: n * c)
                for b in 0..<a.batch {
                    let row = b * a.time + positions[b]
                    let dr = dRewards[b], h = a.lnf + row * c, d = a.dC + row * c
                    for i in 0..<c {
                        d[i] = dr * p[score + i]
                        g[score + i] += dr * h[i]
                    }
                }
                backwardTrunk(p, g, a)
            }
        }
    }
}

/// The value-model pass (PPO's critic): the score head read at every position,
///
///     v[b, t] = score · ln_f(x)[b, t]        (B·T values)
///
/// the expected return from position t on, as the policy's tokens up to t see it.
extension GPT {
    /// Runs the trunk on `inputs` (B·T ids, row-major (B, T)) and returns the B·T values. Keeps the
    /// activations for `backwardValues`. Precondition: the model has a score head.
    public func forwardValues(inputs: [Int32], batch: Int, time: Int) -> [Float] {
        guard let score = parameterLayout.score else {
            preconditionFailure("GPT.forwardValues: the model has no score head (GPTConfig.scoreHead)")
        }
        let a = prepareInputs(inputs, batch: batch, time: time)
        a.hasTargets = false
        a.logitsConsumed = true
        a.scorePositions = nil
        a.valuesPending = true
        let c = config.channels, n = batch * time
        return parameters.withUnsafeBufferPointer { p in
            forwardTrunk(p.baseAddress!, a)
            let w = p.baseAddress! + score
            return (0..<n).map { row in
                let h = a.lnf + row * c
                var s: Float = 0
                for i in 0..<c { s += w[i] * h[i] }
                return s
            }
        }
    }

    /// Adds ∂loss/∂parameters to `gradients`, given `dValues[i]` = ∂loss/∂v_i (B·T) for the values
    /// of the last `forwardValues` (call once per forward).
    public func backwardValues(_ dValues: [Float]) {
        guard let a = activations, a.valuesPending, let score = parameterLayout.score else {
            preconditionFailure("GPT.backwardValues: call forwardValues first (once per backward)")
        }
        let c = config.channels, n = a.batch * a.time
        precondition(dValues.count == n, "GPT.backwardValues: need one gradient per position")
        a.valuesPending = false
        parameters.withUnsafeBufferPointer { pp in
            gradients.withUnsafeMutableBufferPointer { gg in
                let p = pp.baseAddress!, g = gg.baseAddress!
                for row in 0..<n {
                    let dv = dValues[row], h = a.lnf + row * c, d = a.dC + row * c
                    for i in 0..<c {
                        d[i] = dv * p[score + i]
                        g[score + i] += dv * h[i]
                    }
                }
                backwardTrunk(p, g, a)
            }
        }
    }
}

import Foundation

/// The arithmetic of PPO on token sequences (Schulman et al. 2017, "Proximal Policy
/// Optimization Algorithms"), as InstructGPT (Ouyang et al. 2022) applies it to a language model:
/// every response token is an action, the reward model's score arrives on the last token, and
/// each token pays a KL penalty to the frozen starting (SFT) model.
///
/// For one response of n tokens with log-probabilities ℓ_t under the sampling policy, ℓʳᵉᶠ_t under
/// the reference model, values V_t (the critic at the state before token t) and score R:
///
///     r_t   = −β·(ℓ_t − ℓʳᵉᶠ_t)  (+ R when t = n−1)          per-token reward, nats
///     δ_t   = r_t + γ·V_{t+1} − V_t          (V_n = 0)
///     A_t   = δ_t + γλ·A_{t+1}               (A_n = 0)      GAE advantage
///     G_t   = A_t + V_t                                      value target (return)
///
/// Then, with the advantages whitened over the batch and ρ_t = exp(ℓ'_t − ℓ_t) for the policy
/// being trained (ℓ'), the clipped surrogate loss over the batch's N response tokens:
///
///     L = (1/N) Σ_t −min(ρ_t·A_t, clip(ρ_t, 1−ε, 1+ε)·A_t)
///     ∂L/∂ℓ'_t = −(1/N)·ρ_t·A_t  if the unclipped term is the minimum, else 0
///
/// and the value loss (1/N) Σ_t ½(V'_t − G_t)², or with value clipping (ε_v > 0, as OpenAI's
/// baselines and TRL do) (1/N) Σ_t ½·max((V'_t − G_t)², (V_t + clip(V'_t − V_t, −ε_v, ε_v) − G_t)²).
///
/// Worked example (tested): β = 0.1, γ = 1, λ = 0.5, ℓ = [−1, −2], ℓʳᵉᶠ = [−1.5, −2], V = [0.5, 1],
/// R = 2 ⇒ r = [−0.05, 2], δ = [0.45, 1], A = [0.95, 1], G = [1.45, 2].
public enum PPOObjective {
    /// Per-token rewards r_t of one response (see the type's doc comment).
    /// `logProbs` and `referenceLogProbs` have one entry per response token (n ≥ 1).
    public static func tokenRewards(score: Float, logProbs: [Float], referenceLogProbs: [Float],
                                    klCoefficient beta: Float) -> [Float] {
        precondition(!logProbs.isEmpty && logProbs.count == referenceLogProbs.count,
                     "PPOObjective.tokenRewards: one log-probability of each model per token, at least one token")
        var r = zip(logProbs, referenceLogProbs).map { -beta * ($0 - $1) }
        r[r.count - 1] += score
        return r
    }

    /// GAE advantages A_t and returns G_t of one response, from its rewards and values (n each).
    public static func advantages(rewards: [Float], values: [Float], gamma: Float, lambda: Float)
        -> (advantages: [Float], returns: [Float]) {
        precondition(rewards.count == values.count, "PPOObjective.advantages: one value per reward")
        let n = rewards.count
        var adv = [Float](repeating: 0, count: n)
        var next: Float = 0, nextValue: Float = 0
        for t in stride(from: n - 1, through: 0, by: -1) {
            let delta = rewards[t] + gamma * nextValue - values[t]
            next = delta + gamma * lambda * next
            adv[t] = next
            nextValue = values[t]
        }
        return (adv, zip(adv, values).map { $0 + $1 })
    }

    /// (x − mean) / (standard deviation + 1e-8), over all of x (the batch's response tokens). A
    /// single element becomes 0.
    public static func whiten(_ x: [Float]) -> [Float] {
        guard !x.isEmpty else { return [] }
        let n = Double(x.count)
        let mean = x.reduce(0.0) { $0 + Double($1) } / n
        let variance = x.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
        let inv = 1 / (variance.squareRoot() + 1e-8)
        return x.map { Float((Double($0) - mean) * inv) }
    }

    /// The clipped surrogate over N tokens (arrays of N, one entry per response token).
    public struct Surrogate: Sendable, Equatable {
        /// L, the mean clipped loss.
        public var loss: Float
        /// ∂L/∂(−ℓ'_t) per token: the weights `GPT.backward(tokenWeights:)` takes (the gradient of
        /// Σ w_t·(−ℓ'_t) is ∂L/∂θ).
        public var tokenWeights: [Float]
        /// Fraction of tokens whose clipped term was the minimum (no gradient).
        public var clippedFraction: Float
        /// Mean of (ρ − 1) − log ρ ≥ 0: an estimate of KL(π_old ‖ π') (Schulman's k3).
        public var approximateKL: Float
    }

    /// L and its token weights for new log-probabilities `logProbs` (ℓ'), the sampling policy's
    /// `oldLogProbs` (ℓ) and whitened `advantages`, with clip range ε = `clip`.
    public static func surrogate(logProbs: [Float], oldLogProbs: [Float], advantages: [Float], clip: Float) -> Surrogate {
        let n = logProbs.count
        precondition(n > 0 && oldLogProbs.count == n && advantages.count == n,
                     "PPOObjective.surrogate: one new and old log-probability and one advantage per token")
        var loss = 0.0, kl = 0.0, clipped = 0
        var weights = [Float](repeating: 0, count: n)
        for t in 0..<n {
            let logRatio = Double(logProbs[t]) - Double(oldLogProbs[t])
            let ratio = exp(logRatio), a = Double(advantages[t])
            let unclipped = ratio * a
            let bounded = min(max(ratio, 1 - Double(clip)), 1 + Double(clip)) * a
            loss -= min(unclipped, bounded)
            kl += (ratio - 1) - logRatio
            if unclipped <= bounded {
                weights[t] = Float(unclipped / Double(n))
            } else {
                clipped += 1
            }
        }
        return Surrogate(loss: Float(loss / Double(n)), tokenWeights: weights,
                         clippedFraction: Float(clipped) / Float(n), approximateKL: Float(kl / Double(n)))
    }

    /// The value loss over N tokens and its gradient ∂loss/∂V'_t (N each), for new values
    /// `values` (V'), the values at sampling time `oldValues` (V) and the returns (G), with clip
    /// range `clip` (0 = no clipping). Where the clipped term is the larger one and V' is outside
    /// V ± ε_v, the gradient is 0.
    public static func valueLoss(values: [Float], oldValues: [Float], returns: [Float], clip: Float)
        -> (loss: Float, gradient: [Float]) {
        let n = values.count
        precondition(n > 0 && oldValues.count == n && returns.count == n,
                     "PPOObjective.valueLoss: one new and old value and one return per token")
        var loss = 0.0
        var gradient = [Float](repeating: 0, count: n)
        for t in 0..<n {
            let e = values[t] - returns[t]
            var term = 0.5 * Double(e * e), g = e
            if clip > 0 {
                let moved = values[t] - oldValues[t]
                let clipped = oldValues[t] + min(max(moved, -clip), clip) - returns[t]
                if clipped * clipped > e * e {
                    term = 0.5 * Double(clipped * clipped)
                    g = abs(moved) < clip ? clipped : 0
                }
            }
            loss += term
            gradient[t] = g / Float(n)
        }
        return (Float(loss / Double(n)), gradient)
    }
}

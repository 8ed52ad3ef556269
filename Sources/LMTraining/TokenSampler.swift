import Foundation
import LMSupport

/// How the next token is drawn from the model's logits.
public struct SamplingParameters: Sendable, Equatable {
    /// Logits are divided by this; 0 = greedy (argmax). Typical 0.7–1.0.
    public var temperature: Double = 0.8
    /// Keep only the k most likely tokens (nil = all).
    public var topK: Int?
    /// Keep the smallest set of most likely tokens whose probability reaches p (nil = 1 = all).
    public var topP: Double?
    /// Seed of the sampling RNG: same seed, same model, same prompt ⇒ same text.
    public var seed: UInt64 = 1

    public init(temperature: Double = 0.8, topK: Int? = nil, topP: Double? = nil, seed: UInt64 = 1) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.seed = seed
    }

    /// Throws `LMError.badInput` naming the option when out of range.
    public func validate() throws {
        if !(temperature >= 0 && temperature <= 100) {
            throw LMError.badInput("--temperature must be in [0, 100] (got \(temperature))", fix: "0 = greedy, 1 = the model's distribution")
        }
        if let k = topK, k < 1 { throw LMError.badInput("--top-k must be at least 1 (got \(k))") }
        if let p = topP, !(p > 0 && p <= 1) { throw LMError.badInput("--top-p must be in (0, 1] (got \(p))") }
    }
}

/// Draws token ids from logits with temperature, top-k and top-p (nucleus) filtering.
///
/// Order of operations (as Hugging Face's `generate`): scale by 1/temperature, keep the top k,
/// softmax (in Double), keep the smallest prefix (by probability, ties by lower id) reaching
/// top-p, renormalise, draw with the seeded RNG (see `sample` for the order a draw scans).
///
/// Worked example: logits [2, 1, 0], temperature 1 ⇒ p ≈ [0.665, 0.245, 0.090]; top-k 2 ⇒
/// [0.731, 0.269, 0]; top-p 0.5 ⇒ [1, 0, 0] (the first token alone reaches 0.5).
public struct TokenSampler: Sendable {
    public let parameters: SamplingParameters
    /// The RNG; its state advances by one draw per sampled token.
    public var rng: SeededRNG
    /// Unnormalised probabilities of the unfiltered draw, reused from token to token (V doubles).
    private var weights: [Double] = []

    public init(_ parameters: SamplingParameters) {
        self.parameters = parameters
        rng = SeededRNG(seed: parameters.seed)
    }

    /// Probabilities after temperature/top-k/top-p, as (id, p) sorted by decreasing p. O(V log V).
    public func distribution(_ logits: [Float]) -> [(id: Int, p: Double)] {
        let n = logits.count
        guard n > 0 else { return [] }
        if parameters.temperature == 0 {
            var best = 0
            for i in 1..<n where logits[i] > logits[best] { best = i }
            return [(best, 1)]
        }
        var order = Array(0..<n)
        order.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        if let k = parameters.topK, k < n { order.removeLast(n - k) }
        let invT = 1 / parameters.temperature
        let top = Double(logits[order[0]])
        var probs = order.map { exp((Double(logits[$0]) - top) * invT) }
        var sum = probs.reduce(0, +)
        if let p = parameters.topP, p < 1 {
            var cumulative = 0.0, keep = 0
            while keep < probs.count { cumulative += probs[keep] / sum; keep += 1; if cumulative >= p { break } }
            probs.removeLast(probs.count - keep)
            order.removeLast(order.count - keep)
            sum = probs.reduce(0, +)
        }
        return zip(order, probs).map { (id: $0, p: $1 / sum) }
    }

    /// Draws one id from `logits` (V floats). Greedy draws no random number. Without top-k and
    /// top-p, the draw scans the ids in order (O(V), no sort: the sort cost more than a `tiny`
    /// model's forward pass per token); with either, it scans `distribution`'s order. Both are
    /// exact draws from the same distribution with one uniform number each.
    public mutating func sample(_ logits: [Float]) -> Int {
        if parameters.temperature > 0 && parameters.topK == nil && (parameters.topP ?? 1) >= 1 && !logits.isEmpty {
            let invT = 1 / parameters.temperature
            let top = Double(logits.max()!)
            if weights.count != logits.count { weights = [Double](repeating: 0, count: logits.count) }
            var sum = 0.0
            for i in logits.indices {
                weights[i] = exp((Double(logits[i]) - top) * invT)
                sum += weights[i]
            }
            let u = rng.nextDouble() * sum
            var cumulative = 0.0
            for i in weights.indices {
                cumulative += weights[i]
                if u < cumulative { return i }
            }
            return logits.count - 1
        }
        let d = distribution(logits)
        if d.count == 1 { return d[0].id }
        let u = rng.nextDouble()
        var cumulative = 0.0
        for (id, p) in d {
            cumulative += p
            if u < cumulative { return id }
        }
        return d[d.count - 1].id
    }
}

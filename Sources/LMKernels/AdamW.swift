import LMSupport

/// AdamW hyper-parameters for one update (Loshchilov & Hutter, decoupled weight decay).
///
/// Defaults are nanoGPT's: β1 0.9, β2 0.95 (GPT-3 paper), ε 1e-8, weight decay 0.1.
public struct AdamWHyperparameters: Sendable, Equatable, Codable {
    /// Learning rate of this step (the schedule's value), in parameter units per normalised gradient.
    public var learningRate: Float
    /// Decay of the first moment (mean of gradients).
    public var beta1: Float
    /// Decay of the second moment (mean of squared gradients).
    public var beta2: Float
    /// Added to √v̂ to avoid division by zero.
    public var epsilon: Float
    /// Decoupled weight decay, applied only to the elements inside `decayRanges` (matrices).
    public var weightDecay: Float

    public init(learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.95,
                epsilon: Float = 1e-8, weightDecay: Float = 0.1) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }
}

/// The AdamW update over lmkit's flat buffers: parameters, gradients and both moments share one
/// layout (as in llm.c), so the optimizer is one loop over `n` floats.
///
/// For element i at step t (1-based), with g = gradScale·grad[i]:
///
///     m = β1·m + (1−β1)·g
///     v = β2·v + (1−β2)·g²
///     m̂ = m / (1−β1ᵗ),  v̂ = v / (1−β2ᵗ)
///     p = p − lr·( m̂ / (√v̂ + ε) + wd·p )      (wd only where the element is in `decayRanges`)
///
/// This is PyTorch's `torch.optim.AdamW` (which decays p before the Adam update: identical since
/// the update does not depend on p). `gradScale` folds gradient clipping and the 1/N of
/// gradient accumulation into the same pass.
///
/// Worked example (step 1, lr 0.1, no decay): g = 0.5 ⇒ m̂ = 0.5, v̂ = 0.25, p −= 0.1·0.5/(0.5+ε) ≈ 0.1.
///
/// Performance notes: memory-bound (4 streams of n floats, 3 written). Split into fixed chunks of
/// 32k elements run with `Parallel.forEach`; each element is computed independently, so results
/// are bit-identical for any thread count (needed for bit-identical resume). On 2 cores a 10M
/// parameter step is a few ms, well under 1% of a training step.
public enum AdamW {
    /// Elements per parallel task.
    static let chunk = 1 << 15

    /// One fast, parallel AdamW step. All buffers have the same count `n`; `decayRanges` are
    /// sorted, disjoint sub-ranges of `0..<n` (the matrices) that get weight decay.
    /// `step` is the 1-based step number used for bias correction. O(n).
    public static func step(parameters: UnsafeMutableBufferPointer<Float>,
                            gradients: UnsafeBufferPointer<Float>,
                            firstMoment: UnsafeMutableBufferPointer<Float>,
                            secondMoment: UnsafeMutableBufferPointer<Float>,
                            decayRanges: [Range<Int>], step: Int,
                            hyper: AdamWHyperparameters, gradScale: Float = 1,
                            threads: Int = Threads.available) {
        let n = parameters.count
        precondition(gradients.count == n && firstMoment.count == n && secondMoment.count == n,
                     "AdamW: buffers differ in size")
        precondition(step >= 1, "AdamW: step is 1-based")
        guard n > 0 else { return }
        let segments = decaySegments(count: n, decayRanges: decayRanges)
        let c = corrections(step: step, hyper: hyper)
        let p = SendablePointer(parameters.baseAddress!)
        let g = SendableConstPointer(gradients.baseAddress!)
        let m = SendablePointer(firstMoment.baseAddress!)
        let v = SendablePointer(secondMoment.baseAddress!)
        let chunks = (n + chunk - 1) / chunk
        // Safety: each task touches only the elements of its own chunk.
        Parallel.forEach(chunks, threads: threads) { k in
            let lo = k &* chunk, hi = min(n, lo &+ chunk)
            // Walk the segments overlapping [lo, hi).
            var s = segmentIndex(segments, containing: lo)
            var i = lo
            while i < hi {
                let seg = segments[s]
                let end = min(hi, seg.range.upperBound)
                update(p.pointer, g.pointer, m.pointer, v.pointer, i, end,
                       wd: seg.decay ? hyper.weightDecay : 0, hyper: hyper, c: c, gradScale: gradScale)
                i = end
                s &+= 1
            }
        }
    }

    /// Naive twin of `step`: one plain loop over arrays, a `Set`-free membership test per element.
    /// Used by the tests as the reference.
    public static func stepNaive(parameters: inout [Float], gradients: [Float],
                                 firstMoment: inout [Float], secondMoment: inout [Float],
                                 decayRanges: [Range<Int>], step: Int,
                                 hyper: AdamWHyperparameters, gradScale: Float = 1) {
        let b1t = 1 - Float(pow(Double(hyper.beta1), Double(step)))
        let b2t = 1 - Float(pow(Double(hyper.beta2), Double(step)))
        for i in 0..<parameters.count {
            let decays = decayRanges.contains { $0.contains(i) }
            let grad = gradients[i] * gradScale
            firstMoment[i] = hyper.beta1 * firstMoment[i] + (1 - hyper.beta1) * grad
            secondMoment[i] = hyper.beta2 * secondMoment[i] + (1 - hyper.beta2) * grad * grad
            let mHat = firstMoment[i] / b1t
            let vHat = secondMoment[i] / b2t
            let wd: Float = decays ? hyper.weightDecay : 0
            parameters[i] -= hyper.learningRate * (mHat / (vHat.squareRoot() + hyper.epsilon) + wd * parameters[i])
        }
    }

    // MARK: - Internals

    struct Corrections { var b1t: Float; var b2t: Float }

    static func corrections(step: Int, hyper: AdamWHyperparameters) -> Corrections {
        Corrections(b1t: 1 - Float(pow(Double(hyper.beta1), Double(step))),
                    b2t: 1 - Float(pow(Double(hyper.beta2), Double(step))))
    }

    struct Segment { var range: Range<Int>; var decay: Bool }

    /// Cuts 0..<count into consecutive segments, each entirely inside or outside the decay ranges.
    static func decaySegments(count: Int, decayRanges: [Range<Int>]) -> [Segment] {
        var out: [Segment] = []
        var at = 0
        for r in decayRanges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            let lo = max(r.lowerBound, at), hi = min(r.upperBound, count)
            if lo >= hi { continue }
            if at < lo { out.append(Segment(range: at..<lo, decay: false)) }
            out.append(Segment(range: lo..<hi, decay: true))
            at = hi
        }
        if at < count { out.append(Segment(range: at..<count, decay: false)) }
        return out
    }

    /// Index of the segment containing `i` (binary search; segments cover 0..<count).
    static func segmentIndex(_ segments: [Segment], containing i: Int) -> Int {
        var lo = 0, hi = segments.count - 1
        while lo < hi {
            let mid = (lo &+ hi) / 2
            if segments[mid].range.upperBound <= i { lo = mid &+ 1 } else { hi = mid }
        }
        return lo
    }

    @inline(__always)
    static func update(_ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>,
                       _ m: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>,
                       _ lo: Int, _ hi: Int, wd: Float, hyper: AdamWHyperparameters,
                       c: Corrections, gradScale: Float) {
        let b1 = hyper.beta1, b2 = hyper.beta2, lr = hyper.learningRate, eps = hyper.epsilon
        let ob1 = 1 - b1, ob2 = 1 - b2
        var i = lo
        while i < hi {
            let grad = g[i] * gradScale
            let mi = b1 * m[i] + ob1 * grad
            let vi = b2 * v[i] + ob2 * grad * grad
            m[i] = mi
            v[i] = vi
            let mHat = mi / c.b1t
            let vHat = vi / c.b2t
            p[i] -= lr * (mHat / (vHat.squareRoot() + eps) + wd * p[i])
            i &+= 1
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

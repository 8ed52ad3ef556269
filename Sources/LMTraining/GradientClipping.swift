import LMSupport

/// Global gradient-norm clipping (as `torch.nn.utils.clip_grad_norm_`), computed without
/// touching the gradients: the returned scale is folded into the AdamW step.
///
/// Performance notes: one read pass over n floats, fixed 64k-element chunks summed in Double
/// and combined in chunk order, so the norm is bit-identical for any thread count.
public enum GradientClipping {
    static let chunk = 1 << 16

    /// ‖g‖₂ over all elements, accumulated in Double. O(n).
    public static func globalNorm(_ g: UnsafeBufferPointer<Float>, threads: Int = Threads.available) -> Double {
        let n = g.count
        guard n > 0 else { return 0 }
        let chunks = (n + chunk - 1) / chunk
        let partial = ResultSlots<Double>(count: chunks)
        let base = SendableConstPointer(g.baseAddress!)
        // Safety: read-only; each task writes only its own slot.
        Parallel.forEach(chunks, threads: threads) { k in
            let lo = k &* chunk, hi = min(n, lo &+ chunk)
            var s: Double = 0
            var i = lo
            while i < hi { let x = Double(base[i]); s += x * x; i &+= 1 }
            partial[k] = s
        }
        var total: Double = 0
        for s in partial.values { total += s }
        return total.squareRoot()
    }

    /// Naive twin of `globalNorm`: a single sequential Double sum.
    public static func globalNormNaive(_ g: [Float]) -> Double {
        var s: Double = 0
        for x in g { s += Double(x) * Double(x) }
        return s.squareRoot()
    }

    /// Factor that brings a gradient of norm `norm` down to at most `maxNorm`: 1 when it is already
    /// within (or when `maxNorm` ≤ 0, which disables clipping), else maxNorm / (norm + 1e-6).
    public static func scale(norm: Double, maxNorm: Double) -> Double {
        guard maxNorm > 0, norm > maxNorm else { return 1 }
        return maxNorm / (norm + 1e-6)
    }
}

import LMSupport

/// Softmax + cross-entropy over a padded vocabulary, fused.
///
/// logits are (N, Vp); only columns 0..<V are real tokens (V..<Vp are padding: excluded from the
/// softmax and given zero gradient). A target of −1 means "no loss here" (masked position).
///
/// Performance notes: rows in parallel; max, Σexp and the gradient pass run 16 lanes at a
/// time with `FastMath.exp`. The backward pass writes ∂loss/∂logits over the logits in place
/// (the model does not keep both: for V = 50257 at B·T = 1024 that is 200 MB saved).
public enum CrossEntropy {
    /// For each row r: lse[r] = log Σ_{v<V} exp(logits[r, v]); losses[r] = lse[r] − logits[r, target]
    /// (0 where target = −1). Targets must be −1 or in 0..<V.
    public static func forward(losses: UnsafeMutablePointer<Float>, lse: UnsafeMutablePointer<Float>,
                               logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>,
                               rows: Int, vocab v: Int, paddedVocab vp: Int, threads: Int = Threads.available) {
        let ls = SendablePointer(losses), le = SendablePointer(lse)
        let lg = SendableConstPointer(logits), tg = SendableConstPointer(targets)
        Parallel.forRanges(rows, parts: rows * v >= 1 << 14 ? threads : 1) { range in
            for r in range {
                let row = lg.pointer + r &* vp
                let l = logSumExp(row, count: v)
                le[r] = l
                let t = Int(tg[r])
                ls[r] = t < 0 ? 0 : l - row[t]
            }
        }
    }

    /// dlogits (N, Vp) = (softmax(logits[r, 0..<V]) − onehot(target)) · s_r for rows whose target is
    /// not −1, 0 for masked rows and for padding columns, where s_r = `rowScales[r]` when given
    /// (N floats, any sign: a weighted loss Σ_r s_r·loss_r, as in policy gradients) and `scale`
    /// otherwise. `dlogits` may be `logits` (in place). `lse` is the forward's. The model passes
    /// scale = 1 / (number of unmasked targets).
    ///
    /// With `entropyWeights` (N floats, any sign) it adds e_r · ∂H_r/∂logits for the rows with a
    /// target, H_r the entropy of row r's softmax (see `entropy`): ∂H/∂x_j = −p_j·(log p_j + H).
    /// A PPO entropy bonus −c·mean_t H_t passes e_t = −c/N.
    public static func backward(dlogits: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>,
                                lse: UnsafePointer<Float>, targets: UnsafePointer<Int32>, scale: Float,
                                rowScales: UnsafePointer<Float>? = nil, entropyWeights: UnsafePointer<Float>? = nil,
                                rows: Int, vocab v: Int, paddedVocab vp: Int, threads: Int = Threads.available) {
        let d = SendablePointer(dlogits), lg = SendableConstPointer(logits)
        let le = SendableConstPointer(lse), tg = SendableConstPointer(targets)
        let rs = rowScales.map { SendableConstPointer($0) }
        let ew = entropyWeights.map { SendableConstPointer($0) }
        Parallel.forRanges(rows, parts: rows * v >= 1 << 14 ? threads : 1) { range in
            for r in range {
                let row = lg.pointer + r &* vp, out = d.pointer + r &* vp
                let t = Int(tg[r])
                let scale = rs.map { $0[r] } ?? scale
                let e = ew.map { $0[r] } ?? 0
                if t < 0 || (scale == 0 && e == 0) {
                    out.update(repeating: 0, count: vp)
                    continue
                }
                if e != 0 {
                    entropyRowBackward(out, row, lse: le[r], target: t, scale: scale, entropyWeight: e, vocab: v, paddedVocab: vp)
                    continue
                }
                let shift = FastMath.Vector(repeating: le[r]), sv = FastMath.Vector(repeating: scale)
                var j = 0
                while j + 16 <= v {
                    let x = UnsafeRawPointer(row + j).loadUnaligned(as: FastMath.Vector.self)
                    UnsafeMutableRawPointer(out + j).storeBytes(of: FastMath.exp(x - shift) * sv,
                                                                as: FastMath.Vector.self)
                    j += 16
                }
                while j < v { out[j] = FastMath.exp(row[j] - le[r]) * scale; j += 1 }
                if vp > v { (out + v).update(repeating: 0, count: vp - v) }
                out[t] -= scale
            }
        }
    }

    /// One row of `backward` with an entropy term: out (Vp) = s·(p − onehot(t)) − e·p·(log p + H),
    /// padding 0. `out` may be `row` (H is summed before anything is written).
    @inline(__always)
    static func entropyRowBackward(_ out: UnsafeMutablePointer<Float>, _ row: UnsafePointer<Float>, lse: Float, target t: Int,
                                   scale: Float, entropyWeight e: Float, vocab v: Int, paddedVocab vp: Int) {
        let h = rowEntropy(row, lse: lse, count: v)
        let shift = FastMath.Vector(repeating: lse), sv = FastMath.Vector(repeating: scale)
        let ev = FastMath.Vector(repeating: e), hv = FastMath.Vector(repeating: h)
        var j = 0
        while j + 16 <= v {
            let logp = UnsafeRawPointer(row + j).loadUnaligned(as: FastMath.Vector.self) - shift
            let p = FastMath.exp(logp)
            UnsafeMutableRawPointer(out + j).storeBytes(of: p * sv - ev * p * (logp + hv), as: FastMath.Vector.self)
            j += 16
        }
        while j < v {
            let logp = row[j] - lse, p = FastMath.exp(logp)
            out[j] = p * scale - e * p * (logp + h)
            j += 1
        }
        if vp > v { (out + v).update(repeating: 0, count: vp - v) }
        out[t] -= scale
    }

    /// H = −Σ_{j<n} p_j·log p_j of the softmax of x (n), given lse = log Σ exp(x): nats, ≥ 0.
    @inline(__always)
    static func rowEntropy(_ x: UnsafePointer<Float>, lse: Float, count n: Int) -> Float {
        let shift = FastMath.Vector(repeating: lse)
        var acc = FastMath.Vector(repeating: 0)
        var j = 0
        while j + 16 <= n {
            let logp = UnsafeRawPointer(x + j).loadUnaligned(as: FastMath.Vector.self) - shift
            acc += FastMath.exp(logp) * logp
            j += 16
        }
        var s = acc.sum()
        while j < n { let logp = x[j] - lse; s += FastMath.exp(logp) * logp; j += 1 }
        return max(0, -s)
    }

    /// entropy (N) = H(softmax(logits[r, 0..<V])) per row, nats (every row, masked ones too);
    /// `lse` is the forward's. Read before `backward` overwrites the logits.
    public static func entropy(into entropy: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>,
                               lse: UnsafePointer<Float>, rows: Int, vocab v: Int, paddedVocab vp: Int,
                               threads: Int = Threads.available) {
        let h = SendablePointer(entropy), lg = SendableConstPointer(logits), le = SendableConstPointer(lse)
        Parallel.forRanges(rows, parts: rows * v >= 1 << 14 ? threads : 1) { range in
            for r in range { h[r] = rowEntropy(lg.pointer + r &* vp, lse: le[r], count: v) }
        }
    }

    /// log Σ_{i<n} exp(x[i]), stable (max subtracted).
    @inline(__always)
    public static func logSumExp(_ x: UnsafePointer<Float>, count n: Int) -> Float {
        var mv = FastMath.Vector(repeating: -.infinity)
        var j = 0
        while j + 16 <= n {
            let v = UnsafeRawPointer(x + j).loadUnaligned(as: FastMath.Vector.self)
            mv.replace(with: v, where: v .> mv)
            j += 16
        }
        var m = FastMath.horizontalMax(mv)
        while j < n { m = max(m, x[j]); j += 1 }
        let mvec = FastMath.Vector(repeating: m)
        var sv = FastMath.Vector(repeating: 0)
        j = 0
        while j + 16 <= n {
            sv += FastMath.exp(UnsafeRawPointer(x + j).loadUnaligned(as: FastMath.Vector.self) - mvec)
            j += 16
        }
        var s = sv.sum()
        while j < n { s += FastMath.exp(x[j] - m); j += 1 }
        return m + _logf(s)
    }

    // MARK: naive twins

    /// Per-row losses (0 where target = −1) over logits (N, Vp), real columns 0..<V.
    public static func forwardNaive(logits: [Double], targets: [Int32], rows: Int, vocab v: Int,
                                    paddedVocab vp: Int) -> [Double] {
        (0..<rows).map { r in
            let t = Int(targets[r])
            if t < 0 { return 0 }
            let row = logits[r * vp ..< r * vp + v]
            let m = row.max()!
            let lse = m + _log(row.map { _exp($0 - m) }.reduce(0, +))
            return lse - logits[r * vp + t]
        }
    }

    /// Entropy of each row's softmax over columns 0..<V, nats.
    public static func entropyNaive(logits: [Double], rows: Int, vocab v: Int, paddedVocab vp: Int) -> [Double] {
        (0..<rows).map { r in
            let row = logits[r * vp ..< r * vp + v]
            let m = row.max()!
            let z = row.map { _exp($0 - m) }.reduce(0, +)
            return -row.map { x in let p = _exp(x - m) / z; return p * _log(p) }.reduce(0, +)
        }
    }

    /// ∂(Σ_r s_r · loss_r + Σ_r e_r · H_r)/∂logits, (N, Vp), with s_r = `rowScales[r]` if given, else
    /// `scale`, and e_r = `entropyWeights[r]` (0 if not given), over rows with a target.
    public static func backwardNaive(logits: [Double], targets: [Int32], scale: Double, rowScales: [Double]? = nil,
                                     entropyWeights: [Double]? = nil,
                                     rows: Int, vocab v: Int, paddedVocab vp: Int) -> [Double] {
        var d = [Double](repeating: 0, count: rows * vp)
        for r in 0..<rows {
            let t = Int(targets[r])
            if t < 0 { continue }
            let scale = rowScales?[r] ?? scale
            let e = entropyWeights?[r] ?? 0
            let row = logits[r * vp ..< r * vp + v]
            let m = row.max()!
            let z = row.map { _exp($0 - m) }.reduce(0, +)
            let p = (0..<v).map { _exp(logits[r * vp + $0] - m) / z }
            let h = -p.map { $0 * _log($0) }.reduce(0, +)
            for j in 0..<v { d[r * vp + j] = p[j] * scale - e * p[j] * (_log(p[j]) + h) }
            d[r * vp + t] -= scale
        }
        return d
    }
}

/// Softmax of one row of logits, for sampling.
public enum Softmax {
    /// probs (n) = softmax(logits (n) / temperature); temperature > 0.
    public static func forward(probs: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>, count n: Int,
                               temperature: Float = 1) {
        var m = -Float.infinity
        for i in 0..<n { m = max(m, logits[i]) }
        var s: Float = 0
        for i in 0..<n {
            let e = FastMath.exp((logits[i] - m) / temperature)
            probs[i] = e
            s += e
        }
        let inv = 1 / s
        for i in 0..<n { probs[i] *= inv }
    }
}

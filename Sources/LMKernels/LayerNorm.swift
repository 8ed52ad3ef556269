import LMSupport

/// LayerNorm over the last axis: out = (x − mean) · rstd · weight + bias, rstd = 1/√(var + eps),
/// eps = 1e-5 (GPT-2), biased variance (as PyTorch).
///
/// Performance notes: forward is parallel over rows. Backward is one pass over rows, parallel
/// over blocks of 128 rows: each block sums its dweight/dbias contributions into its own
/// partial (2·C floats, in L1), and the partials are added in block order at the end
/// (deterministic for any thread count). The first version summed dweight/dbias in a second
/// pass over columns, reading dout and inp again: `tiny`'s nine LayerNorm backwards took
/// 4.0–4.3 ms per step with it and take 1.8–2.3 ms now (5 interleaved `lmkit-bench model` runs).
/// Row reductions use 16-lane partial sums (`Reduce`): a plain float `for` loop is one dependent
/// add per element.
public enum LayerNorm {
    public static let eps: Float = 1e-5

    /// inp (N, C) → out (N, C); saves mean (N) and rstd (N) for `backward`.
    public static func forward(out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
                               rstd: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                               rows: Int, channels c: Int, threads: Int = Threads.available) {
        let o = SendablePointer(out), m = SendablePointer(mean), rs = SendablePointer(rstd)
        let x = SendableConstPointer(inp), w = SendableConstPointer(weight), b = SendableConstPointer(bias)
        Parallel.forRanges(rows, parts: rows * c >= 1 << 14 ? threads : 1) { range in
            for r in range {
                normalizeRow(x.pointer + r &* c, out: o.pointer + r &* c, mean: m.pointer + r, rstd: rs.pointer + r,
                             weight: w.pointer, bias: b.pointer, channels: c)
            }
        }
    }

    /// Residual add fused with the LayerNorm that follows it: res (N, C) = a + b, then
    /// out (N, C) = layernorm(res) with mean (N) and rstd (N) saved, row by row while the row is
    /// in L1 (one pass over memory instead of two).
    public static func forward(out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
                               rstd: UnsafeMutablePointer<Float>, residual res: UnsafeMutablePointer<Float>,
                               _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                               rows: Int, channels c: Int, threads: Int = Threads.available) {
        let o = SendablePointer(out), m = SendablePointer(mean), rs = SendablePointer(rstd)
        let sum = SendablePointer(res), x = SendableConstPointer(a), y = SendableConstPointer(b)
        let w = SendableConstPointer(weight), bb = SendableConstPointer(bias)
        Parallel.forRanges(rows, parts: rows * c >= 1 << 14 ? threads : 1) { range in
            for r in range {
                let off = r &* c, sr = sum.pointer + off, xr = x.pointer + off, yr = y.pointer + off
                for i in 0..<c { sr[i] = xr[i] + yr[i] }
                normalizeRow(sr, out: o.pointer + off, mean: m.pointer + r, rstd: rs.pointer + r, weight: w.pointer,
                             bias: bb.pointer, channels: c)
            }
        }
    }

    /// One row: out (C) = (x − mean)·rstd·weight + bias; stores mean and rstd.
    @inline(__always)
    static func normalizeRow(_ xr: UnsafePointer<Float>, out orow: UnsafeMutablePointer<Float>,
                             mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
                             weight w: UnsafePointer<Float>, bias b: UnsafePointer<Float>, channels c: Int) {
        let mu = Reduce.sum(xr, c) / Float(c)
        let v = Reduce.sumOfSquaredDeviations(xr, c, mean: mu)
        let s = 1 / (v / Float(c) + eps).squareRoot()
        for i in 0..<c { orow[i] = (xr[i] - mu) * s * w[i] + b[i] }
        mean.pointee = mu
        rstd.pointee = s
    }

    /// Given dout (N, C): dinp (N, C) **+=** ∂/∂inp, dweight (C) += Σ dout·x̂, dbias (C) += Σ dout,
    /// with x̂ = (inp − mean)·rstd from the saved mean/rstd.
    public static func backward(dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>,
                                dbias: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                                inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                                rows: Int, channels c: Int, threads: Int = Threads.available) {
        let di = SendablePointer(dinp), g = SendableConstPointer(dout), x = SendableConstPointer(inp)
        let w = SendableConstPointer(weight), m = SendableConstPointer(mean), rs = SendableConstPointer(rstd)
        // Per block of `backwardBlockRows` rows: partial Σ dout·x̂ (c floats) then Σ dout (c floats).
        let blocks = (rows + backwardBlockRows - 1) / backwardBlockRows
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: max(1, blocks * 2 * c))
        defer { partials.deallocate() }
        partials.initialize(repeating: 0, count: max(1, blocks * 2 * c))
        let ps = SendablePointer(partials)
        let parts = rows * c >= 1 << 14 ? min(threads, blocks) : 1
        typealias V = FastMath.Vector
        Parallel.forRanges(blocks, parts: parts) { range in
            for block in range {
                let pw = ps.pointer + block &* 2 &* c, pb = pw + c
                for r in (block &* backwardBlockRows) ..< min(rows, (block &+ 1) &* backwardBlockRows) {
                    let xr = x.pointer + r &* c, gr = g.pointer + r &* c, dr = di.pointer + r &* c
                    let mu = m[r], s = rs[r]
                    // Σ g·w and Σ g·w·x̂ = rstd·(Σ g·w·x − mean·Σ g·w), with 16-lane partial sums.
                    var accG = V(repeating: 0), accGX = V(repeating: 0)
                    var i = 0
                    while i + 16 <= c {
                        let gw = FastMath.load(gr + i) * FastMath.load(w.pointer + i)
                        accG += gw
                        accGX += gw * FastMath.load(xr + i)
                        i += 16
                    }
                    var sumG = accG.sum(), sumGWX = accGX.sum()
                    while i < c { let gw = gr[i] * w[i]; sumG += gw; sumGWX += gw * xr[i]; i += 1 }
                    let meanG = sumG / Float(c), meanGX = (sumGWX - mu * sumG) * s / Float(c)
                    let vMu = V(repeating: mu), vS = V(repeating: s)
                    let vMeanG = V(repeating: meanG), vMeanGX = V(repeating: meanGX)
                    i = 0
                    while i + 16 <= c {
                        let gv = FastMath.load(gr + i), xhat = (FastMath.load(xr + i) - vMu) * vS
                        FastMath.store(FastMath.load(dr + i) + (gv * FastMath.load(w.pointer + i) - vMeanG - xhat * vMeanGX) * vS, dr + i)
                        FastMath.store(FastMath.load(pw + i) + gv * xhat, pw + i)
                        FastMath.store(FastMath.load(pb + i) + gv, pb + i)
                        i += 16
                    }
                    while i < c {
                        let xhat = (xr[i] - mu) * s
                        dr[i] += (gr[i] * w[i] - meanG - xhat * meanGX) * s
                        pw[i] += gr[i] * xhat
                        pb[i] += gr[i]
                        i += 1
                    }
                }
            }
        }
        for block in 0..<blocks {
            let pw = partials + block * 2 * c, pb = pw + c
            for i in 0..<c {
                dweight[i] += pw[i]
                dbias[i] += pb[i]
            }
        }
    }

    /// Rows per partial sum of dweight/dbias in `backward` (fixed, so results do not depend on
    /// the thread count).
    static let backwardBlockRows = 128

    // MARK: naive twins

    /// inp (N, C) → out (N, C), in Double.
    public static func forwardNaive(inp: [Double], weight: [Double], bias: [Double], rows: Int,
                                    channels c: Int) -> [Double] {
        var out = [Double](repeating: 0, count: rows * c)
        for r in 0..<rows {
            let xs = Array(inp[r * c ..< (r + 1) * c])
            let mu = xs.reduce(0, +) / Double(c)
            let v = xs.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(c)
            let s = 1 / (v + Double(eps)).squareRoot()
            for i in 0..<c { out[r * c + i] = (xs[i] - mu) * s * weight[i] + bias[i] }
        }
        return out
    }

    /// (dinp, dweight, dbias) for `forwardNaive`, computed from scratch.
    public static func backwardNaive(dout: [Double], inp: [Double], weight: [Double], rows: Int,
                                     channels c: Int) -> (dinp: [Double], dweight: [Double], dbias: [Double]) {
        var dinp = [Double](repeating: 0, count: rows * c)
        var dw = [Double](repeating: 0, count: c), db = [Double](repeating: 0, count: c)
        for r in 0..<rows {
            let xs = Array(inp[r * c ..< (r + 1) * c])
            let mu = xs.reduce(0, +) / Double(c)
            let v = xs.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(c)
            let s = 1 / (v + Double(eps)).squareRoot()
            let xhat = xs.map { ($0 - mu) * s }
            let g = (0..<c).map { dout[r * c + $0] * weight[$0] }
            let meanG = g.reduce(0, +) / Double(c)
            let meanGX = zip(g, xhat).map { $0 * $1 }.reduce(0, +) / Double(c)
            for i in 0..<c {
                dinp[r * c + i] = (g[i] - meanG - xhat[i] * meanGX) * s
                dw[i] += dout[r * c + i] * xhat[i]
                db[i] += dout[r * c + i]
            }
        }
        return (dinp, dw, db)
    }
}

import LMSupport

/// LayerNorm over the last axis: out = (x − mean) · rstd · weight + bias, rstd = 1/√(var + eps),
/// eps = 1e-5 (GPT-2), biased variance (as PyTorch).
///
/// Performance notes: forward is parallel over rows; backward computes dinp parallel over rows
/// and dweight/dbias in a second pass parallel over column ranges (each column summed in row
/// order: deterministic for any thread count, no scratch memory). Both passes are a few % of a
/// step; a fused single pass with per-thread partial sums was not needed. Row reductions use
/// 16-lane partial sums (`Reduce`): a plain float `for` loop is one dependent add per element.
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
        let di = SendablePointer(dinp), dw = SendablePointer(dweight), db = SendablePointer(dbias)
        let g = SendableConstPointer(dout), x = SendableConstPointer(inp), w = SendableConstPointer(weight)
        let m = SendableConstPointer(mean), rs = SendableConstPointer(rstd)
        let parts = rows * c >= 1 << 14 ? threads : 1
        Parallel.forRanges(rows, parts: parts) { range in
            for r in range {
                let xr = x.pointer + r &* c, gr = g.pointer + r &* c, dr = di.pointer + r &* c
                let mu = m[r], s = rs[r]
                // Σ g·w and Σ g·w·x̂ = rstd·(Σ g·w·x − mean·Σ g·w), with 16-lane partial sums.
                var accG = FastMath.Vector(repeating: 0), accGX = FastMath.Vector(repeating: 0)
                var i = 0
                while i + 16 <= c {
                    let gw = UnsafeRawPointer(gr + i).loadUnaligned(as: FastMath.Vector.self)
                        * UnsafeRawPointer(w.pointer + i).loadUnaligned(as: FastMath.Vector.self)
                    accG += gw
                    accGX += gw * UnsafeRawPointer(xr + i).loadUnaligned(as: FastMath.Vector.self)
                    i += 16
                }
                var sumG = accG.sum(), sumGWX = accGX.sum()
                while i < c { let gw = gr[i] * w[i]; sumG += gw; sumGWX += gw * xr[i]; i += 1 }
                let meanG = sumG / Float(c), meanGX = (sumGWX - mu * sumG) * s / Float(c)
                for i in 0..<c {
                    let xhat = (xr[i] - mu) * s
                    dr[i] += (gr[i] * w[i] - meanG - xhat * meanGX) * s
                }
            }
        }
        Parallel.forRanges(c, parts: c >= 64 ? parts : 1) { cols in
            let lo = cols.lowerBound, n = cols.count
            for r in 0..<rows {
                let xr = x.pointer + (r &* c &+ lo), gr = g.pointer + (r &* c &+ lo)
                let mu = m[r], s = rs[r]
                let dwp = dw.pointer + lo, dbp = db.pointer + lo
                for i in 0..<n {
                    dbp[i] += gr[i]
                    dwp[i] += gr[i] * (xr[i] - mu) * s
                }
            }
        }
    }

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

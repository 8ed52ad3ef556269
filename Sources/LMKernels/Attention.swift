import LMSupport

/// Causal multi-head self-attention (the part between `c_attn` and `c_proj`).
///
/// qkv (B, T, 3C) holds q | k | v along the last axis, head h using channels h·hs ..< (h+1)·hs of
/// each third. For each (b, h): S = Q·Kᵀ/√hs (T, T), P = softmax over j ≤ i (causal; P[i, j>i] = 0),
/// out (B, T, C)[b, :, h·hs…] = P·V. P is saved in `att` (B, NH, T, T) for the backward pass.
///
/// Performance notes: the (b, h) pairs run in parallel (Parallel, one contiguous range of pairs
/// per thread, OpenBLAS forced to one thread inside so that the two levels do not oversubscribe
/// the cores); each pair's products are sgemm calls on strided slices (lda = 3C). Rows are
/// processed in blocks of `blockRows`: block [i0, i1) only multiplies against keys 0..<i1, which
/// skips most of the masked upper triangle (~½ of the attention FLOPs at T = 256). Measured with
/// `lmkit-bench kernels` (one thread, one sequence of `small`, T = 256, C = 384, NH = 6; fwd + bwd):
/// blocks of 256 (the plain square) 4.0 ms, 128 3.2 ms, 64 2.6 ms, 32 2.5 ms; for `tiny`
/// (T = 128, C = 128) 32 is also best (0.25 ms). One exp per probability and 16-lane row
/// reductions took forward from 1.74 to 1.16 ms and backward from 1.94 to 1.36 ms. A fused
/// (flash-style) loop kernel was not tried: attention is ~8 % of a `small` step.
public enum Attention {
    /// Rows per causal block (see Performance notes).
    nonisolated(unsafe) public static var blockRows = 32

    /// Floats of scratch `backward` needs: one (T, T) tile per thread.
    public static func scratchCount(time: Int, threads: Int) -> Int { max(1, threads) * time * time }

    /// qkv (B, T, 3C) → out (B, T, C); att (B, NH, T, T) receives the attention probabilities.
    public static func forward(out: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>,
                               qkv: UnsafePointer<Float>, batch: Int, time t: Int, channels c: Int,
                               heads nh: Int, threads: Int = Threads.available) {
        let hs = c / nh
        let scale = 1 / Float(hs).squareRoot()
        let o = SendablePointer(out), a = SendablePointer(att), x = SendableConstPointer(qkv)
        let block = blockRows
        parallelPairs(batch * nh, threads: threads) { pair, _ in
            let b = pair / nh, h = pair % nh
            let qOffset: Int = b &* t &* 3 &* c &+ h &* hs
            let q = x.pointer + qOffset
            let k = q + c, v = q + 2 &* c
            let p = a.pointer + pair &* t &* t
            let yOffset: Int = b &* t &* c &+ h &* hs
            let y = o.pointer + yOffset
            var i0 = 0
            while i0 < t {
                let i1 = min(t, i0 + block)
                // S[i0:i1, 0:i1] = scale · Q[i0:i1] · K[0:i1]ᵀ
                Matmul.gemm(transA: false, transB: true, m: i1 - i0, n: i1, k: hs, alpha: scale,
                            a: q + i0 &* 3 &* c, lda: 3 * c, b: k, ldb: 3 * c, beta: 0, c: p + i0 &* t, ldc: t)
                for i in i0..<i1 { causalSoftmaxRow(p + i &* t, valid: i + 1, total: t) }
                // Y[i0:i1] = P[i0:i1, 0:i1] · V[0:i1]
                Matmul.gemm(transA: false, transB: false, m: i1 - i0, n: hs, k: i1,
                            a: p + i0 &* t, lda: t, b: v, ldb: 3 * c, beta: 0, c: y + i0 &* c, ldc: c)
                i0 = i1
            }
        }
    }

    /// Given dout (B, T, C): dqkv (B, T, 3C) = ∂/∂qkv (overwritten). Needs the forward's `att` and
    /// `scratch` of `scratchCount(time:threads:)` floats.
    public static func backward(dqkv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                                qkv: UnsafePointer<Float>, att: UnsafePointer<Float>,
                                scratch: UnsafeMutablePointer<Float>, batch: Int, time t: Int, channels c: Int,
                                heads nh: Int, threads: Int = Threads.available) {
        let hs = c / nh
        let scale = 1 / Float(hs).squareRoot()
        let dx = SendablePointer(dqkv), g = SendableConstPointer(dout), x = SendableConstPointer(qkv)
        let a = SendableConstPointer(att), sc = SendablePointer(scratch)
        let block = blockRows
        parallelPairs(batch * nh, threads: threads) { pair, worker in
            let b = pair / nh, h = pair % nh
            let base: Int = b &* t &* 3 &* c &+ h &* hs
            let q = x.pointer + base, k = q + c, v = q + 2 &* c
            let dq = dx.pointer + base, dk = dq + c, dv = dq + 2 &* c
            let p = a.pointer + pair &* t &* t
            let dyOffset: Int = b &* t &* c &+ h &* hs
            let dy = g.pointer + dyOffset
            let ds = sc.pointer + worker &* t &* t
            for i in 0..<t {
                (dk + i &* 3 &* c).update(repeating: 0, count: hs)
                (dv + i &* 3 &* c).update(repeating: 0, count: hs)
            }
            var i0 = 0
            while i0 < t {
                let i1 = min(t, i0 + block), m = i1 - i0
                // dP[i0:i1, 0:i1] = dY[i0:i1] · V[0:i1]ᵀ
                Matmul.gemm(transA: false, transB: true, m: m, n: i1, k: hs, a: dy + i0 &* c, lda: c,
                            b: v, ldb: 3 * c, beta: 0, c: ds + i0 &* t, ldc: t)
                // dV[0:i1] += P[i0:i1, 0:i1]ᵀ · dY[i0:i1]
                Matmul.gemm(transA: true, transB: false, m: i1, n: hs, k: m, a: p + i0 &* t, lda: t,
                            b: dy + i0 &* c, ldb: c, beta: 1, c: dv, ldc: 3 * c)
                // dS = P ⊙ (dP − rowsum(P ⊙ dP)), zero above the diagonal
                for i in i0..<i1 {
                    let pr = p + i &* t, dr = ds + i &* t
                    let dot = Reduce.dot(pr, dr, i + 1)
                    for j in 0...i { dr[j] = pr[j] * (dr[j] - dot) }
                    if i + 1 < i1 { (dr + i + 1).update(repeating: 0, count: i1 - i - 1) }
                }
                // dQ[i0:i1] = scale · dS · K[0:i1];  dK[0:i1] += scale · dSᵀ · Q[i0:i1]
                Matmul.gemm(transA: false, transB: false, m: m, n: hs, k: i1, alpha: scale,
                            a: ds + i0 &* t, lda: t, b: k, ldb: 3 * c, beta: 0, c: dq + i0 &* 3 &* c, ldc: 3 * c)
                Matmul.gemm(transA: true, transB: false, m: i1, n: hs, k: m, alpha: scale,
                            a: ds + i0 &* t, lda: t, b: q + i0 &* 3 &* c, ldb: 3 * c, beta: 1, c: dk, ldc: 3 * c)
                i0 = i1
            }
        }
    }

    /// Softmax in place over row[0..<valid], zeros in row[valid..<total]. One exp per element:
    /// the lanes between `valid` and the next multiple of 16 are set to −∞ first so that the
    /// whole row runs in full vectors (the first version called logSumExp and then exp again,
    /// with scalar tails: attention forward was slower than backward at hs = 32).
    @inline(__always)
    static func causalSoftmaxRow(_ row: UnsafeMutablePointer<Float>, valid n: Int, total: Int) {
        typealias V = FastMath.Vector
        let padded = min(total, (n + 15) & ~15)
        var j = n
        while j < padded { row[j] = -.infinity; j += 1 }
        var mv = V(repeating: -.infinity)
        j = 0
        while j + 16 <= padded {
            let v = UnsafeRawPointer(row + j).loadUnaligned(as: V.self)
            mv.replace(with: v, where: v .> mv)
            j += 16
        }
        var m = mv.max()
        while j < padded { m = max(m, row[j]); j += 1 }
        let mvec = V(repeating: m)
        var sv = V(repeating: 0)
        j = 0
        while j + 16 <= padded {
            let e = FastMath.exp(UnsafeRawPointer(row + j).loadUnaligned(as: V.self) - mvec)
            UnsafeMutableRawPointer(row + j).storeBytes(of: e, as: V.self)
            sv += e
            j += 16
        }
        var sum = sv.sum()
        while j < padded { let e = FastMath.exp(row[j] - m); row[j] = e; sum += e; j += 1 }
        let inv = 1 / sum
        for k in 0..<n { row[k] *= inv }
        if n < total { (row + n).update(repeating: 0, count: total - n) }
    }

    /// Runs body(pair, worker) for pairs 0..<count, one contiguous range per worker (worker <
    /// threads indexes the scratch), with OpenBLAS single-threaded while it runs.
    static func parallelPairs(_ count: Int, threads: Int, _ body: @Sendable (Int, Int) -> Void) {
        let workers = max(1, min(threads, count))
        if workers == 1 {
            for i in 0..<count { body(i, 0) }
            return
        }
        BLAS.singleThreaded {
            Parallel.forEach(workers, threads: workers) { w in
                for i in (count * w / workers) ..< (count * (w + 1) / workers) { body(i, w) }
            }
        }
    }

    // MARK: naive twins

    /// qkv (B, T, 3C) → (out (B, T, C), att (B, NH, T, T)), plain loops in Double.
    public static func forwardNaive(qkv: [Double], batch: Int, time t: Int, channels c: Int, heads nh: Int)
        -> (out: [Double], att: [Double]) {
        let hs = c / nh
        let scale = 1 / Double(hs).squareRoot()
        var out = [Double](repeating: 0, count: batch * t * c)
        var att = [Double](repeating: 0, count: batch * nh * t * t)
        for b in 0..<batch { for h in 0..<nh { for i in 0..<t {
            var s = [Double](repeating: 0, count: i + 1)
            for j in 0...i {
                var dot = 0.0
                for d in 0..<hs { dot += qkv[(b * t + i) * 3 * c + h * hs + d] * qkv[(b * t + j) * 3 * c + c + h * hs + d] }
                s[j] = dot * scale
            }
            let m = s.max()!
            let e = s.map { _exp($0 - m) }
            let z = e.reduce(0, +)
            for j in 0...i {
                let pij = e[j] / z
                att[((b * nh + h) * t + i) * t + j] = pij
                for d in 0..<hs { out[(b * t + i) * c + h * hs + d] += pij * qkv[(b * t + j) * 3 * c + 2 * c + h * hs + d] }
            }
        } } }
        return (out, att)
    }

    /// dqkv (B, T, 3C) for `forwardNaive` given dout (B, T, C).
    public static func backwardNaive(dout: [Double], qkv: [Double], batch: Int, time t: Int, channels c: Int,
                                     heads nh: Int) -> [Double] {
        let hs = c / nh
        let scale = 1 / Double(hs).squareRoot()
        let att = forwardNaive(qkv: qkv, batch: batch, time: t, channels: c, heads: nh).att
        var d = [Double](repeating: 0, count: batch * t * 3 * c)
        func qi(_ b: Int, _ i: Int, _ h: Int, _ dd: Int, _ part: Int) -> Int { (b * t + i) * 3 * c + part * c + h * hs + dd }
        for b in 0..<batch { for h in 0..<nh { for i in 0..<t {
            var dp = [Double](repeating: 0, count: i + 1)
            for j in 0...i {
                let pij = att[((b * nh + h) * t + i) * t + j]
                for dd in 0..<hs {
                    let g = dout[(b * t + i) * c + h * hs + dd]
                    dp[j] += g * qkv[qi(b, j, h, dd, 2)]
                    d[qi(b, j, h, dd, 2)] += pij * g
                }
            }
            var dot = 0.0
            for j in 0...i { dot += att[((b * nh + h) * t + i) * t + j] * dp[j] }
            for j in 0...i {
                let ds = att[((b * nh + h) * t + i) * t + j] * (dp[j] - dot) * scale
                for dd in 0..<hs {
                    d[qi(b, i, h, dd, 0)] += ds * qkv[qi(b, j, h, dd, 1)]
                    d[qi(b, j, h, dd, 1)] += ds * qkv[qi(b, i, h, dd, 0)]
                }
            }
        } } }
        return d
    }
}

import LMSupport

/// Causal multi-head self-attention (the part between `c_attn` and `c_proj`).
///
/// qkv (B, T, 3C) holds q | k | v along the last axis, head h using channels h·hs ..< (h+1)·hs of
/// each third. For each (b, h): S = Q·Kᵀ/√hs (T, T), P = softmax over j ≤ i (causal; P[i, j>i] = 0),
/// out (B, T, C)[b, :, h·hs…] = P·V. P is saved in `att` (B, NH, T, T) for the backward pass:
/// row i holds P[i, 0...i], zeros up to the next multiple of 16 (or T), and the rest of the row
/// is never written (the backward pass reads only what the forward wrote).
///
/// Performance notes: the (b, h) pairs run in parallel (one contiguous range of pairs per thread).
/// Each pair is computed by the register-blocked loops of `AttentionTiles`, 4 query rows at a
/// time, each block only against keys 0…i (the masked upper triangle is skipped, not computed):
/// S = Q·Kᵀ reads a transposed copy of K (hs, T) made once per pair, the softmax runs on the
/// block's rows while they are in L1, then Y = P·V. The first version made one sgemm call per
/// 32-row block. `lmkit-bench kernels` (one thread, one sequence, same quiet run), sgemm blocks →
/// tiles: `tiny` (T = 128, C = 128, NH = 4) forward 0.13 → 0.10 ms, backward 0.13 → 0.13 ms;
/// `small` (T = 256, C = 384, NH = 6) forward 1.30 → 1.15 ms, backward 1.56 → 1.77 ms (slower).
/// Not storing P and recomputing it from a saved log-sum-exp in the backward pass (less DRAM
/// traffic, 140 MB less RSS at `small`) was tried: forward −2 ms, backward +3–5 ms per `tiny`
/// step in the model, slower at `small`; not kept. Instead the forward no longer writes the
/// zeros of P's upper triangle (half of its 8 MB per `tiny` layer went to DRAM as zeros), and
/// each pair starts with a burst of loads over the lines it will use (`AttentionTiles.touch`):
/// at the whole `tiny` layer (B = 32, 2 threads, `lmkit-bench kernels`, interleaved runs)
/// backward 3.1–3.3 → 2.6–2.8 ms, forward ~10% faster alone; in the model step (where qkv is
/// still in cache from c_attn) the backward gains ~1 ms per layer.
/// Tried again on the Intel VM (2026-12-03, OpenBLAS SkylakeX kernels, AVX-512 sgemm at about
/// twice these AVX2 loops' peak): sgemm on 64-row causal blocks per pair. Alone, `small`'s layer
/// (B 16, T 256, hs 64, 2 threads) ran forward 15.0–16.6 → 11.7–14.0 ms and backward 25.3–28.6
/// → 19.1–21.9 ms, `tiny`'s was slower; but in the `small` training step (3 interleaved pairs)
/// attention's gain was eaten by `matmul.backward` (734–805 → 849–866 ms) and the step did not
/// improve (2069–2153 vs 2060–2470 ms). Not kept.
public enum Attention {
    /// Floats of scratch `backward` needs: one (T, T) tile and one (hs, T) panel per thread.
    public static func scratchCount(time: Int, headSize: Int, threads: Int) -> Int {
        max(1, threads) * time * (time + headSize)
    }

    /// qkv (B, T, 3C) → out (B, T, C); att (B, NH, T, T) receives the attention probabilities.
    /// With `segmentStarts` (B, T), query i of row b attends only to keys segmentStarts[b, i]...i
    /// (packed documents do not see each other; P is exactly 0 before the start). The backward
    /// pass needs no mask: it follows P.
    public static func forward(out: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>,
                               qkv: UnsafePointer<Float>, batch: Int, time t: Int, channels c: Int,
                               heads nh: Int, segmentStarts: UnsafePointer<Int32>? = nil,
                               threads: Int = Threads.available) {
        typealias Tiles = AttentionTiles
        let hs = c / nh, ld = 3 * c
        let scale = 1 / Float(hs).squareRoot()
        let o = SendablePointer(out), a = SendablePointer(att), x = SendableConstPointer(qkv)
        let workers = max(1, min(threads, batch * nh))
        let panels = UnsafeMutablePointer<Float>.allocate(capacity: workers * hs * t)
        defer { panels.deallocate() }
        let pn = SendablePointer(panels)
        let ss = segmentStarts.map { SendableConstPointer($0) }
        parallelPairs(batch * nh, workers: workers) { pair, worker in
            let b = pair / nh, h = pair % nh
            let qOffset: Int = b &* t &* ld &+ h &* hs
            let q = x.pointer + qOffset
            let k = q + c, v = q + 2 &* c
            let p = a.pointer + pair &* t &* t
            let yOffset: Int = b &* t &* c &+ h &* hs
            let y = o.pointer + yOffset
            let kt = pn.pointer + worker &* hs &* t  // Kᵀ (hs, T)
            Tiles.touch(q, rows: t, ld: ld, parts: 3, partStride: c, width: hs, into: kt)
            Tiles.touch(y, rows: t, ld: c, parts: 1, partStride: 0, width: hs, into: kt)
            Tiles.touchTriangle(p, rows: t, ld: t, into: kt)
            Tiles.transpose(k, ldx: ld, count: t, depth: hs, into: kt, ldp: t)
            var i0 = 0
            while i0 < t {
                let valid = min(Tiles.rows, t - i0), keys = i0 + valid
                // S[i0..<i0+valid, 0..<keys rounded up to 16] = scale · Q · Kᵀ
                Tiles.rowsTimesPanel(valid: valid, cols: min(t, (keys + 15) & ~15), depth: hs, alpha: scale,
                                     x: q + i0 &* ld, ldx: ld, panel: kt, ldp: t, s: p + i0 &* t, lds: t)
                for i in i0..<keys {
                    let row = p + i &* t
                    let from = ss.map { Int($0[b &* t &+ i]) } ?? 0
                    if from > 0 { row.update(repeating: -.infinity, count: from) }
                    causalSoftmaxRow(row, valid: i + 1, total: t)
                    if from > 0 { row.update(repeating: 0, count: from) }   // exp(−∞) is clamped, not 0
                }
                // Y[i0..<keys] = P[i0..<keys, 0..<keys] · V[0..<keys]
                Tiles.rowsCombination(valid: valid, n: keys, depth: hs, alpha: 1, w: p + i0 &* t, ldw: t,
                                      z: v, ldz: ld, out: y + i0 &* c, ldo: c)
                i0 = keys
            }
        }
    }

    /// Given dout (B, T, C): dqkv (B, T, 3C) = ∂/∂qkv (overwritten). Needs the forward's `att` and
    /// `scratch` of `scratchCount(time:headSize:threads:)` floats.
    public static func backward(dqkv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                                qkv: UnsafePointer<Float>, att: UnsafePointer<Float>,
                                scratch: UnsafeMutablePointer<Float>, batch: Int, time t: Int, channels c: Int,
                                heads nh: Int, threads: Int = Threads.available) {
        typealias Tiles = AttentionTiles
        let hs = c / nh, ld = 3 * c, r4 = Tiles.rows
        let scale = 1 / Float(hs).squareRoot()
        let dx = SendablePointer(dqkv), g = SendableConstPointer(dout), x = SendableConstPointer(qkv)
        let a = SendableConstPointer(att), sc = SendablePointer(scratch)
        let workers = max(1, min(threads, batch * nh))
        parallelPairs(batch * nh, workers: workers) { pair, worker in
            let b = pair / nh, h = pair % nh
            let base: Int = b &* t &* ld &+ h &* hs
            let q = x.pointer + base, k = q + c, v = q + 2 &* c
            let dq = dx.pointer + base, dk = dq + c, dv = dq + 2 &* c
            let p = a.pointer + pair &* t &* t
            let dyOffset: Int = b &* t &* c &+ h &* hs
            let dy = g.pointer + dyOffset
            let ds = sc.pointer + worker &* t &* (t + hs)  // dP, then dS (T, T)
            let vt = ds + t &* t                            // Vᵀ (hs, T)
            Tiles.touch(q, rows: t, ld: ld, parts: 3, partStride: c, width: hs, into: vt)
            Tiles.touch(dy, rows: t, ld: c, parts: 1, partStride: 0, width: hs, into: vt)
            Tiles.touchTriangle(p, rows: t, ld: t, into: vt)
            Tiles.touch(dq, rows: t, ld: ld, parts: 3, partStride: c, width: hs, into: vt)
            Tiles.transpose(v, ldx: ld, count: t, depth: hs, into: vt, ldp: t)
            var i0 = 0
            while i0 < t {
                let valid = min(r4, t - i0), keys = i0 + valid
                // dP[i0..<keys, 0..<keys rounded up to 16] = dY · Vᵀ
                Tiles.rowsTimesPanel(valid: valid, cols: min(t, (keys + 15) & ~15), depth: hs, alpha: 1,
                                     x: dy + i0 &* c, ldx: c, panel: vt, ldp: t, s: ds + i0 &* t, lds: t)
                // dS = scale · P ⊙ (dP − rowsum(P ⊙ dP)) for j ≤ i, zero for i < j < keys
                for i in i0..<keys {
                    let pr = p + i &* t, dr = ds + i &* t
                    let dot = Reduce.dot(pr, dr, i + 1)
                    for j in 0...i { dr[j] = scale * pr[j] * (dr[j] - dot) }
                    if i + 1 < keys { (dr + i + 1).update(repeating: 0, count: keys - i - 1) }
                }
                // dQ[i0..<keys] = dS[i0..<keys, 0..<keys] · K[0..<keys]
                Tiles.rowsCombination(valid: valid, n: keys, depth: hs, alpha: 1, w: ds + i0 &* t, ldw: t,
                                      z: k, ldz: ld, out: dq + i0 &* ld, ldo: ld)
                i0 = keys
            }
            // dK[j0..<j0+4] = dS[j0..<T, j0..<j0+4]ᵀ · Q[j0..<T];  dV likewise with P and dY.
            var j0 = 0
            while j0 < t {
                let valid = min(r4, t - j0)
                Tiles.columnsCombination(valid: valid, col: j0, from: j0, n: t, depth: hs, w: ds, ldw: t,
                                         z: q, ldz: ld, out: dk + j0 &* ld, ldo: ld)
                Tiles.columnsCombination(valid: valid, col: j0, from: j0, n: t, depth: hs, w: p, ldw: t,
                                         z: dy, ldz: c, out: dv + j0 &* ld, ldo: ld)
                j0 += valid
            }
        }
    }

    /// Softmax in place over row[0..<valid], zeros in row[valid..<padded] with padded =
    /// min(total, valid rounded up to 16); row[padded...] is not touched. One exp per element:
    /// the lanes between `valid` and the next multiple of 16 are set to −∞ first so that the
    /// whole row runs in full vectors (the first version called logSumExp and then exp again,
    /// with scalar tails: attention forward was slower than backward at hs = 32). The row maximum
    /// uses `FastMath.horizontalMax`: `SIMD.max()` was a scalar compare loop, ~40% of this
    /// function in a profile (`tiny` layer, 2 threads: 2.2 → 1.7–1.9 ms; `attention.forward` in
    /// the model step 8.5 → 7.2 ms, 4 interleaved runs).
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
        var m = FastMath.horizontalMax(mv)
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
        if n < padded { (row + n).update(repeating: 0, count: padded - n) }
    }

    /// Runs body(pair, worker) for pairs 0..<count, one contiguous range per worker (worker <
    /// workers indexes the per-thread scratch).
    static func parallelPairs(_ count: Int, workers: Int, _ body: @Sendable (Int, Int) -> Void) {
        if workers <= 1 {
            for i in 0..<count { body(i, 0) }
            return
        }
        Parallel.forEach(workers, threads: workers) { w in
            for i in (count * w / workers) ..< (count * (w + 1) / workers) { body(i, w) }
        }
    }

    // MARK: naive twins

    /// qkv (B, T, 3C) → (out (B, T, C), att (B, NH, T, T)), plain loops in Double.
    public static func forwardNaive(qkv: [Double], batch: Int, time t: Int, channels c: Int, heads nh: Int,
                                    segmentStarts: [Int32]? = nil) -> (out: [Double], att: [Double]) {
        let hs = c / nh
        let scale = 1 / Double(hs).squareRoot()
        var out = [Double](repeating: 0, count: batch * t * c)
        var att = [Double](repeating: 0, count: batch * nh * t * t)
        for b in 0..<batch { for h in 0..<nh { for i in 0..<t {
            let from = Int(segmentStarts?[b * t + i] ?? 0)
            var s = [Double](repeating: -.infinity, count: i + 1)
            for j in from...i {
                var dot = 0.0
                for d in 0..<hs { dot += qkv[(b * t + i) * 3 * c + h * hs + d] * qkv[(b * t + j) * 3 * c + c + h * hs + d] }
                s[j] = dot * scale
            }
            let m = s.max()!
            let e = s.map { $0 == -.infinity ? 0 : _exp($0 - m) }
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
                                     heads nh: Int, segmentStarts: [Int32]? = nil) -> [Double] {
        let hs = c / nh
        let scale = 1 / Double(hs).squareRoot()
        let att = forwardNaive(qkv: qkv, batch: batch, time: t, channels: c, heads: nh, segmentStarts: segmentStarts).att
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

import CBLAS
import Foundation

/// The second way to compute one (b, h) pair of `Attention`: the products as sgemm calls on
/// blocks of `gemmRows` query rows, instead of `AttentionTiles`' register-blocked loops.
///
/// Same mathematics and the same saved P as the tiles, except that row i of P also holds zeros
/// from its valid part up to the end of its block's keys (so that Pᵀ·dY and dSᵀ·Q over aligned
/// column blocks read only written values). Per block of rows i0 ..< i0 + R (keys = i0 + R):
///     forward:  S = scale·Q[i0…]·K[0..<keys]ᵀ,  softmax per row,  Y[i0…] = P·V[0..<keys]
///     backward: dP = dY[i0…]·V[0..<keys]ᵀ,  dS = scale·P⊙(dP − rowsum(P⊙dP)),  dQ[i0…] = dS·K[0..<keys]
///     then per column block j0 ..< j0 + R: dK[j0…] = dS[j0..<T, j0…]ᵀ·Q[j0..<T], dV likewise with P, dY.
/// The blocks compute the masked upper triangle inside the diagonal block (≤ R²/2 wasted
/// multiply-adds per block) and skip everything above it.
///
/// Why both: lmkit's own loops are compiled for AVX2 (see Package.swift), and on a CPU whose
/// OpenBLAS kernels are AVX-512 (SkylakeX, Cooperlake, SapphireRapids sets) sgemm has twice
/// their peak; on AVX2 kernel sets (Haswell, Zen) the tiles win because they skip the call
/// overhead and the wasted triangle. Measurements: see `Attention.Implementation`.
extension Attention {
    /// Query rows per sgemm block (a multiple of 16).
    static let gemmRows = 64

    /// One pair's forward with sgemm blocks. q, k, v: (T, hs) with row stride `ld`; y: (T, hs)
    /// with stride `ldy`; p: (T, T) P of this pair; `from(i)`: first key row i may see.
    @inline(__always)
    static func forwardPairGemm(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, ld: Int,
                                y: UnsafeMutablePointer<Float>, ldy: Int, p: UnsafeMutablePointer<Float>,
                                time t: Int, headSize hs: Int, scale: Float, from: (Int) -> Int) {
        var i0 = 0
        while i0 < t {
            let valid = min(gemmRows, t - i0), keys = i0 + valid
            Matmul.gemm(transA: false, transB: true, m: valid, n: keys, k: hs, alpha: scale, a: q + i0 &* ld, lda: ld,
                        b: k, ldb: ld, beta: 0, c: p + i0 &* t, ldc: t)
            for i in i0..<keys {
                let row = p + i &* t
                let start = from(i)
                if start > 0 { row.update(repeating: -.infinity, count: start) }
                causalSoftmaxRow(row, valid: i + 1, total: t)
                if start > 0 { row.update(repeating: 0, count: start) }
                let padded = min(t, (i + 16) & ~15)
                if padded < keys { (row + padded).update(repeating: 0, count: keys - padded) }
            }
            Matmul.gemm(transA: false, transB: false, m: valid, n: hs, k: keys, a: p + i0 &* t, lda: t,
                        b: v, ldb: ld, beta: 0, c: y + i0 &* ldy, ldc: ldy)
            i0 = keys
        }
    }

    /// One pair's backward with sgemm blocks: dq, dk, dv (T, hs, stride `ld`) are overwritten;
    /// dy (T, hs, stride `ldy`); p as the gemm forward left it; ds: (T, T) scratch.
    @inline(__always)
    static func backwardPairGemm(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, ld: Int,
                                 dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>,
                                 dv: UnsafeMutablePointer<Float>, dy: UnsafePointer<Float>, ldy: Int,
                                 p: UnsafePointer<Float>, ds: UnsafeMutablePointer<Float>,
                                 time t: Int, headSize hs: Int, scale: Float) {
        var i0 = 0
        while i0 < t {
            let valid = min(gemmRows, t - i0), keys = i0 + valid
            // dP[i0..<keys, 0..<keys] = dY · Vᵀ
            Matmul.gemm(transA: false, transB: true, m: valid, n: keys, k: hs, a: dy + i0 &* ldy, lda: ldy,
                        b: v, ldb: ld, beta: 0, c: ds + i0 &* t, ldc: t)
            for i in i0..<keys {
                let pr = p + i &* t, dr = ds + i &* t
                let dot = Reduce.dot(pr, dr, i + 1)
                for j in 0...i { dr[j] = scale * pr[j] * (dr[j] - dot) }
                if i + 1 < keys { (dr + i + 1).update(repeating: 0, count: keys - i - 1) }
            }
            // dQ[i0..<keys] = dS[i0..<keys, 0..<keys] · K[0..<keys]
            Matmul.gemm(transA: false, transB: false, m: valid, n: hs, k: keys, a: ds + i0 &* t, lda: t,
                        b: k, ldb: ld, beta: 0, c: dq + i0 &* ld, ldc: ld)
            i0 = keys
        }
        // Column block j0 ..< j0 + w: rows i ≥ j0 of dS and P are written up to their block's
        // keys ≥ j0 + w (blocks are aligned), zero above the diagonal.
        var j0 = 0
        while j0 < t {
            let w = min(gemmRows, t - j0), rows = t - j0
            Matmul.gemm(transA: true, transB: false, m: w, n: hs, k: rows, a: ds + (j0 &* t &+ j0), lda: t,
                        b: q + j0 &* ld, ldb: ld, beta: 0, c: dk + j0 &* ld, ldc: ld)
            Matmul.gemm(transA: true, transB: false, m: w, n: hs, k: rows, a: p + (j0 &* t &+ j0), lda: t,
                        b: dy + j0 &* ldy, ldb: ldy, beta: 0, c: dv + j0 &* ld, ldc: ld)
            j0 += w
        }
    }
}

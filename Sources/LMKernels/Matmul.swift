import CBLAS
import LMSupport

/// Dense layers: `out = inp · W (+ b)`, the only caller of `cblas_sgemm` (and of `cblas_sgemv`,
/// used for single-row products) in lmkit.
///
/// Two weight layouts, so that checkpoints need no transposes:
/// - `.inputMajor` — W is (C, OC), Hugging Face GPT-2's `Conv1D` (`c_attn`, `c_proj`, `c_fc`):
///   out = inp · W + b.
/// - `.outputMajor` — W is (OC, C), `nn.Linear`/llm.c's layout (the tied head uses wte (Vp, C)
///   this way): out = inp · Wᵀ + b.
///
/// Performance notes: all three products of a layer are sgemm calls over all N = B·T rows. By
/// default OpenBLAS runs single-threaded and `parallelGemm` splits C into one row (or column)
/// block per thread: OpenBLAS's own pool leaves its idle worker spinning in `sched_yield` after
/// every call (30 % of all cycles in a sampling profile), which steals a core from the
/// Dispatch-parallel kernels (attention, GELU, LayerNorm) that run between matmuls. The bias is
/// copied into `out` first and sgemm runs with β = 1, which measured the same as adding it
/// after. `dbias` is a column sum done here, parallel over column ranges (deterministic: each
/// column is summed in row order whatever the thread count). A single row (KV-cache sampling)
/// goes through `cblas_sgemv`.
public enum Matmul {
    /// How W is stored; see the type's documentation.
    public enum WeightLayout: Sendable {
        /// W is (C, OC): out = inp · W. HF `Conv1D`.
        case inputMajor
        /// W is (OC, C): out = inp · Wᵀ. `nn.Linear`, llm.c.
        case outputMajor
    }

    /// C (M×N, leading dimension ldc) = α · op(A) · op(B) + β · C, row-major: a thin wrapper of
    /// `cblas_sgemm` for kernels that multiply strided slices (attention). Runs as one call on
    /// the calling thread (OpenBLAS may still use its own pool in `.openBLAS` threading).
    @inline(__always)
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `gemm` split into `BLAS.threads` blocks of C's rows (or columns, when C is wider than tall)
    /// run in parallel, each a single-threaded sgemm (`.lmkit` threading); one call otherwise.
    public static func parallelGemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                                    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        _ = BLAS.configured
        let parts = BLAS.threading == .lmkit && m * n * k >= 1 << 21 ? min(BLAS.threads, max(m, n) / 16) : 1
        if parts <= 1 {
            gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                 beta: beta, c: c, ldc: ldc)
            return
        }
        let ap = SendableConstPointer(a), bp = SendableConstPointer(b), cp = SendablePointer(c)
        if m >= n {
            Parallel.forEach(parts, threads: parts) { i in
                let lo = (m * i / parts) & ~7, hi = i == parts - 1 ? m : (m * (i + 1) / parts) & ~7
                let aOff = transA ? lo : lo * lda
                gemm(transA: transA, transB: transB, m: hi - lo, n: n, k: k, alpha: alpha, a: ap.pointer + aOff,
                     lda: lda, b: bp.pointer, ldb: ldb, beta: beta, c: cp.pointer + lo * ldc, ldc: ldc)
            }
        } else {
            Parallel.forEach(parts, threads: parts) { i in
                let lo = (n * i / parts) & ~15, hi = i == parts - 1 ? n : (n * (i + 1) / parts) & ~15
                let bOff = transB ? lo * ldb : lo
                gemm(transA: transA, transB: transB, m: m, n: hi - lo, k: k, alpha: alpha, a: ap.pointer, lda: lda,
                     b: bp.pointer + bOff, ldb: ldb, beta: beta, c: cp.pointer + lo, ldc: ldc)
            }
        }
    }

    /// out (N, OC) = inp (N, C) · W (+ bias (OC)); W is (C, OC) or (OC, C) per `layout`.
    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                               rows: Int, inChannels: Int, outChannels: Int,
                               layout: WeightLayout = .inputMajor) {
        let n = rows, c = inChannels, oc = outChannels
        var beta: Float = 0
        if let bias {
            for r in 0..<n { (out + r &* oc).update(from: bias, count: oc) }
            beta = 1
        }
        if n == 1 {  // one row (KV-cache inference): a matrix-vector product
            cblas_sgemv(CblasRowMajor, layout == .inputMajor ? CblasTrans : CblasNoTrans,
                        Int32(layout == .inputMajor ? c : oc), Int32(layout == .inputMajor ? oc : c), 1, weight,
                        Int32(layout == .inputMajor ? oc : c), inp, 1, beta, out, 1)
            return
        }
        switch layout {
        case .inputMajor:
            parallelGemm(transA: false, transB: false, m: n, n: oc, k: c, a: inp, lda: c, b: weight, ldb: oc,
                 beta: beta, c: out, ldc: oc)
        case .outputMajor:
            parallelGemm(transA: false, transB: true, m: n, n: oc, k: c, a: inp, lda: c, b: weight, ldb: c,
                 beta: beta, c: out, ldc: oc)
        }
    }

    /// Given dout (N, OC): dinp (N, C) = dout · Wᵀ (overwritten, or added if `accumulateInput`),
    /// dweight += ∂/∂W (same shape as W), dbias (OC) += Σ_rows dout. Pass nil to skip any of them.
    public static func backward(dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>?,
                                dbias: UnsafeMutablePointer<Float>?, dout: UnsafePointer<Float>,
                                inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                rows: Int, inChannels: Int, outChannels: Int,
                                layout: WeightLayout = .inputMajor, accumulateInput: Bool = false,
                                threads: Int = Threads.available) {
        let n = rows, c = inChannels, oc = outChannels
        let inBeta: Float = accumulateInput ? 1 : 0
        switch layout {
        case .inputMajor:
            if let dinp {
                parallelGemm(transA: false, transB: true, m: n, n: c, k: oc, a: dout, lda: oc, b: weight, ldb: oc,
                     beta: inBeta, c: dinp, ldc: c)
            }
            if let dweight {
                parallelGemm(transA: true, transB: false, m: c, n: oc, k: n, a: inp, lda: c, b: dout, ldb: oc,
                     beta: 1, c: dweight, ldc: oc)
            }
        case .outputMajor:
            if let dinp {
                parallelGemm(transA: false, transB: false, m: n, n: c, k: oc, a: dout, lda: oc, b: weight, ldb: c,
                     beta: inBeta, c: dinp, ldc: c)
            }
            if let dweight {
                parallelGemm(transA: true, transB: false, m: oc, n: c, k: n, a: dout, lda: oc, b: inp, ldb: c,
                     beta: 1, c: dweight, ldc: c)
            }
        }
        if let dbias { columnSum(into: dbias, dout, rows: n, columns: oc, threads: threads) }
    }

    /// sums (OC) += Σ_r x[r, :] for x (rows, OC); parallel over column ranges, rows in order.
    public static func columnSum(into sums: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                                 rows: Int, columns: Int, threads: Int = Threads.available) {
        let s = SendablePointer(sums), xs = SendableConstPointer(x)
        let parts = columns >= 256 ? threads : 1
        Parallel.forRanges(columns, parts: parts) { cols in
            let lo = cols.lowerBound, w = cols.count
            for r in 0..<rows {
                let row = xs.pointer + (r &* columns &+ lo)
                let out = s.pointer + lo
                for j in 0..<w { out[j] += row[j] }
            }
        }
    }

    // MARK: naive twins (plain loops, Double) for the tests

    /// out (N, OC) = inp (N, C) · W + bias, W laid out per `layout`.
    public static func forwardNaive(inp: [Double], weight: [Double], bias: [Double]?, rows: Int,
                                    inChannels c: Int, outChannels oc: Int,
                                    layout: WeightLayout = .inputMajor) -> [Double] {
        var out = [Double](repeating: 0, count: rows * oc)
        for r in 0..<rows {
            for o in 0..<oc {
                var acc = bias?[o] ?? 0
                for i in 0..<c {
                    let w = layout == .inputMajor ? weight[i * oc + o] : weight[o * c + i]
                    acc += inp[r * c + i] * w
                }
                out[r * oc + o] = acc
            }
        }
        return out
    }

    /// (dinp, dweight, dbias) for `forwardNaive`, each freshly computed (not accumulated).
    public static func backwardNaive(dout: [Double], inp: [Double], weight: [Double], rows: Int,
                                     inChannels c: Int, outChannels oc: Int,
                                     layout: WeightLayout = .inputMajor)
        -> (dinp: [Double], dweight: [Double], dbias: [Double]) {
        var dinp = [Double](repeating: 0, count: rows * c)
        var dw = [Double](repeating: 0, count: c * oc)
        var db = [Double](repeating: 0, count: oc)
        for r in 0..<rows {
            for o in 0..<oc {
                let g = dout[r * oc + o]
                db[o] += g
                for i in 0..<c {
                    let wi = layout == .inputMajor ? i * oc + o : o * c + i
                    dinp[r * c + i] += g * weight[wi]
                    dw[wi] += g * inp[r * c + i]
                }
            }
        }
        return (dinp, dw, db)
    }
}

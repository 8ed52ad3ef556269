import CBLAS
import LMSupport
import Foundation

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
/// after; each parallel task copies it into its own block (the copy was a serial pass over the
/// whole output before). In `backward`, dX and dW (independent, equal FLOPs) run concurrently,
/// each on half of the threads (one single-threaded sgemm each on 2 cores), with the dbias
/// column sum after dW while dout is in cache: one fork/join per layer instead of two or three
/// (`LMKIT_MATMUL_CONCURRENT=0` restores the sequential split for comparison). When dX has an
/// epilogue (GELU's backward after `mlp.c_proj`), the dX side is ~25% longer than dW, so on two
/// threads both tasks take 256-row dX blocks from a shared counter, the second after dW:
/// `tiny`'s `matmul+gelu.backward` 29.3 → 27.8 ms per step (medians of 4 interleaved runs). `dbias` is
/// summed in row order for every column (deterministic for a given thread count). Epilogues
/// (`RowEpilogue`) let element-wise passes run on 256-row blocks of C right after their sgemm.
/// A single row (KV-cache sampling) goes through `cblas_sgemv`.
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
        if GemmLog.enabled {
            GemmLog.record(.init(transA: transA, transB: transB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc, beta: beta))
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Called with rows r0..<r1 of a product's C once they are final, and the threads it may use
    /// (1 inside a parallel task): an element-wise pass fused behind a matmul while its rows are
    /// still in cache (GELU after `c_fc`, its backward after `mlp.c_proj`'s dX).
    public typealias RowEpilogue = @Sendable (_ r0: Int, _ r1: Int, _ threads: Int) -> Void

    /// Rows per sgemm call when an epilogue follows (C block ≤ 512 KB at 512 columns, in L2).
    static let epilogueRows = 256

    /// `gemm` split into `threads` blocks of C's rows (or columns, when C is wider than tall) run
    /// in parallel, each a single-threaded sgemm (`.lmkit` threading); one call otherwise.
    /// With `rowBias` (N floats), each task first sets its block of every row of C to the bias
    /// (C = bias + op(A)·op(B) when β = 1), so that the copy is parallel and C is warm in cache.
    /// With `epilogue`, row blocks are computed `epilogueRows` at a time and each is handed to
    /// the epilogue right after its sgemm (a column split: once, for all rows, at the end).
    public static func parallelGemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                                    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                                    rowBias: UnsafePointer<Float>? = nil, epilogue: RowEpilogue? = nil,
                                    threads: Int = BLAS.threads) {
        _ = BLAS.configured
        let parts = BLAS.threading == .lmkit && m * n * k >= 1 << 21 ? min(threads, max(m, n) / 16) : 1
        let ap = SendableConstPointer(a), bp = SendableConstPointer(b), cp = SendablePointer(c)
        let bias = rowBias.map { SendableConstPointer($0) }
        // C[r0..<r1, c0..<c1] = α·op(A)·op(B) + β·C (after the bias fill).
        let block: @Sendable (Int, Int, Int, Int) -> Void = { r0, r1, c0, c1 in
            if let bias {
                for r in r0..<r1 { (cp.pointer + (r &* ldc &+ c0)).update(from: bias.pointer + c0, count: c1 - c0) }
            }
            let aOff = transA ? r0 : r0 * lda, bOff = transB ? c0 * ldb : c0
            gemm(transA: transA, transB: transB, m: r1 - r0, n: c1 - c0, k: k, alpha: alpha, a: ap.pointer + aOff,
                 lda: lda, b: bp.pointer + bOff, ldb: ldb, beta: beta, c: cp.pointer + (r0 * ldc + c0), ldc: ldc)
        }
        // Rows r0..<r1 of all columns, in epilogue-sized chunks when there is an epilogue.
        let rowBlock: @Sendable (Int, Int) -> Void = { r0, r1 in
            guard let epilogue else { block(r0, r1, 0, n); return }
            var lo = r0
            while lo < r1 {
                let hi = min(r1, lo + epilogueRows)
                block(lo, hi, 0, n)
                epilogue(lo, hi, 1)
                lo = hi
            }
        }
        if parts > 1 && m >= n {
            Parallel.forEach(parts, threads: parts) { i in
                let lo = (m * i / parts) & ~7, hi = i == parts - 1 ? m : (m * (i + 1) / parts) & ~7
                rowBlock(lo, hi)
            }
            return
        }
        if parts <= 1 {
            rowBlock(0, m)
            return
        }
        Parallel.forEach(parts, threads: parts) { i in
            let lo = (n * i / parts) & ~15, hi = i == parts - 1 ? n : (n * (i + 1) / parts) & ~15
            block(0, m, lo, hi)
        }
        epilogue?(0, m, threads)
    }

    /// out (N, OC) = inp (N, C) · W (+ bias (OC)); W is (C, OC) or (OC, C) per `layout`; then
    /// `epilogue` on the finished rows of out (see `parallelGemm`). `threads` limits the matmul's
    /// parallel split (1 inside an epilogue).
    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                               rows: Int, inChannels: Int, outChannels: Int,
                               layout: WeightLayout = .inputMajor, epilogue: RowEpilogue? = nil,
                               threads: Int = BLAS.threads) {
        let n = rows, c = inChannels, oc = outChannels
        let beta: Float = bias == nil ? 0 : 1
        if n == 1 {  // one row (KV-cache inference): a matrix-vector product
            matrixVector(out: out, inp: inp, weight: weight, bias: bias, inChannels: c, outChannels: oc,
                         layout: layout, threads: threads)
            epilogue?(0, 1, 1)
            return
        }
        switch layout {
        case .inputMajor:
            parallelGemm(transA: false, transB: false, m: n, n: oc, k: c, a: inp, lda: c, b: weight, ldb: oc,
                         beta: beta, c: out, ldc: oc, rowBias: bias, epilogue: epilogue, threads: threads)
        case .outputMajor:
            parallelGemm(transA: false, transB: true, m: n, n: oc, k: c, a: inp, lda: c, b: weight, ldb: c,
                         beta: beta, c: out, ldc: oc, rowBias: bias, epilogue: epilogue, threads: threads)
        }
    }

    /// Weights of at least this many floats (1 MB) are split across threads in `matrixVector`;
    /// below it a fork/join costs more than it saves (`tiny`'s 128×512 layers stay on one thread).
    static let matrixVectorSplitFloats = 1 << 18

    /// out (OC) = inp (C) · W (+ bias) for one row: `cblas_sgemv`, split into `threads` blocks of
    /// output columns run in parallel when W is large. Sampling is bound by reading W once per
    /// token, and one core does not saturate memory bandwidth: `lmkit-bench model --sample-only`,
    /// GPT-2-small shape 27–29 → 36–37 tokens/s on 2 threads (interleaved runs); `small` and
    /// `tiny` unchanged. Each output is one dot product whatever the split.
    static func matrixVector(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                             bias: UnsafePointer<Float>?, inChannels c: Int, outChannels oc: Int,
                             layout: WeightLayout, threads: Int) {
        _ = BLAS.configured
        let beta: Float = bias == nil ? 0 : 1
        let parts = BLAS.threading == .lmkit && c * oc >= matrixVectorSplitFloats ? max(1, min(threads, oc / 64)) : 1
        let o = SendablePointer(out), x = SendableConstPointer(inp), w = SendableConstPointer(weight)
        let bp = bias.map { SendableConstPointer($0) }
        // out[lo..<hi]: columns lo..<hi of W (C, OC), or its rows lo..<hi when W is (OC, C).
        let block: @Sendable (Int, Int) -> Void = { lo, hi in
            if let bp { (o.pointer + lo).update(from: bp.pointer + lo, count: hi - lo) }
            switch layout {
            case .inputMajor:
                cblas_sgemv(CblasRowMajor, CblasTrans, Int32(c), Int32(hi - lo), 1, w.pointer + lo, Int32(oc),
                            x.pointer, 1, beta, o.pointer + lo, 1)
            case .outputMajor:
                cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(hi - lo), Int32(c), 1, w.pointer + lo * c, Int32(c),
                            x.pointer, 1, beta, o.pointer + lo, 1)
            }
        }
        if parts <= 1 { block(0, oc); return }
        Parallel.forEach(parts, threads: parts) { i in
            let lo = (oc * i / parts) & ~15, hi = i == parts - 1 ? oc : (oc * (i + 1) / parts) & ~15
            block(lo, hi)
        }
    }

    /// Given dout (N, OC): dinp (N, C) = dout · Wᵀ (overwritten, or added if `accumulateInput`),
    /// then `inputEpilogue` on its finished rows; dweight += ∂/∂W (same shape as W), dbias (OC)
    /// += Σ_rows dout. Pass nil to skip any of them. dinp must not alias dout or inp.
    public static func backward(dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>?,
                                dbias: UnsafeMutablePointer<Float>?, dout: UnsafePointer<Float>,
                                inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                rows: Int, inChannels: Int, outChannels: Int,
                                layout: WeightLayout = .inputMajor, accumulateInput: Bool = false,
                                inputEpilogue: RowEpilogue? = nil, threads: Int = Threads.available) {
        let n = rows, c = inChannels, oc = outChannels
        let inBeta: Float = accumulateInput ? 1 : 0
        let gemmThreads = BLAS.threads
        // dX and dW are independent products of equal size: with two or more threads each gets
        // half of the threads (see Performance notes).
        let concurrent = concurrentBackward && BLAS.threading == .lmkit && gemmThreads >= 2 && dinp != nil
            && dweight != nil && n * c * oc >= 1 << 21
        let half = concurrent ? gemmThreads / 2 : gemmThreads
        let dInput: @Sendable () -> Void
        let dWeight: @Sendable () -> Void
        let dip = dinp.map { SendablePointer($0) }, dwp = dweight.map { SendablePointer($0) }
        let g = SendableConstPointer(dout), x = SendableConstPointer(inp), w = SendableConstPointer(weight)
        // dX = dout · Wᵀ: W (C, OC) is read transposed, W (OC, C) as it is.
        let transW = layout == .inputMajor, ldw = transW ? oc : c
        dInput = {
            guard let dip else { return }
            parallelGemm(transA: false, transB: transW, m: n, n: c, k: oc, a: g.pointer, lda: oc, b: w.pointer,
                         ldb: ldw, beta: inBeta, c: dip.pointer, ldc: c, epilogue: inputEpilogue, threads: half)
        }
        switch layout {
        case .inputMajor:
            dWeight = {
                guard let dwp else { return }
                parallelGemm(transA: true, transB: false, m: c, n: oc, k: n, a: x.pointer, lda: c, b: g.pointer,
                             ldb: oc, beta: 1, c: dwp.pointer, ldc: oc, threads: gemmThreads - half)
            }
        case .outputMajor:
            dWeight = {
                guard let dwp else { return }
                parallelGemm(transA: true, transB: false, m: oc, n: c, k: n, a: g.pointer, lda: oc, b: x.pointer,
                             ldb: c, beta: 1, c: dwp.pointer, ldc: c, threads: gemmThreads - half)
            }
        }
        let dbp = dbias.map { SendablePointer($0) }
        let dBias: @Sendable (Int) -> Void = { threads in
            if let dbp { columnSum(into: dbp.pointer, g.pointer, rows: n, columns: oc, threads: threads) }
        }
        if concurrent && gemmThreads == 2, let inputEpilogue, let dip {
            // dX and its epilogue cost more than dW (GELU's backward follows `mlp.c_proj`'s dX):
            // both tasks take dX row blocks from a shared counter, task 1 after dW and dbias.
            let rowsPerBlock = epilogueRows, blocks = (n + rowsPerBlock - 1) / rowsPerBlock
            let counter = WorkCounter()
            Parallel.forEach(2, threads: 2) { i in
                if i == 1 { dWeight(); dBias(1) }
                while case let block = counter.next(), block < blocks {
                    let r0 = block * rowsPerBlock, r1 = min(n, r0 + rowsPerBlock)
                    gemm(transA: false, transB: transW, m: r1 - r0, n: c, k: oc, a: g.pointer + r0 * oc, lda: oc,
                         b: w.pointer, ldb: ldw, beta: inBeta, c: dip.pointer + r0 * c, ldc: c)
                    inputEpilogue(r0, r1, 1)
                }
            }
        } else if concurrent {  // dbias with dW, while dout is in cache
            Parallel.forEach(2, threads: 2) { i in
                if i == 0 { dInput() } else { dWeight(); dBias(gemmThreads - half) }
            }
        } else {
            dInput()
            dWeight()
            dBias(threads)
        }
    }

    /// Whether `backward` runs dX and dW concurrently (benchmark switch, LMKIT_MATMUL_CONCURRENT=0 disables).
    nonisolated(unsafe) public static var concurrentBackward =
        ProcessInfo.processInfo.environment["LMKIT_MATMUL_CONCURRENT"] != "0"

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

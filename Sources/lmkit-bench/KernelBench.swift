import Foundation
import LMKernels
import LMSupport

/// Group `kernels`: single-threaded CPU time per element / per FLOP of the non-matmul kernels and of
/// sgemm, measured with the thread CPU clock so that a busy machine disturbs it less.
///
///     swift run -c release lmkit-bench kernels
enum KernelBench {
    static func cpuSeconds(_ body: () -> Void) -> Double {
        var a = timespec(), b = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a)
        body()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b)
        return Double(b.tv_sec - a.tv_sec) + Double(b.tv_nsec - a.tv_nsec) / 1e9
    }

    static func median(_ repeats: Int, _ body: () -> Void) -> Double {
        var t: [Double] = []
        for _ in 0..<repeats { t.append(cpuSeconds(body)) }
        t.sort()
        return t[t.count / 2]
    }

    static func run(_ args: [String]) -> [BenchmarkResult] {
        BLAS.setThreads(1)
        var results: [BenchmarkResult] = []
        func add(_ name: String, _ v: Double, _ unit: String) {
            results.append(BenchmarkResult(group: "kernels", name: name, median: v, unit: unit, repeats: 5))
        }
        let n = 1 << 22
        var rng = SeededRNG(seed: 1)
        let x = (0..<n).map { _ in rng.nextGaussian() }
        var y = [Float](repeating: 0, count: n)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                let s = median(5) { GELU.forward(out: yp.baseAddress!, inp: xp.baseAddress!, count: n, threads: 1) }
                add("gelu.forward", s / Double(n) * 1e9, "ns/element")
                let s2 = median(5) { GELU.backward(dinp: yp.baseAddress!, inp: xp.baseAddress!, dout: xp.baseAddress!, count: n, threads: 1) }
                add("gelu.backward", s2 / Double(n) * 1e9, "ns/element")
                let s3 = median(5) {
                    var i = 0
                    while i < n {
                        let v = UnsafeRawPointer(xp.baseAddress! + i).loadUnaligned(as: FastMath.Vector.self)
                        UnsafeMutableRawPointer(yp.baseAddress! + i).storeBytes(of: FastMath.exp(v), as: FastMath.Vector.self)
                        i += 16
                    }
                }
                add("fastmath.exp", s3 / Double(n) * 1e9, "ns/element")
            }
        }
        layerNorm(rows: 4096, c: 128, &rng, add)
        for (t, c, nh) in [(256, 384, 6), (128, 128, 4)] { attention(t: t, c: c, nh: nh, &rng, add) }
        // The whole `tiny` layer (B = 32), on all cores (name suffix `.NT`) and on one: what a
        // training step sees (qkv and P do not stay in cache between calls, unlike one sequence).
        attention(batch: 32, t: 128, c: 128, nh: 4, threads: Threads.available, &rng, add)
        attention(batch: 32, t: 128, c: 128, nh: 4, threads: 1, &rng, add)
        sgemm(add)
        return results
    }

    static func attention(batch bb: Int = 1, t: Int, c: Int, nh: Int, threads: Int = 1, _ rng: inout SeededRNG,
                          _ add: (String, Double, String) -> Void) {
        let qkv = (0..<(bb * t * 3 * c)).map { _ in rng.nextGaussian() }
        var out = [Float](repeating: 0, count: bb * t * c), att = [Float](repeating: 0, count: bb * nh * t * t)
        var dqkv = [Float](repeating: 0, count: bb * t * 3 * c)
        var scratch = [Float](repeating: 0, count: Attention.scratchCount(time: t, headSize: c / nh, threads: threads))
        let name = (bb == 1 ? "" : "B\(bb)") + "T\(t)C\(c)NH\(nh)" + (threads == 1 ? "" : ".\(threads)T")
        let unit = threads == 1 ? "ms (1 thread)" : "ms (\(threads) threads)"
        qkv.withUnsafeBufferPointer { q in
            out.withUnsafeMutableBufferPointer { o in
                att.withUnsafeMutableBufferPointer { a in
                    let s = median(5) {
                        Attention.forward(out: o.baseAddress!, att: a.baseAddress!, qkv: q.baseAddress!, batch: bb, time: t,
                                          channels: c, heads: nh, threads: threads)
                    }
                    add("attention.forward.\(name)", s * 1e3, unit)
                    dqkv.withUnsafeMutableBufferPointer { d in
                        scratch.withUnsafeMutableBufferPointer { sc in
                            let s2 = median(5) {
                                Attention.backward(dqkv: d.baseAddress!, dout: o.baseAddress!, qkv: q.baseAddress!,
                                                   att: a.baseAddress!, scratch: sc.baseAddress!, batch: bb, time: t,
                                                   channels: c, heads: nh, threads: threads)
                            }
                            add("attention.backward.\(name)", s2 * 1e3, unit)
                        }
                    }
                }
            }
        }
    }

    /// LayerNorm backward at `tiny`'s activation shape (B·T = 4096 rows, C = 128), one thread.
    static func layerNorm(rows: Int, c: Int, _ rng: inout SeededRNG, _ add: (String, Double, String) -> Void) {
        let n = rows * c
        let x = (0..<n).map { _ in rng.nextGaussian() }, g = (0..<n).map { _ in rng.nextGaussian() }
        let w = (0..<c).map { _ in 1 + 0.1 * rng.nextGaussian() }, b = [Float](repeating: 0, count: c)
        var out = [Float](repeating: 0, count: n), dx = [Float](repeating: 0, count: n)
        var mean = [Float](repeating: 0, count: rows), rstd = [Float](repeating: 0, count: rows)
        var dw = [Float](repeating: 0, count: c), db = [Float](repeating: 0, count: c)
        LayerNorm.forward(out: &out, mean: &mean, rstd: &rstd, inp: x, weight: w, bias: b, rows: rows, channels: c,
                          threads: 1)
        let s = median(5) {
            LayerNorm.backward(dinp: &dx, dweight: &dw, dbias: &db, dout: g, inp: x, weight: w, mean: mean, rstd: rstd,
                               rows: rows, channels: c, threads: 1)
        }
        add("layernorm.backward.\(rows)x\(c)", s / Double(n) * 1e9, "ns/element (1 thread)")
    }

    static func sgemm(_ add: (String, Double, String) -> Void) {
        // sgemm, one thread, the MLP shape of `small` at B·T = 4096.
        let m = 4096, k = 384, nn = 1536
        let a = [Float](repeating: 0.5, count: m * k), b = [Float](repeating: 0.25, count: k * nn)
        var cc = [Float](repeating: 0, count: m * nn)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                cc.withUnsafeMutableBufferPointer { pc in
                    let s = median(5) {
                        Matmul.gemm(transA: false, transB: false, m: m, n: nn, k: k, a: pa.baseAddress!, lda: k,
                                    b: pb.baseAddress!, ldb: nn, beta: 0, c: pc.baseAddress!, ldc: nn)
                    }
                    add("sgemm.4096x1536x384", 2 * Double(m * nn * k) / s / 1e9, "GFLOP/s (1 thread, CPU time)")
                }
            }
        }
    }
}

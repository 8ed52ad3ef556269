import Dispatch
import LMKernels
import LMSupport

/// Measures this machine's sgemm rate once (for MFU): square products through LMKernels'
/// `Matmul.parallelGemm` on `BLAS.threads` threads, as training runs its matmuls (a single-threaded
/// probe made MFU read above 100%), best of a few repeats.
public enum SgemmProbe {
    /// FLOP/s of an n×n×n sgemm (2n³ FLOPs), best of `repeats`, after one warm-up call.
    /// ~0.3 s for n = 1024 on 2 cores. On a busy machine the rate (and so MFU) is only indicative.
    public static func measure(size n: Int = 1024, repeats: Int = 5) -> Double {
        var a = [Float](repeating: 0, count: n * n), b = a, c = a
        var rng = SeededRNG(seed: 1)
        for i in 0..<(n * n) { a[i] = rng.nextFloat() - 0.5; b[i] = rng.nextFloat() - 0.5 }
        var best = Double.infinity
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    for r in 0...repeats {
                        let t0 = DispatchTime.now().uptimeNanoseconds
                        Matmul.parallelGemm(transA: false, transB: false, m: n, n: n, k: n, a: pa.baseAddress!, lda: n,
                                    b: pb.baseAddress!, ldb: n, beta: 0, c: pc.baseAddress!, ldc: n)
                        let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                        if r > 0 { best = min(best, dt) }
                    }
                }
            }
        }
        return 2 * Double(n) * Double(n) * Double(n) / best
    }
}

import LMSupport

/// Residual connection: out = a + b. Its backward is the identity on both inputs, which the model
/// realises by letting LayerNorm's backward accumulate into the residual gradient.
public enum Residual {
    /// out (N) = a (N) + b (N); out may equal a or b.
    public static func forward(out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>,
                               _ b: UnsafePointer<Float>, count: Int, threads: Int = Threads.available) {
        let o = SendablePointer(out), x = SendableConstPointer(a), y = SendableConstPointer(b)
        GELU.forChunks(count, threads: threads) { lo, hi in
            for i in lo..<hi { o[i] = x[i] + y[i] }
        }
    }

    /// da (N) += dout, db (N) += dout (either may be nil).
    public static func backward(da: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?,
                                dout: UnsafePointer<Float>, count: Int, threads: Int = Threads.available) {
        let g = SendableConstPointer(dout)
        for d in [da, db] {
            guard let d else { continue }
            let dp = SendablePointer(d)
            GELU.forChunks(count, threads: threads) { lo, hi in
                for i in lo..<hi { dp[i] += g[i] }
            }
        }
    }

    public static func forwardNaive(_ a: [Double], _ b: [Double]) -> [Double] { zip(a, b).map { $0 + $1 } }
}

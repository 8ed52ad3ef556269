import LMSupport

/// Token + position embedding: out[b, t, :] = wte[tokens[b, t], :] + wpe[t − s[b, t], :], where
/// s (B, T) is the optional start of each position's segment within its row (packed documents:
/// positions restart at 0 in every document; without s, s = 0).
public enum Encoder {
    /// tokens (B, T) ids in 0..<Vp, wte (Vp, C), wpe (≥T, C), segmentStarts (B, T) or nil → out (B, T, C).
    public static func forward(out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>,
                               wte: UnsafePointer<Float>, wpe: UnsafePointer<Float>,
                               batch: Int, time: Int, channels c: Int, segmentStarts: UnsafePointer<Int32>? = nil,
                               threads: Int = Threads.available) {
        let o = SendablePointer(out), tk = SendableConstPointer(tokens)
        let e = SendableConstPointer(wte), p = SendableConstPointer(wpe)
        let ss = segmentStarts.map { SendableConstPointer($0) }
        Parallel.forRanges(batch * time, parts: batch * time * c >= 1 << 14 ? threads : 1) { rows in
            for r in rows {
                let t = r % time - Int(ss?[r] ?? 0)
                let er = e.pointer + Int(tk[r]) &* c, pr = p.pointer + t &* c, orow = o.pointer + r &* c
                for i in 0..<c { orow[i] = er[i] + pr[i] }
            }
        }
    }

    /// Given dout (B, T, C): dwte[tokens[b,t]] += dout[b,t], dwpe[t] += dout[b,t]. Parallel over
    /// column ranges so that repeated tokens never race; rows in order (deterministic).
    public static func backward(dwte: UnsafeMutablePointer<Float>, dwpe: UnsafeMutablePointer<Float>,
                                dout: UnsafePointer<Float>, tokens: UnsafePointer<Int32>,
                                batch: Int, time: Int, channels c: Int, segmentStarts: UnsafePointer<Int32>? = nil,
                                threads: Int = Threads.available) {
        let de = SendablePointer(dwte), dp = SendablePointer(dwpe)
        let g = SendableConstPointer(dout), tk = SendableConstPointer(tokens)
        let ss = segmentStarts.map { SendableConstPointer($0) }
        Parallel.forRanges(c, parts: c >= 64 ? threads : 1) { cols in
            let lo = cols.lowerBound, n = cols.count
            for r in 0..<(batch * time) {
                let gr = g.pointer + (r &* c &+ lo)
                let er = de.pointer + (Int(tk[r]) &* c &+ lo)
                let pr = dp.pointer + ((r % time - Int(ss?[r] ?? 0)) &* c &+ lo)
                for i in 0..<n {
                    er[i] += gr[i]
                    pr[i] += gr[i]
                }
            }
        }
    }

    // MARK: naive twins

    public static func forwardNaive(tokens: [Int32], wte: [Double], wpe: [Double], batch: Int, time: Int,
                                    channels c: Int, segmentStarts: [Int32]? = nil) -> [Double] {
        var out = [Double](repeating: 0, count: batch * time * c)
        for b in 0..<batch { for t in 0..<time { for i in 0..<c {
            let pos = t - Int(segmentStarts?[b * time + t] ?? 0)
            out[(b * time + t) * c + i] = wte[Int(tokens[b * time + t]) * c + i] + wpe[pos * c + i]
        } } }
        return out
    }

    /// (dwte (rows of wte given by `vocabRows`), dwpe (T, C)) computed from scratch.
    public static func backwardNaive(dout: [Double], tokens: [Int32], vocabRows: Int, batch: Int, time: Int,
                                     channels c: Int, segmentStarts: [Int32]? = nil) -> (dwte: [Double], dwpe: [Double]) {
        var dwte = [Double](repeating: 0, count: vocabRows * c)
        var dwpe = [Double](repeating: 0, count: time * c)
        for b in 0..<batch { for t in 0..<time { for i in 0..<c {
            let g = dout[(b * time + t) * c + i]
            dwte[Int(tokens[b * time + t]) * c + i] += g
            dwpe[(t - Int(segmentStarts?[b * time + t] ?? 0)) * c + i] += g
        } } }
        return (dwte, dwpe)
    }
}

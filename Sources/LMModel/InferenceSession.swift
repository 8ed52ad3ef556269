import LMKernels
import LMSupport

/// Token-by-token inference with a key/value cache: each `append` costs O(L·C² + L·t·C + Vp·C)
/// for the t tokens seen so far, instead of re-running the whole prefix.
///
///     let session = InferenceSession(model)
///     var logits = session.append(prompt[0])   // V logits for the next token
///     for t in prompt.dropFirst() { logits = session.append(t) }
///
/// Performance notes: the matmuls are sgemm calls with one row (OpenBLAS treats them as
/// matrix-vector products). Inside the blocks OpenBLAS runs single-threaded: waking its second
/// thread for each of the ~4L small products cost more than it saved (on a busy 2-core machine
/// `small` fell to 62 tokens/s); only the Vp × C head uses all threads. Attention over the cache
/// is a plain loop per head (t·hs MACs). All buffers are allocated once in `init`.
public final class InferenceSession {
    /// The model this session reads (its weights must not change while the session is used).
    public let model: GPT
    /// Tokens appended so far (≤ `model.config.context`).
    public private(set) var count = 0
    /// Keys and values per layer, (context, C) each.
    private var keys: [[Float]]
    private var values: [[Float]]
    private var x, ln, qkv, y, proj, fc: [Float]
    private var scores: [Float]
    private var logitsBuffer: [Float]
    private var mean: [Float] = [0], rstd: [Float] = [0]

    public init(_ model: GPT) {
        self.model = model
        let c = model.config.channels, ctx = model.config.context
        keys = Array(repeating: [Float](repeating: 0, count: ctx * c), count: model.config.layers)
        values = keys
        x = [Float](repeating: 0, count: c)
        ln = x; y = x; proj = x
        qkv = [Float](repeating: 0, count: 3 * c)
        fc = [Float](repeating: 0, count: 4 * c)
        scores = [Float](repeating: 0, count: ctx)
        logitsBuffer = [Float](repeating: 0, count: model.config.paddedVocabSize)
    }

    /// Feeds one token (0..<V) at position `count` and returns the V logits for the next token.
    /// Precondition: `count < model.config.context` (call `reset()` to start over).
    public func append(_ token: Int32) -> [Float] {
        let cfg = model.config
        precondition(count < cfg.context, "InferenceSession: the context (\(cfg.context) tokens) is full; reset() first")
        precondition(token >= 0 && Int(token) < cfg.vocabSize, "InferenceSession: token \(token) outside 0..<\(cfg.vocabSize)")
        let pos = count
        model.parameters.withUnsafeBufferPointer { pb in
            BLAS.withThreads(1) { step(pb.baseAddress!, token: Int(token), pos: pos) }
            head(pb.baseAddress!)
        }
        count += 1
        return Array(logitsBuffer[0..<cfg.vocabSize])
    }

    /// Forgets every appended token.
    public func reset() { count = 0 }

    private func step(_ p: UnsafePointer<Float>, token: Int, pos: Int) {
        let cfg = model.config, lay = model.parameterLayout
        let c = cfg.channels, nh = cfg.heads, hs = cfg.headSize
        let scale = 1 / Float(hs).squareRoot()
        for i in 0..<c { x[i] = p[lay.wte + token * c + i] + p[lay.wpe + pos * c + i] }
        for (l, w) in lay.blocks.enumerated() {
            layerNorm(p, w.ln1w, w.ln1b, into: &ln)
            matmul(p, &qkv, ln, w.qkvw, w.qkvb, c, 3 * c)
            for i in 0..<c {
                keys[l][pos * c + i] = qkv[c + i]
                values[l][pos * c + i] = qkv[2 * c + i]
            }
            keys[l].withUnsafeBufferPointer { kb in
                values[l].withUnsafeBufferPointer { vb in
                    for h in 0..<nh {
                        let ho = h * hs
                        var m = -Float.infinity
                        for j in 0...pos {
                            var dot: Float = 0
                            let kr = kb.baseAddress! + j * c + ho
                            for d in 0..<hs { dot += qkv[ho + d] * kr[d] }
                            scores[j] = dot * scale
                            m = max(m, scores[j])
                        }
                        var z: Float = 0
                        for j in 0...pos { scores[j] = FastMath.exp(scores[j] - m); z += scores[j] }
                        for d in 0..<hs { y[ho + d] = 0 }
                        for j in 0...pos {
                            let pj = scores[j] / z
                            let vr = vb.baseAddress! + j * c + ho
                            for d in 0..<hs { y[ho + d] += pj * vr[d] }
                        }
                    }
                }
            }
            matmul(p, &proj, y, w.attprojw, w.attprojb, c, c)
            for i in 0..<c { x[i] += proj[i] }
            layerNorm(p, w.ln2w, w.ln2b, into: &ln)
            matmul(p, &fc, ln, w.fcw, w.fcb, c, 4 * c)
            fc.withUnsafeMutableBufferPointer { f in
                GELU.forward(out: f.baseAddress!, inp: f.baseAddress!, count: 4 * c, threads: 1)
            }
            matmul(p, &proj, fc, w.fcprojw, w.fcprojb, 4 * c, c)
            for i in 0..<c { x[i] += proj[i] }
        }
        layerNorm(p, lay.lnfw, lay.lnfb, into: &ln)
    }

    /// logits (Vp) = ln_f(x) · wteᵀ, with all BLAS threads (the one large product of a step).
    private func head(_ p: UnsafePointer<Float>) {
        let cfg = model.config, lay = model.parameterLayout, c = cfg.channels
        ln.withUnsafeBufferPointer { lb in
            logitsBuffer.withUnsafeMutableBufferPointer { ob in
                Matmul.forward(out: ob.baseAddress!, inp: lb.baseAddress!, weight: p + lay.wte, bias: nil, rows: 1,
                               inChannels: c, outChannels: cfg.paddedVocabSize, layout: .outputMajor)
            }
        }
    }

    private func layerNorm(_ p: UnsafePointer<Float>, _ w: Int, _ b: Int, into out: inout [Float]) {
        let c = model.config.channels
        x.withUnsafeBufferPointer { xb in
            out.withUnsafeMutableBufferPointer { ob in
                LayerNorm.forward(out: ob.baseAddress!, mean: &mean, rstd: &rstd, inp: xb.baseAddress!,
                                  weight: p + w, bias: p + b, rows: 1, channels: c, threads: 1)
            }
        }
    }

    private func matmul(_ p: UnsafePointer<Float>, _ out: inout [Float], _ inp: [Float], _ w: Int, _ b: Int,
                        _ c: Int, _ oc: Int) {
        inp.withUnsafeBufferPointer { ib in
            out.withUnsafeMutableBufferPointer { ob in
                Matmul.forward(out: ob.baseAddress!, inp: ib.baseAddress!, weight: p + w, bias: p + b, rows: 1,
                               inChannels: c, outChannels: oc)
            }
        }
    }
}

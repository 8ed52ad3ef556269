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
/// thread for each of the ~4L small products cost more than it saved on a busy 2-core machine;
/// only the Vp × C head uses all threads. Attention over the cache is a pointer loop per head
/// (t·hs MACs); the first version indexed Swift arrays held by the class, whose exclusivity and
/// bounds checks made `small` run at ~90 tokens/s. All buffers are one allocation made in `init`.
public final class InferenceSession {
    /// The model this session reads (its weights must not change while the session is used).
    public let model: GPT
    /// Tokens appended so far (≤ `model.config.context`).
    public private(set) var count = 0

    private let storage: UnsafeMutablePointer<Float>
    /// Keys and values of layer l: (context, C) each, at `keys + l·context·C`.
    private let keys, values: UnsafeMutablePointer<Float>
    private let x, ln, qkv, y, proj, fc, scores, logits, mean, rstd: UnsafeMutablePointer<Float>

    public init(_ model: GPT) {
        self.model = model
        let cfg = model.config, c = cfg.channels, ctx = cfg.context
        let kv = cfg.layers * ctx * c
        let sizes = [kv, kv, c, c, 3 * c, c, c, 4 * c, ctx, cfg.paddedVocabSize, 1, 1]
        storage = .allocate(capacity: sizes.reduce(0, +))
        storage.initialize(repeating: 0, count: sizes.reduce(0, +))
        var p = storage
        var ptrs: [UnsafeMutablePointer<Float>] = []
        for s in sizes { ptrs.append(p); p += s }
        keys = ptrs[0]; values = ptrs[1]; x = ptrs[2]; ln = ptrs[3]; qkv = ptrs[4]; y = ptrs[5]; proj = ptrs[6]
        fc = ptrs[7]; scores = ptrs[8]; logits = ptrs[9]; mean = ptrs[10]; rstd = ptrs[11]
    }

    deinit { storage.deallocate() }

    /// Feeds one token (0..<V) at position `count` and returns the V logits for the next token.
    /// Precondition: `count < model.config.context` (call `reset()` to start over).
    public func append(_ token: Int32) -> [Float] {
        let cfg = model.config
        precondition(count < cfg.context, "InferenceSession: the context (\(cfg.context) tokens) is full; reset() first")
        precondition(token >= 0 && Int(token) < cfg.vocabSize, "InferenceSession: token \(token) outside 0..<\(cfg.vocabSize)")
        let pos = count
        model.parameters.withUnsafeBufferPointer { pb in
            BLAS.singleThreaded { blocks(pb.baseAddress!, token: Int(token), pos: pos) }
            Matmul.forward(out: logits, inp: ln, weight: pb.baseAddress! + model.parameterLayout.wte, bias: nil,
                           rows: 1, inChannels: cfg.channels, outChannels: cfg.paddedVocabSize, layout: .outputMajor)
        }
        count += 1
        return Array(UnsafeBufferPointer(start: logits, count: cfg.vocabSize))
    }

    /// Forgets every appended token.
    public func reset() { count = 0 }

    /// Embedding, every block and ln_f for one token at `pos`; leaves ln_f(x) in `ln`.
    private func blocks(_ p: UnsafePointer<Float>, token: Int, pos: Int) {
        let cfg = model.config, lay = model.parameterLayout
        let c = cfg.channels, nh = cfg.heads, hs = cfg.headSize, ctx = cfg.context
        let scale = 1 / Float(hs).squareRoot()
        let wte = p + (lay.wte + token &* c), wpe = p + (lay.wpe + pos &* c)
        for i in 0..<c { x[i] = wte[i] + wpe[i] }
        for (l, w) in lay.blocks.enumerated() {
            LayerNorm.forward(out: ln, mean: mean, rstd: rstd, inp: x, weight: p + w.ln1w, bias: p + w.ln1b, rows: 1,
                              channels: c, threads: 1)
            Matmul.forward(out: qkv, inp: ln, weight: p + w.qkvw, bias: p + w.qkvb, rows: 1, inChannels: c,
                           outChannels: 3 * c)
            let kl = keys + l &* ctx &* c, vl = values + l &* ctx &* c
            (kl + pos &* c).update(from: qkv + c, count: c)
            (vl + pos &* c).update(from: qkv + 2 &* c, count: c)
            for h in 0..<nh {
                let q = qkv + h &* hs, yh = y + h &* hs
                var m = -Float.infinity
                for j in 0...pos {
                    let kr = kl + (j &* c &+ h &* hs)
                    var dot: Float = 0
                    for d in 0..<hs { dot += q[d] * kr[d] }
                    scores[j] = dot * scale
                    m = max(m, scores[j])
                }
                var z: Float = 0
                for j in 0...pos { scores[j] = FastMath.exp(scores[j] - m); z += scores[j] }
                let inv = 1 / z
                yh.update(repeating: 0, count: hs)
                for j in 0...pos {
                    let pj = scores[j] * inv
                    let vr = vl + (j &* c &+ h &* hs)
                    for d in 0..<hs { yh[d] += pj * vr[d] }
                }
            }
            Matmul.forward(out: proj, inp: y, weight: p + w.attprojw, bias: p + w.attprojb, rows: 1, inChannels: c,
                           outChannels: c)
            for i in 0..<c { x[i] += proj[i] }
            LayerNorm.forward(out: ln, mean: mean, rstd: rstd, inp: x, weight: p + w.ln2w, bias: p + w.ln2b, rows: 1,
                              channels: c, threads: 1)
            Matmul.forward(out: fc, inp: ln, weight: p + w.fcw, bias: p + w.fcb, rows: 1, inChannels: c,
                           outChannels: 4 * c)
            GELU.forward(out: fc, inp: fc, count: 4 * c, threads: 1)
            Matmul.forward(out: proj, inp: fc, weight: p + w.fcprojw, bias: p + w.fcprojb, rows: 1, inChannels: 4 * c,
                           outChannels: c)
            for i in 0..<c { x[i] += proj[i] }
        }
        LayerNorm.forward(out: ln, mean: mean, rstd: rstd, inp: x, weight: p + lay.lnfw, bias: p + lay.lnfb, rows: 1,
                          channels: c, threads: 1)
    }
}

import LMKernels
import LMSupport

/// `InferenceSession` for up to `capacity` sequences at once, each with its own key/value cache
/// and position: every `append` feeds one token to each of the given rows and returns their next-
/// token logits. The rows' products run as one sgemm of k rows per matmul (instead of k
/// matrix-vector products), so the weights are read once per step for all rows: sampling is bound
/// by reading the weights, and k rows cost little more than one.
///
///     let s = BatchInferenceSession(model, capacity: 2)
///     var logits = s.append([a0, b0], rows: [0, 1])   // logits[0] for row 0, logits[1] for row 1
///     logits = s.append([a1], rows: [0])             // rows advance independently
///
/// Each row's logits are those `InferenceSession` gives for the same tokens (the same kernels in
/// the same order per row; tested to equality within float rounding of the sgemm).
public final class BatchInferenceSession {
    /// The model this session reads (its weights must not change while a sequence is in the cache).
    public let model: GPT
    /// Largest number of rows.
    public let capacity: Int
    /// Tokens appended so far to each row (each ≤ `model.config.context`).
    public private(set) var counts: [Int]
    /// Per row, the `appendCalls` value of the last `append` that fed it (the distinct-rows check
    /// without allocating a set per token).
    private var lastAppend: [Int]
    private var appendCalls = 0

    private let storage: UnsafeMutablePointer<Float>
    /// Keys and values of layer l and row r: (context, C) each, at `keys + (l·capacity + r)·context·C`.
    private let keys, values: UnsafeMutablePointer<Float>
    /// Work rows (k ≤ capacity of each), packed in the order of the `rows` argument.
    private let x, ln, qkv, y, proj, fc, scores, logits, mean, rstd: UnsafeMutablePointer<Float>

    public init(_ model: GPT, capacity: Int) {
        precondition(capacity >= 1, "BatchInferenceSession: capacity must be at least 1")
        self.model = model
        self.capacity = capacity
        counts = Array(repeating: 0, count: capacity)
        lastAppend = Array(repeating: 0, count: capacity)
        let cfg = model.config, c = cfg.channels, ctx = cfg.context, k = capacity
        let kv = cfg.layers * k * ctx * c
        let sizes = [kv, kv, k * c, k * c, k * 3 * c, k * c, k * c, k * 4 * c, ctx, k * cfg.paddedVocabSize, k, k]
        storage = .allocate(capacity: sizes.reduce(0, +))
        storage.initialize(repeating: 0, count: sizes.reduce(0, +))
        var p = storage
        var ptrs: [UnsafeMutablePointer<Float>] = []
        for s in sizes { ptrs.append(p); p += s }
        keys = ptrs[0]; values = ptrs[1]; x = ptrs[2]; ln = ptrs[3]; qkv = ptrs[4]; y = ptrs[5]; proj = ptrs[6]
        fc = ptrs[7]; scores = ptrs[8]; logits = ptrs[9]; mean = ptrs[10]; rstd = ptrs[11]
    }

    deinit { storage.deallocate() }

    /// Feeds `tokens[i]` (0..<V) to row `rows[i]` at that row's position, for each i, and returns
    /// the V logits for each row's next token (in the order of `rows`).
    /// Preconditions: rows distinct, in 0..<capacity, each with `counts[row] < context`.
    public func append(_ tokens: [Int32], rows: [Int]) -> [[Float]] {
        let cfg = model.config, k = rows.count
        precondition(k >= 1 && tokens.count == k, "BatchInferenceSession: one token per row")
        appendCalls &+= 1
        for (i, r) in rows.enumerated() {
            precondition(r >= 0 && r < capacity, "BatchInferenceSession: row \(r) outside 0..<\(capacity)")
            precondition(lastAppend[r] != appendCalls, "BatchInferenceSession: row \(r) given twice")
            lastAppend[r] = appendCalls
            precondition(counts[r] < cfg.context, "BatchInferenceSession: row \(r)'s context (\(cfg.context) tokens) is full; reset it first")
            precondition(tokens[i] >= 0 && Int(tokens[i]) < cfg.vocabSize, "BatchInferenceSession: token \(tokens[i]) outside 0..<\(cfg.vocabSize)")
        }
        let vp = cfg.paddedVocabSize
        model.parameters.withUnsafeBufferPointer { pb in
            BLAS.singleThreaded { blocks(pb.baseAddress!, tokens: tokens, rows: rows) }
            Matmul.forward(out: logits, inp: ln, weight: pb.baseAddress! + model.parameterLayout.wte, bias: nil,
                           rows: k, inChannels: cfg.channels, outChannels: vp, layout: .outputMajor)
        }
        for r in rows { counts[r] += 1 }
        return (0..<k).map { Array(UnsafeBufferPointer(start: logits + $0 * vp, count: cfg.vocabSize)) }
    }

    /// Forgets every token of `row`.
    public func reset(row: Int) { counts[row] = 0 }

    /// Forgets every token of every row.
    public func resetAll() { for r in 0..<capacity { counts[r] = 0 } }

    /// Embedding, every block and ln_f for one token per row; leaves ln_f(x) in `ln` (k, C).
    private func blocks(_ p: UnsafePointer<Float>, tokens: [Int32], rows: [Int]) {
        let cfg = model.config, lay = model.parameterLayout
        let c = cfg.channels, nh = cfg.heads, hs = cfg.headSize, ctx = cfg.context, k = rows.count
        let scale = 1 / Float(hs).squareRoot()
        for i in 0..<k {
            let wte = p + (lay.wte + Int(tokens[i]) &* c), wpe = p + (lay.wpe + counts[rows[i]] &* c)
            let xi = x + i &* c
            for j in 0..<c { xi[j] = wte[j] + wpe[j] }
        }
        for (l, w) in lay.blocks.enumerated() {
            LayerNorm.forward(out: ln, mean: mean, rstd: rstd, inp: x, weight: p + w.ln1w, bias: p + w.ln1b, rows: k,
                              channels: c, threads: 1)
            Matmul.forward(out: qkv, inp: ln, weight: p + w.qkvw, bias: p + w.qkvb, rows: k, inChannels: c,
                           outChannels: 3 * c)
            for i in 0..<k {
                let r = rows[i], pos = counts[r]
                let kl = keys + (l &* capacity &+ r) &* ctx &* c, vl = values + (l &* capacity &+ r) &* ctx &* c
                let qi = qkv + i &* 3 &* c
                (kl + pos &* c).update(from: qi + c, count: c)
                (vl + pos &* c).update(from: qi + 2 &* c, count: c)
                for h in 0..<nh {
                    let q = qi + h &* hs, yh = y + (i &* c &+ h &* hs)
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
            }
            Matmul.forward(out: proj, inp: y, weight: p + w.attprojw, bias: p + w.attprojb, rows: k, inChannels: c,
                           outChannels: c)
            for i in 0..<(k &* c) { x[i] += proj[i] }
            LayerNorm.forward(out: ln, mean: mean, rstd: rstd, inp: x, weight: p + w.ln2w, bias: p + w.ln2b, rows: k,
                              channels: c, threads: 1)
            Matmul.forward(out: fc, inp: ln, weight: p + w.fcw, bias: p + w.fcb, rows: k, inChannels: c,
                           outChannels: 4 * c)
            GELU.forward(out: fc, inp: fc, count: k &* 4 &* c, threads: 1)
            Matmul.forward(out: proj, inp: fc, weight: p + w.fcprojw, bias: p + w.fcprojb, rows: k, inChannels: 4 * c,
                           outChannels: c)
            for i in 0..<(k &* c) { x[i] += proj[i] }
        }
        LayerNorm.forward(out: ln, mean: mean, rstd: rstd, inp: x, weight: p + lay.lnfw, bias: p + lay.lnfb, rows: k,
                          channels: c, threads: 1)
    }
}

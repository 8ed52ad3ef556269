import LMKernels
import LMSupport

/// The training pass: forward over (B, T) token ids with stored activations, and backward.
///
/// Per block (x is the residual stream, (B, T, C)):
///     x = x + c_proj(attention(c_attn(ln_1(x))))
///     x = x + mlp.c_proj(gelu(mlp.c_fc(ln_2(x))))
/// then logits = ln_f(x) · wteᵀ (B, T, Vp) and the mean cross-entropy over targets ≠ −1.
///
/// Performance notes: every matmul is one sgemm over all B·T rows (see `Matmul`); attention is
/// parallel over (b, h); element-wise kernels are parallel over ranges. GELU and its backward run
/// as epilogues of the matmul that produces their input, on blocks of rows still in cache: the
/// (B·T, 4C) activations do not fit in L3, and a separate pass over them ran at DRAM speed. In
/// the forward pass `mlp.c_proj` also runs per block of rows, on the GELU output while it is in
/// L2 (`mlp.forward` in a profile is c_fc + GELU + c_proj). Activation memory is
/// allocated once per (B, T) shape (`Activations`) so steady-state steps allocate nothing.
/// On several threads the blocks of the forward pass run per chunk of whole sequences (≈ 256
/// rows) instead: each chunk goes through every layer on one thread with single-threaded
/// kernels (attention needs only its own sequences, everything else is row-wise), so there is
/// one fork/join for the trunk instead of six per layer and a chunk's activations stay in its
/// core's L2 from kernel to kernel. `tiny` step 141.8 → 139.9 ms (medians of 4 interleaved
/// `lmkit-bench model` runs), `small` unchanged. It is used when the chunks divide evenly over
/// the threads (or there are ≥ 4 per thread); profile times of the chunks are divided by the
/// thread count. The backward pass stays one parallel kernel at a time: dW sums over all rows.
extension GPT {
    /// Runs the model on `inputs` (B·T token ids, row-major (B, T), each in 0..<V) and keeps the
    /// activations for `backward()`. With `targets` (B·T ids in 0..<V, or −1 = no loss at that
    /// position) returns the mean cross-entropy over positions whose target is not −1 (0 if
    /// there are none); without targets returns 0 and only `logits` are meaningful.
    ///
    /// `segmentStarts` (B·T, optional) packs several documents into a row: entry (b, t) is the
    /// index in row b where the document holding position t begins (0 ≤ s ≤ t, constant within a
    /// document). Each document then sees only itself and its position ids restart at 0, so every
    /// logit equals that of the document run alone in its own row.
    /// Preconditions: `inputs.count == batch·time`, 1 ≤ time ≤ `config.context`.
    @discardableResult
    public func forward(inputs: [Int32], targets: [Int32]?, batch: Int, time: Int, segmentStarts: [Int32]? = nil) -> Float {
        if let targets { precondition(targets.count == batch * time, "GPT.forward: targets has the wrong count") }
        let acts = prepareInputs(inputs, batch: batch, time: time, segmentStarts: segmentStarts)
        let v = config.vocabSize
        acts.hasTargets = targets != nil
        acts.scorePositions = nil
        acts.valuesPending = false
        acts.logitsConsumed = false
        var count = 0
        if let targets {
            for (i, t) in targets.enumerated() {
                precondition(t >= -1 && Int(t) < v, "GPT.forward: target id \(t) is outside -1..<\(v)")
                acts.targets[i] = t
                if t >= 0 { count += 1 }
            }
        }
        acts.targetCount = count
        return parameters.withUnsafeBufferPointer { p in
            forwardPass(p.baseAddress!, acts)
        }
    }

    private func forwardPass(_ params: UnsafePointer<Float>, _ a: Activations) -> Float {
        let cfg = config, lay = parameterLayout, th = threads
        let n = a.batch * a.time, c = cfg.channels
        let vp = cfg.paddedVocabSize
        forwardTrunk(params, a)
        timed("matmul.forward") {
            Matmul.forward(out: a.logits, inp: a.lnf, weight: params + lay.wte, bias: nil, rows: n, inChannels: c,
                           outChannels: vp, layout: .outputMajor)
        }
        guard a.hasTargets else { return 0 }
        timed("crossentropy.forward") {
            CrossEntropy.forward(losses: a.losses, lse: a.lse, logits: a.logits, targets: a.targets, rows: n,
                                 vocab: cfg.vocabSize, paddedVocab: vp, threads: th)
        }
        guard a.targetCount > 0 else { return 0 }
        var sum: Double = 0
        for i in 0..<n { sum += Double(a.losses[i]) }
        return Float(sum / Double(a.targetCount))
    }

    /// Checks `inputs` (B·T ids in 0..<V) and copies them into the activations of that shape.
    func prepareInputs(_ inputs: [Int32], batch: Int, time: Int, segmentStarts: [Int32]? = nil) -> Activations {
        precondition(batch >= 1 && time >= 1 && time <= config.context,
                     "GPT.forward: time \(time) must be in 1...\(config.context) and batch ≥ 1")
        precondition(inputs.count == batch * time, "GPT.forward: inputs has \(inputs.count) ids, expected \(batch)·\(time)")
        let acts = activations(batch: batch, time: time)
        let v = config.vocabSize
        for (i, t) in inputs.enumerated() {
            precondition(t >= 0 && Int(t) < v, "GPT.forward: input id \(t) is outside the vocabulary 0..<\(v)")
            acts.tokens[i] = t
        }
        acts.hasSegments = segmentStarts != nil
        if let segmentStarts {
            precondition(segmentStarts.count == batch * time, "GPT.forward: segmentStarts has the wrong count")
            for (i, s) in segmentStarts.enumerated() {
                let t = i % time
                precondition(s >= 0 && Int(s) <= t && (t == 0 || Int(s) == t || segmentStarts[i - 1] == s),
                             "GPT.forward: segment start \(s) at position \(t) is not a document start ≤ t")
                acts.segmentStarts[i] = s
            }
        }
        return acts
    }

    /// Embeddings, every block and the final LayerNorm: leaves ln_f(x) in `a.lnf` (B·T, C).
    ///
    /// With several threads the blocks run per chunk of whole sequences (`trunkChunkRows`), each
    /// chunk through every layer on one thread; see `GPT+Forward`'s performance notes.
    func forwardTrunk(_ params: UnsafePointer<Float>, _ a: Activations) {
        let cfg = config, lay = parameterLayout, th = threads
        let b = a.batch, t = a.time, c = cfg.channels
        timed("encoder.forward") {
            Encoder.forward(out: a.encoded, tokens: a.tokens, wte: params + lay.wte, wpe: params + lay.wpe,
                            batch: b, time: t, channels: c, segmentStarts: a.segments,
                            threads: th)
        }
        let perChunk = max(1, Self.trunkChunkRows / t), chunks = (b + perChunk - 1) / perChunk
        guard th > 1, !lay.blocks.isEmpty, chunks >= 4 * th || (chunks >= th && chunks % th == 0) else {
            forwardTrunkRows(params, a, firstSequence: 0, sequences: b, threads: th, share: 1)
            return
        }
        // Chunk k writes only the rows of its sequences in every activation buffer (and their
        // (NH, T, T) slices of att); the model and the parameters are only read.
        let model = UncheckedSendable(self), acts = UncheckedSendable(a), p = SendableConstPointer(params)
        let share = 1 / Double(th)
        Parallel.forEach(chunks, threads: th) { k in
            let first = k * perChunk
            model.value.forwardTrunkRows(p.pointer, acts.value, firstSequence: first,
                                         sequences: min(perChunk, b - first), threads: 1, share: share)
        }
    }

    /// Rows per chunk of `forwardTrunk`'s per-chunk schedule (rounded down to whole sequences,
    /// at least one): a chunk's activations of one layer stay in L2 from kernel to kernel.
    static let trunkChunkRows = 256

    /// Every block and the final LayerNorm for sequences `firstSequence ..< firstSequence +
    /// sequences` (rows of the (B·T, ·) activations), on `threads` threads; profile times are
    /// scaled by `share` (chunks run concurrently).
    func forwardTrunkRows(_ params: UnsafePointer<Float>, _ a: Activations, firstSequence: Int, sequences: Int,
                          threads th: Int, share: Double) {
        let cfg = config, lay = parameterLayout
        let t = a.time, n = sequences * t, c = cfg.channels, nh = cfg.heads
        let r0 = firstSequence * t
        let segments = a.segments.map { $0 + r0 }
        var x = UnsafePointer(a.encoded + r0 * c)
        // Each residual add is fused with the LayerNorm that reads it (ln_2, then the next block's
        // ln_1 or ln_f); only the first ln_1 (or ln_f of a model without blocks) stands alone.
        if let w = lay.blocks.first {
            let s = a.layers[0]
            timed("layernorm.forward", share: share) {
                LayerNorm.forward(out: s.ln1 + r0 * c, mean: s.ln1Mean + r0, rstd: s.ln1Rstd + r0, inp: x,
                                  weight: params + w.ln1w, bias: params + w.ln1b, rows: n, channels: c, threads: th)
            }
        } else {
            timed("layernorm.forward", share: share) {
                LayerNorm.forward(out: a.lnf + r0 * c, mean: a.lnfMean + r0, rstd: a.lnfRstd + r0, inp: x,
                                  weight: params + lay.lnfw, bias: params + lay.lnfb, rows: n, channels: c, threads: th)
            }
        }
        for (l, w) in lay.blocks.enumerated() {
            let s = a.layers[l]
            let ln1 = s.ln1 + r0 * c, qkv = s.qkv + r0 * 3 * c, attY = s.attY + r0 * c
            let attProj = s.attProj + r0 * c, res2 = s.res2 + r0 * c, ln2 = s.ln2 + r0 * c
            timed("matmul.forward", share: share) {
                Matmul.forward(out: qkv, inp: ln1, weight: params + w.qkvw, bias: params + w.qkvb,
                               rows: n, inChannels: c, outChannels: 3 * c, threads: th)
            }
            timed("attention.forward", share: share) {
                Attention.forward(out: attY, att: s.att + firstSequence * nh * t * t, qkv: qkv, batch: sequences,
                                  time: t, channels: c, heads: nh, segmentStarts: segments, threads: th)
            }
            timed("matmul.forward", share: share) {
                Matmul.forward(out: attProj, inp: attY, weight: params + w.attprojw, bias: params + w.attprojb,
                               rows: n, inChannels: c, outChannels: c, threads: th)
            }
            timed("residual+layernorm.forward", share: share) {
                LayerNorm.forward(out: ln2, mean: s.ln2Mean + r0, rstd: s.ln2Rstd + r0, residual: res2, x, attProj,
                                  weight: params + w.ln2w, bias: params + w.ln2b, rows: n, channels: c, threads: th)
            }
            // fc = ln2 · W + b, then on each block of rows while it is in cache: fcGelu = gelu(fc) and
            // fcProj = fcGelu · W_proj + b_proj.
            let c4 = 4 * c
            let fc = SendablePointer(s.fc + r0 * c4), fcGelu = SendablePointer(s.fcGelu + r0 * c4)
            let fcProj = SendablePointer(s.fcProj + r0 * c)
            let projW = SendableConstPointer(params + w.fcprojw), projB = SendableConstPointer(params + w.fcprojb)
            timed("mlp.forward", share: share) {
                Matmul.forward(out: fc.pointer, inp: ln2, weight: params + w.fcw, bias: params + w.fcb,
                               rows: n, inChannels: c, outChannels: c4, epilogue: { q0, q1, threads in
                    let hidden = fcGelu.pointer + q0 * c4
                    GELU.forward(out: hidden, inp: fc.pointer + q0 * c4, count: (q1 - q0) * c4, threads: threads)
                    Matmul.forward(out: fcProj.pointer + q0 * c, inp: hidden, weight: projW.pointer, bias: projB.pointer,
                                   rows: q1 - q0, inChannels: c4, outChannels: c, threads: threads)
                }, threads: th)
            }
            // res3 = res2 + fcProj, normalised by the next block's ln_1 or by ln_f.
            let last = l + 1 == lay.blocks.count
            let next = last ? nil : a.layers[l + 1]
            let lnw = last ? lay.lnfw : lay.blocks[l + 1].ln1w, lnb = last ? lay.lnfb : lay.blocks[l + 1].ln1b
            let res3 = s.res3 + r0 * c
            timed("residual+layernorm.forward", share: share) {
                LayerNorm.forward(out: (next?.ln1 ?? a.lnf) + r0 * c, mean: (next?.ln1Mean ?? a.lnfMean) + r0,
                                  rstd: (next?.ln1Rstd ?? a.lnfRstd) + r0, residual: res3, res2, fcProj.pointer,
                                  weight: params + lnw, bias: params + lnb, rows: n, channels: c, threads: th)
            }
            x = UnsafePointer(res3)
        }
    }

    /// Adds ∂loss/∂parameters of the last `forward` (which must have had targets) to `gradients`.
    /// Overwrites the stored logits with ∂loss/∂logits.
    public func backward() {
        guard let a = activations, a.hasTargets, !a.logitsConsumed else {
            preconditionFailure("GPT.backward: call forward(inputs:targets:…) with targets first (once per backward)")
        }
        a.logitsConsumed = true
        parameters.withUnsafeBufferPointer { p in
            gradients.withUnsafeMutableBufferPointer { g in
                backwardPass(p.baseAddress!, g.baseAddress!, a, tokenWeights: nil, entropyWeights: nil)
            }
        }
    }

    /// `backward()` for the weighted loss Σ_t w_t · (−log p(target_t)) instead of the mean: adds
    /// its gradient to `gradients`. `tokenWeights` has B·T entries of any sign (positions whose
    /// target is −1 are skipped whatever their weight). A policy-gradient step passes
    /// w_t = −(∂objective/∂log π_t); see `PPOObjective`. With `entropyWeights` (B·T, any sign) the
    /// loss also has Σ_t e_t · H_t, H_t the entropy of position t's next-token distribution (nats;
    /// see `lastEntropies`), over the positions with a target: an entropy bonus passes e_t < 0.
    /// Call once per `forward(…targets:…)`.
    public func backward(tokenWeights: [Float], entropyWeights: [Float]? = nil) {
        guard let a = activations, a.hasTargets, !a.logitsConsumed else {
            preconditionFailure("GPT.backward(tokenWeights:): call forward(inputs:targets:…) with targets first (once per backward)")
        }
        precondition(tokenWeights.count == a.batch * a.time && (entropyWeights?.count ?? a.batch * a.time) == a.batch * a.time,
                     "GPT.backward(tokenWeights:entropyWeights:): need one weight per position")
        a.logitsConsumed = true
        let entropy = entropyWeights ?? []
        parameters.withUnsafeBufferPointer { p in
            gradients.withUnsafeMutableBufferPointer { g in
                tokenWeights.withUnsafeBufferPointer { w in
                    entropy.withUnsafeBufferPointer { e in
                        backwardPass(p.baseAddress!, g.baseAddress!, a, tokenWeights: w.baseAddress!,
                                     entropyWeights: entropyWeights == nil ? nil : e.baseAddress!)
                    }
                }
            }
        }
    }

    /// Entropy of the next-token distribution at every position of the last `forward(…targets:…)`
    /// (B·T, nats, over the real vocabulary). Read it before `backward`, which overwrites the logits.
    public var lastEntropies: [Float] {
        guard let a = activations, a.hasTargets, !a.logitsConsumed else {
            preconditionFailure("GPT.lastEntropies: call forward(inputs:targets:…) first, read before backward")
        }
        let n = a.batch * a.time
        var h = [Float](repeating: 0, count: n)
        h.withUnsafeMutableBufferPointer { out in
            CrossEntropy.entropy(into: out.baseAddress!, logits: a.logits, lse: a.lse, rows: n, vocab: config.vocabSize,
                                 paddedVocab: config.paddedVocabSize, threads: threads)
        }
        return h
    }

    /// log p(target_t) of every position of the last `forward(…targets:…)` (B·T nats, ≤ 0), 0 where
    /// the target is −1. Read it before `backward`, which overwrites nothing it uses.
    public var lastTargetLogProbs: [Float] {
        guard let a = activations, a.hasTargets else {
            preconditionFailure("GPT.lastTargetLogProbs: call forward(inputs:targets:…) with targets first")
        }
        return (0..<(a.batch * a.time)).map { a.targets[$0] < 0 ? 0 : -a.losses[$0] }
    }

    private func backwardPass(_ params: UnsafePointer<Float>, _ grads: UnsafeMutablePointer<Float>, _ a: Activations,
                              tokenWeights: UnsafePointer<Float>?, entropyWeights: UnsafePointer<Float>?) {
        let cfg = config, lay = parameterLayout, th = threads
        let n = a.batch * a.time, c = cfg.channels
        let vp = cfg.paddedVocabSize
        let scale: Float = a.targetCount > 0 ? 1 / Float(a.targetCount) : 0
        timed("crossentropy.backward") {
            CrossEntropy.backward(dlogits: a.logits, logits: a.logits, lse: a.lse, targets: a.targets, scale: scale,
                                  rowScales: tokenWeights, entropyWeights: entropyWeights, rows: n, vocab: cfg.vocabSize,
                                  paddedVocab: vp, threads: th)
        }
        timed("matmul.backward") {
            Matmul.backward(dinp: a.dC, dweight: grads + lay.wte, dbias: nil, dout: a.logits, inp: a.lnf,
                            weight: params + lay.wte, rows: n, inChannels: c, outChannels: vp, layout: .outputMajor,
                            threads: th)
        }
        backwardTrunk(params, grads, a)
    }

    /// Backward from ∂loss/∂ln_f(x) in `a.dC` (B·T, C) through the final LayerNorm, every block and
    /// the embeddings; adds into `grads`. Uses `a.dres`, `a.d4C`, `a.dqkv` as scratch.
    func backwardTrunk(_ params: UnsafePointer<Float>, _ grads: UnsafeMutablePointer<Float>, _ a: Activations) {
        let cfg = config, lay = parameterLayout, th = threads
        let b = a.batch, t = a.time, n = b * t, c = cfg.channels, nh = cfg.heads
        timed("residual.backward") { a.dres.update(repeating: 0, count: n * c) }
        let last = lay.blocks.isEmpty ? UnsafePointer(a.encoded) : UnsafePointer(a.layers[cfg.layers - 1].res3)
        timed("layernorm.backward") {
            LayerNorm.backward(dinp: a.dres, dweight: grads + lay.lnfw, dbias: grads + lay.lnfb, dout: a.dC, inp: last,
                               weight: params + lay.lnfw, mean: a.lnfMean, rstd: a.lnfRstd, rows: n, channels: c,
                               threads: th)
        }
        for l in stride(from: cfg.layers - 1, through: 0, by: -1) {
            let w = lay.blocks[l], s = a.layers[l]
            let x = l == 0 ? UnsafePointer(a.encoded) : UnsafePointer(a.layers[l - 1].res3)
            // dres = ∂/∂res3 = ∂/∂fcProj (and part of ∂/∂res2)
            // d4C = dres · Wᵀ, then d4C ⊙= gelu′(fc) on each block of rows while it is in cache.
            let d4C = SendablePointer(a.d4C), fc = SendableConstPointer(s.fc), c4 = 4 * c
            timed("matmul+gelu.backward") {
                Matmul.backward(dinp: a.d4C, dweight: grads + w.fcprojw, dbias: grads + w.fcprojb, dout: a.dres,
                                inp: s.fcGelu, weight: params + w.fcprojw, rows: n, inChannels: c4, outChannels: c,
                                inputEpilogue: { r0, r1, threads in
                                    let d = d4C.pointer + r0 * c4
                                    GELU.backward(dinp: d, inp: fc.pointer + r0 * c4, dout: d, count: (r1 - r0) * c4,
                                                  threads: threads)
                                }, threads: th)
            }
            timed("matmul.backward") {
                Matmul.backward(dinp: a.dC, dweight: grads + w.fcw, dbias: grads + w.fcb, dout: a.d4C, inp: s.ln2,
                                weight: params + w.fcw, rows: n, inChannels: c, outChannels: 4 * c, threads: th)
            }
            timed("layernorm.backward") {
                LayerNorm.backward(dinp: a.dres, dweight: grads + w.ln2w, dbias: grads + w.ln2b, dout: a.dC, inp: s.res2,
                                   weight: params + w.ln2w, mean: s.ln2Mean, rstd: s.ln2Rstd, rows: n, channels: c,
                                   threads: th)
            }
            // dres = ∂/∂res2 = ∂/∂attProj (and part of ∂/∂x)
            timed("matmul.backward") {
                Matmul.backward(dinp: a.dC, dweight: grads + w.attprojw, dbias: grads + w.attprojb, dout: a.dres,
                                inp: s.attY, weight: params + w.attprojw, rows: n, inChannels: c, outChannels: c,
                                threads: th)
            }
            timed("attention.backward") {
                Attention.backward(dqkv: a.dqkv, dout: a.dC, qkv: s.qkv, att: s.att, scratch: a.attScratch, batch: b,
                                   time: t, channels: c, heads: nh, threads: th)
            }
            timed("matmul.backward") {
                Matmul.backward(dinp: a.dC, dweight: grads + w.qkvw, dbias: grads + w.qkvb, dout: a.dqkv, inp: s.ln1,
                                weight: params + w.qkvw, rows: n, inChannels: c, outChannels: 3 * c, threads: th)
            }
            timed("layernorm.backward") {
                LayerNorm.backward(dinp: a.dres, dweight: grads + w.ln1w, dbias: grads + w.ln1b, dout: a.dC, inp: x,
                                   weight: params + w.ln1w, mean: s.ln1Mean, rstd: s.ln1Rstd, rows: n, channels: c,
                                   threads: th)
            }
        }
        timed("encoder.backward") {
            Encoder.backward(dwte: grads + lay.wte, dwpe: grads + lay.wpe, dout: a.dres, tokens: a.tokens, batch: b,
                             time: t, channels: c, segmentStarts: a.segments,
                             threads: th)
        }
    }

    /// The logits of the last `forward`, (B, T, Vp) row-major; entries V..<Vp of each row are
    /// meaningless (masked in the loss). Valid until the next `backward()`.
    public var logits: [Float] {
        guard let a = activations else { return [] }
        precondition(!a.logitsConsumed, "GPT.logits: backward() has overwritten the logits; read them before")
        return Array(UnsafeBufferPointer(start: a.logits, count: a.batch * a.time * config.paddedVocabSize))
    }

    /// Per-position losses of the last forward with targets, (B, T); 0 where the target was −1.
    public var positionLosses: [Float] {
        guard let a = activations, a.hasTargets else { return [] }
        return Array(UnsafeBufferPointer(start: a.losses, count: a.batch * a.time))
    }

    /// The activation buffers for (batch, time), reallocated only when the shape or thread count changes.
    func activations(batch: Int, time: Int) -> Activations {
        if let a = activations, a.batch == batch, a.time == time, a.threads == threads { return a }
        activations = nil
        let a = Activations(config: config, batch: batch, time: time, threads: threads)
        activations = a
        return a
    }
}

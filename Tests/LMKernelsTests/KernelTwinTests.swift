import Testing
@testable import LMKernels
import LMSupport

/// Every fast kernel against its naive Double twin.
@Suite struct KernelTwinTests {
    /// Small shapes run as one sgemm; the large ones (≥ 2²¹ MACs) are split into row blocks
    /// (forward, dinp) and column blocks (dweight of the wide shape) by `parallelGemm`.
    @Test(arguments: [Matmul.WeightLayout.inputMajor, .outputMajor], [(37, 24, 40), (300, 96, 80), (80, 64, 520)])
    func matmulMatchesNaive(layout: Matmul.WeightLayout, shape: (Int, Int, Int)) {
        var r = Rand(1)
        let (n, c, oc) = shape
        let inp = r.doubles(n * c), w = r.doubles(c * oc), b = r.doubles(oc), dout = r.doubles(n * oc)
        let expected = Matmul.forwardNaive(inp: inp, weight: w, bias: b, rows: n, inChannels: c, outChannels: oc,
                                           layout: layout)
        let out = withPointers([[Float](repeating: 0, count: n * oc), floats(inp), floats(w), floats(b)]) { p in
            Matmul.forward(out: p[0], inp: p[1], weight: p[2], bias: p[3], rows: n, inChannels: c, outChannels: oc,
                           layout: layout)
        }[0]
        #expect(relativeError(out, expected) < 1e-5)

        let g = Matmul.backwardNaive(dout: dout, inp: inp, weight: w, rows: n, inChannels: c, outChannels: oc,
                                     layout: layout)
        // Parameter gradients accumulate onto what is there; the input gradient is overwritten.
        let preW = r.doubles(c * oc), preB = r.doubles(oc)
        let res = withPointers([[Float](repeating: 9, count: n * c), floats(preW), floats(preB), floats(dout),
                                floats(inp), floats(w)]) { p in
            Matmul.backward(dinp: p[0], dweight: p[1], dbias: p[2], dout: p[3], inp: p[4], weight: p[5], rows: n,
                            inChannels: c, outChannels: oc, layout: layout, threads: 2)
        }
        #expect(relativeError(res[0], g.dinp) < 1e-5)
        #expect(relativeError(res[1], zip(preW, g.dweight).map { $0 + $1 }) < 1e-5)
        #expect(relativeError(res[2], zip(preB, g.dbias).map { $0 + $1 }) < 1e-5)
    }

    /// dX with an epilogue (as GELU's backward follows `mlp.c_proj`): on two threads above the
    /// split threshold, both tasks take dX row blocks from a shared counter; every row must be
    /// computed and handed to the epilogue exactly once, after its sgemm.
    @Test(arguments: [Matmul.WeightLayout.inputMajor, .outputMajor])
    func matmulBackwardEpilogueSeesEveryRowOnce(layout: Matmul.WeightLayout) {
        var r = Rand(21)
        let n = 1000, c = 96, oc = 80  // 7.7 M MACs: the concurrent path, 4 blocks (last one short)
        let inp = r.doubles(n * c), w = r.doubles(c * oc), dout = r.doubles(n * oc)
        let g = Matmul.backwardNaive(dout: dout, inp: inp, weight: w, rows: n, inChannels: c, outChannels: oc,
                                     layout: layout)
        var seen = [Float](repeating: 0, count: n)
        let res = withPointers([[Float](repeating: 9, count: n * c), [Float](repeating: 0, count: c * oc),
                                [Float](repeating: 0, count: oc), floats(dout), floats(inp), floats(w), seen]) { p in
            let dinp = SendablePointer(p[0]), marks = SendablePointer(p[6])
            Matmul.backward(dinp: p[0], dweight: p[1], dbias: p[2], dout: p[3], inp: p[4], weight: p[5], rows: n,
                            inChannels: c, outChannels: oc, layout: layout,
                            inputEpilogue: { r0, r1, _ in
                                for row in r0..<r1 {
                                    marks[row] += 1
                                    for i in 0..<c { dinp[row * c + i] *= Float(row % 7 + 1) }
                                }
                            }, threads: 2)
        }
        seen = res[6]
        #expect(seen.allSatisfy { $0 == 1 })
        let scaled = g.dinp.enumerated().map { $0.element * Double($0.offset / c % 7 + 1) }
        #expect(relativeError(res[0], scaled) < 1e-5)
        #expect(relativeError(res[1], g.dweight) < 1e-5)
        #expect(relativeError(res[2], g.dbias) < 1e-5)
    }

    /// One row (KV-cache sampling): sgemv, split over output columns when W has ≥ 2¹⁸ floats
    /// (odd sizes, so that the blocks' 16-column rounding and the last block are exercised).
    @Test(arguments: [Matmul.WeightLayout.inputMajor, .outputMajor], [(24, 40), (520, 1001)])
    func matrixVectorMatchesNaive(layout: Matmul.WeightLayout, shape: (Int, Int)) {
        var r = Rand(11)
        let (c, oc) = shape
        let inp = r.doubles(c), w = r.doubles(c * oc), b = r.doubles(oc)
        for bias in [true, false] {
            let expected = Matmul.forwardNaive(inp: inp, weight: w, bias: bias ? b : nil, rows: 1, inChannels: c,
                                               outChannels: oc, layout: layout)
            let out = withPointers([[Float](repeating: .nan, count: oc), floats(inp), floats(w), floats(b)]) { p in
                Matmul.forward(out: p[0], inp: p[1], weight: p[2], bias: bias ? p[3] : nil, rows: 1, inChannels: c,
                               outChannels: oc, layout: layout, threads: 2)
            }[0]
            #expect(out.allSatisfy { $0.isFinite })   // every output written (relativeError skips NaN)
            #expect(relativeError(out, expected) < 1e-5)
        }
    }

    @Test func columnSumIsParallelAndExact() {
        var r = Rand(2)
        let rows = 9, cols = 700
        let x = r.doubles(rows * cols)
        var expected = [Double](repeating: 0, count: cols)
        for i in 0..<rows { for j in 0..<cols { expected[j] += x[i * cols + j] } }
        let s = withPointers([[Float](repeating: 0, count: cols), floats(x)]) { p in
            Matmul.columnSum(into: p[0], p[1], rows: rows, columns: cols, threads: 2)
        }[0]
        #expect(relativeError(s, expected) < 1e-5)
    }

    /// n·c ≥ 2¹⁴: the parallel path; 300 rows are three 128-row partial-sum blocks (the last one
    /// short), and 100 channels leave a scalar tail after the 16-lane loops.
    @Test(arguments: [(300, 96), (300, 100)])
    func layerNormMatchesNaive(shape: (Int, Int)) {
        var r = Rand(3)
        let (n, c) = shape
        let x = r.doubles(n * c, scale: 2).map { $0 + 0.5 }, w = r.doubles(c), b = r.doubles(c), dout = r.doubles(n * c)
        let expected = LayerNorm.forwardNaive(inp: x, weight: w, bias: b, rows: n, channels: c)
        let fw = withPointers([[Float](repeating: 0, count: n * c), [Float](repeating: 0, count: n),
                               [Float](repeating: 0, count: n), floats(x), floats(w), floats(b)]) { p in
            LayerNorm.forward(out: p[0], mean: p[1], rstd: p[2], inp: p[3], weight: p[4], bias: p[5], rows: n,
                              channels: c, threads: 2)
        }
        #expect(relativeError(fw[0], expected) < 1e-5)
        let g = LayerNorm.backwardNaive(dout: dout, inp: x, weight: w, rows: n, channels: c)
        let pre = r.doubles(n * c)
        let bw = withPointers([floats(pre), [Float](repeating: 0, count: c), [Float](repeating: 0, count: c),
                               floats(dout), floats(x), floats(w), fw[1], fw[2]]) { p in
            LayerNorm.backward(dinp: p[0], dweight: p[1], dbias: p[2], dout: p[3], inp: p[4], weight: p[5],
                               mean: p[6], rstd: p[7], rows: n, channels: c, threads: 2)
        }
        #expect(relativeError(bw[0], zip(pre, g.dinp).map { $0 + $1 }) < 1e-5)  // dinp accumulates
        #expect(relativeError(bw[1], g.dweight) < 1e-5)
        #expect(relativeError(bw[2], g.dbias) < 1e-5)
        // The same bits on one thread: the partials do not depend on the thread count.
        let one = withPointers([floats(pre), [Float](repeating: 0, count: c), [Float](repeating: 0, count: c),
                                floats(dout), floats(x), floats(w), fw[1], fw[2]]) { p in
            LayerNorm.backward(dinp: p[0], dweight: p[1], dbias: p[2], dout: p[3], inp: p[4], weight: p[5],
                               mean: p[6], rstd: p[7], rows: n, channels: c, threads: 1)
        }
        #expect(one[0] == bw[0] && one[1] == bw[1] && one[2] == bw[2])
    }

    @Test func residualLayerNormMatchesNaive() {
        var r = Rand(13)
        let n = 300, c = 96  // the parallel path
        let a = r.doubles(n * c, scale: 2), b = r.doubles(n * c).map { $0 + 0.5 }, w = r.doubles(c), bias = r.doubles(c)
        let sum = Residual.forwardNaive(a, b)
        let expected = LayerNorm.forwardNaive(inp: sum, weight: w, bias: bias, rows: n, channels: c)
        let fw = withPointers([[Float](repeating: 0, count: n * c), [Float](repeating: 0, count: n),
                               [Float](repeating: 0, count: n), [Float](repeating: 9, count: n * c), floats(a), floats(b),
                               floats(w), floats(bias)]) { p in
            LayerNorm.forward(out: p[0], mean: p[1], rstd: p[2], residual: p[3], p[4], p[5], weight: p[6], bias: p[7],
                              rows: n, channels: c, threads: 2)
        }
        #expect(relativeError(fw[0], expected) < 1e-5)
        #expect(relativeError(fw[3], sum) < 1e-6)
        let means = (0..<n).map { i in sum[i * c ..< (i + 1) * c].reduce(0, +) / Double(c) }
        #expect(relativeError(fw[1], means) < 1e-5)
    }

    /// The 16-lane maximum with its largest value in every lane position, and with −∞ lanes.
    @Test func horizontalMaxFindsEveryLane() {
        var r = Rand(22)
        for lane in 0..<16 {
            var v = FastMath.Vector(repeating: -.infinity)
            for i in 0..<16 where i % 3 != 0 { v[i] = Float(r.doubles(1)[0]) }
            v[lane] = 5
            #expect(FastMath.horizontalMax(v) == 5)
        }
        #expect(FastMath.horizontalMax(FastMath.Vector(repeating: -.infinity)) == -.infinity)
    }

    @Test func geluMatchesNaive() {
        var r = Rand(4)
        let n = 40_003  // parallel path and a scalar tail
        let x = r.doubles(n, scale: 3), dout = r.doubles(n)
        let out = withPointers([[Float](repeating: 0, count: n), floats(x)]) { p in
            GELU.forward(out: p[0], inp: p[1], count: n, threads: 2)
        }[0]
        #expect(relativeError(out, GELU.forwardNaive(x)) < 2e-6)
        let d = withPointers([[Float](repeating: 0, count: n), floats(x), floats(dout)]) { p in
            GELU.backward(dinp: p[0], inp: p[1], dout: p[2], count: n, threads: 2)
        }[0]
        #expect(relativeError(d, GELU.backwardNaive(inp: x, dout: dout)) < 2e-6)
        // Far tails (e^(−2u) clamped): gelu → 0 and x, its slope → 0 and 1, all finite; 16 values
        // so that they run in the vector loop.
        let tails: [Double] = [-90, -40, -20, -12, -9, -6, -4, 0, 4, 6, 9, 12, 20, 40, 90, 1e4]
        let ones = [Double](repeating: 1, count: tails.count)
        let ft = withPointers([[Float](repeating: 0, count: 16), floats(tails)]) { p in
            GELU.forward(out: p[0], inp: p[1], count: 16, threads: 1)
        }[0]
        let dt = withPointers([[Float](repeating: 0, count: 16), floats(tails), floats(ones)]) { p in
            GELU.backward(dinp: p[0], inp: p[1], dout: p[2], count: 16, threads: 1)
        }[0]
        for (i, (f, e)) in zip(ft, GELU.forwardNaive(tails)).enumerated() {
            #expect(f.isFinite && abs(Double(f) - e) <= 1e-6 * max(1, abs(e)), "gelu(\(tails[i])) = \(f), expected \(e)")
        }
        for (i, (g, e)) in zip(dt, GELU.backwardNaive(inp: tails, dout: ones)).enumerated() {
            #expect(g.isFinite && abs(Double(g) - e) <= 1e-5, "gelu'(\(tails[i])) = \(g), expected \(e)")
        }
    }

    /// The last case packs documents into each row (segment starts at the cuts): attention stays
    /// inside each document, and the backward, which has no mask of its own, follows P.
    @Test(arguments: [(2, 70, 32, 4, []), (1, 5, 8, 2, []), (3, 128, 48, 3, []), (2, 70, 32, 4, [0, 5, 6, 33, 64])])
    func attentionMatchesNaive(shape: (Int, Int, Int, Int, [Int])) {
        let (b, t, c, nh, cuts) = shape
        var r = Rand(5)
        let qkv = r.doubles(b * t * 3 * c), dout = r.doubles(b * t * c)
        let starts = cuts.isEmpty ? nil : KernelTwinTests.segmentStarts(batch: b, time: t, cuts: cuts)
        let ref = Attention.forwardNaive(qkv: qkv, batch: b, time: t, channels: c, heads: nh, segmentStarts: starts)
        // att starts as NaN: what the forward leaves unwritten (above the diagonal, past the next
        // multiple of 16) must never reach the backward's results.
        let fw = withPointers([[Float](repeating: 0, count: b * t * c), [Float](repeating: .nan, count: b * nh * t * t),
                               floats(qkv)]) { p in
            (starts ?? []).withUnsafeBufferPointer { ss in
                Attention.forward(out: p[0], att: p[1], qkv: p[2], batch: b, time: t, channels: c, heads: nh,
                                  segmentStarts: starts == nil ? nil : ss.baseAddress!, threads: 2)
            }
        }
        #expect(relativeError(fw[0], ref.out) < 1e-5)
        // P[i, 0...i] and the zeros after it up to the next multiple of 16 (or T).
        var written: [Int] = []
        for row in 0..<(b * nh * t) {
            let i = row % t
            for j in 0..<min(t, (i + 16) / 16 * 16) { written.append(row * t + j) }
        }
        #expect(relativeError(written.map { fw[1][$0] }, written.map { ref.att[$0] }) < 1e-5)
        #expect(written.allSatisfy { ref.att[$0] != 0 || fw[1][$0] == 0 })   // exact zeros outside a document
        let expected = Attention.backwardNaive(dout: dout, qkv: qkv, batch: b, time: t, channels: c, heads: nh,
                                               segmentStarts: starts)
        let scratch = Attention.scratchCount(time: t, headSize: c / nh, threads: 2)
        let d = withPointers([[Float](repeating: 9, count: b * t * 3 * c), floats(dout), floats(qkv), fw[1],
                              [Float](repeating: 0, count: scratch)]) { p in
            Attention.backward(dqkv: p[0], dout: p[1], qkv: p[2], att: p[3], scratch: p[4], batch: b, time: t,
                               channels: c, heads: nh, threads: 2)
        }[0]
        #expect(d.allSatisfy(\.isFinite) && fw[0].allSatisfy(\.isFinite))   // relativeError skips NaN
        #expect(relativeError(d, expected) < 1e-5)
    }

    /// Segment starts (packed documents): row b of length t split at the given offsets.
    static func segmentStarts(batch: Int, time t: Int, cuts: [Int]) -> [Int32] {
        var out: [Int32] = []
        for _ in 0..<batch {
            for i in 0..<t { out.append(Int32(cuts.filter { $0 <= i }.max() ?? 0)) }
        }
        return out
    }

    /// Without segment starts and with them (position ids restart at each document start).
    @Test(arguments: [false, true])
    func encoderMatchesNaive(segmented: Bool) {
        var r = Rand(6)
        let b = 3, t = 20, c = 72, vp = 10
        let tokens = r.ids(b * t, below: 5)  // many repeats: the backward must not race
        let wte = r.doubles(vp * c), wpe = r.doubles(t * c), dout = r.doubles(b * t * c)
        let starts = segmented ? KernelTwinTests.segmentStarts(batch: b, time: t, cuts: [0, 5, 6, 13]) : nil
        func withStarts<R>(_ body: (UnsafePointer<Int32>?) -> R) -> R {
            guard let starts else { return body(nil) }
            return starts.withUnsafeBufferPointer { body($0.baseAddress!) }
        }
        let out = withPointers([[Float](repeating: 0, count: b * t * c), floats(wte), floats(wpe)]) { p in
            tokens.withUnsafeBufferPointer { tk in withStarts { ss in
                Encoder.forward(out: p[0], tokens: tk.baseAddress!, wte: p[1], wpe: p[2], batch: b, time: t, channels: c,
                                segmentStarts: ss, threads: 2)
            } }
        }[0]
        let plain = Encoder.forwardNaive(tokens: tokens, wte: wte, wpe: wpe, batch: b, time: t, channels: c)
        #expect(relativeError(out, Encoder.forwardNaive(tokens: tokens, wte: wte, wpe: wpe, batch: b, time: t,
                                                        channels: c, segmentStarts: starts)) < 1e-6)
        if segmented { #expect(relativeError(out, plain) > 1e-2) }
        let g = Encoder.backwardNaive(dout: dout, tokens: tokens, vocabRows: vp, batch: b, time: t, channels: c,
                                      segmentStarts: starts)
        let d = withPointers([[Float](repeating: 0, count: vp * c), [Float](repeating: 0, count: t * c), floats(dout)]) { p in
            tokens.withUnsafeBufferPointer { tk in withStarts { ss in
                Encoder.backward(dwte: p[0], dwpe: p[1], dout: p[2], tokens: tk.baseAddress!, batch: b, time: t,
                                 channels: c, segmentStarts: ss, threads: 2)
            } }
        }
        #expect(relativeError(d[0], g.dwte) < 1e-5)
        #expect(relativeError(d[1], g.dwpe) < 1e-5)
    }

    @Test func crossEntropyMatchesNaiveWithMaskAndPadding() {
        var r = Rand(7)
        let n = 300, v = 70, vp = 128
        var logits = r.doubles(n * vp, scale: 3)
        for i in 0..<n { for j in v..<vp { logits[i * vp + j] = 1000 } }  // padding must be ignored
        var targets = r.ids(n, below: v)
        targets[0] = -1; targets[17] = -1
        let losses = CrossEntropy.forwardNaive(logits: logits, targets: targets, rows: n, vocab: v, paddedVocab: vp)
        let fw = withPointers([[Float](repeating: 0, count: n), [Float](repeating: 0, count: n), floats(logits)]) { p in
            targets.withUnsafeBufferPointer { tg in
                CrossEntropy.forward(losses: p[0], lse: p[1], logits: p[2], targets: tg.baseAddress!, rows: n, vocab: v,
                                     paddedVocab: vp, threads: 2)
            }
        }
        #expect(relativeError(fw[0], losses) < 1e-5)
        #expect(fw[0][0] == 0 && fw[0][17] == 0)
        let scale = 1.0 / Double(n - 2)
        let expected = CrossEntropy.backwardNaive(logits: logits, targets: targets, scale: scale, rows: n, vocab: v,
                                                  paddedVocab: vp)
        // In place: dlogits overwrites logits.
        let d = withPointers([floats(logits), fw[1]]) { p in
            targets.withUnsafeBufferPointer { tg in
                CrossEntropy.backward(dlogits: p[0], logits: p[0], lse: p[1], targets: tg.baseAddress!, scale: Float(scale),
                                      rows: n, vocab: v, paddedVocab: vp, threads: 2)
            }
        }[0]
        #expect(relativeError(d, expected) < 1e-5)
        // Per-row scales of both signs (a policy-gradient weighting), one of them zero.
        var weights = r.doubles(n, scale: 1)
        weights[5] = 0
        let expectedWeighted = CrossEntropy.backwardNaive(logits: logits, targets: targets, scale: 0, rowScales: weights,
                                                          rows: n, vocab: v, paddedVocab: vp)
        let dw = withPointers([floats(logits), fw[1], floats(weights)]) { p in
            targets.withUnsafeBufferPointer { tg in
                CrossEntropy.backward(dlogits: p[0], logits: p[0], lse: p[1], targets: tg.baseAddress!, scale: 0,
                                      rowScales: p[2], rows: n, vocab: v, paddedVocab: vp, threads: 2)
            }
        }[0]
        #expect(relativeError(dw, expectedWeighted) < 1e-5)
        #expect(dw[5 * vp ..< 6 * vp].allSatisfy { $0 == 0 })
        // Entropies, and the entropy term of the backward (in place; row 5 has only it, row 6 none).
        let h = withPointers([[Float](repeating: 0, count: n), floats(logits), fw[1]]) { p in
            CrossEntropy.entropy(into: p[0], logits: p[1], lse: p[2], rows: n, vocab: v, paddedVocab: vp, threads: 2)
        }[0]
        #expect(relativeError(h, CrossEntropy.entropyNaive(logits: logits, rows: n, vocab: v, paddedVocab: vp)) < 1e-5)
        var entropyWeights = r.doubles(n, scale: 1)
        entropyWeights[6] = 0
        let expectedEntropy = CrossEntropy.backwardNaive(logits: logits, targets: targets, scale: 0, rowScales: weights,
                                                         entropyWeights: entropyWeights, rows: n, vocab: v, paddedVocab: vp)
        let de = withPointers([floats(logits), fw[1], floats(weights), floats(entropyWeights)]) { p in
            targets.withUnsafeBufferPointer { tg in
                CrossEntropy.backward(dlogits: p[0], logits: p[0], lse: p[1], targets: tg.baseAddress!, scale: 0,
                                      rowScales: p[2], entropyWeights: p[3], rows: n, vocab: v, paddedVocab: vp, threads: 2)
            }
        }[0]
        #expect(relativeError(de, expectedEntropy) < 1e-5)
        #expect(de[5 * vp ..< 6 * vp].contains { $0 != 0 } && de[0 ..< vp].allSatisfy { $0 == 0 })
    }

    @Test func fastExpAndTanhAreAccurate() {
        var worstExp: Float = 0, worstTanh: Float = 0
        var x: Float = -80
        while x < 80 {
            let e = FastMath.exp(x), ref = Float(_exp(Double(x)))
            worstExp = max(worstExp, abs(e - ref) / ref)
            let t = FastMath.tanh(x / 8), tr = Float(_tanh(Double(x / 8)))
            worstTanh = max(worstTanh, abs(t - tr))
            x += 0.0137
        }
        #expect(worstExp < 1e-6)
        #expect(worstTanh < 1e-6)
    }
}

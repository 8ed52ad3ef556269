import Testing
@testable import LMKernels

/// Finite-difference checks of every layer's backward (the Double twins, which the fast kernels
/// are compared against in KernelTwinTests). Each check uses loss = Σ w ⊙ forward(x) with random w.
@Suite struct GradientCheckTests {
    @Test(arguments: [Matmul.WeightLayout.inputMajor, .outputMajor])
    func matmul(layout: Matmul.WeightLayout) {
        var r = Rand(11)
        let n = 4, c = 5, oc = 6
        let x = r.doubles(n * c), w = r.doubles(c * oc), b = r.doubles(oc), g = r.doubles(n * oc)
        let analytic = Matmul.backwardNaive(dout: g, inp: x, weight: w, rows: n, inChannels: c, outChannels: oc, layout: layout)
        func f(_ x: [Double], _ w: [Double], _ b: [Double]) -> Double {
            dot(g, Matmul.forwardNaive(inp: x, weight: w, bias: b, rows: n, inChannels: c, outChannels: oc, layout: layout))
        }
        #expect(relativeError(analytic.dinp, finiteDifferences(x) { f($0, w, b) }) < 1e-7)
        #expect(relativeError(analytic.dweight, finiteDifferences(w) { f(x, $0, b) }) < 1e-7)
        #expect(relativeError(analytic.dbias, finiteDifferences(b) { f(x, w, $0) }) < 1e-7)
    }

    @Test func layerNorm() {
        var r = Rand(12)
        let n = 3, c = 7
        let x = r.doubles(n * c), w = r.doubles(c), b = r.doubles(c), g = r.doubles(n * c)
        let analytic = LayerNorm.backwardNaive(dout: g, inp: x, weight: w, rows: n, channels: c)
        func f(_ x: [Double], _ w: [Double], _ b: [Double]) -> Double {
            dot(g, LayerNorm.forwardNaive(inp: x, weight: w, bias: b, rows: n, channels: c))
        }
        #expect(relativeError(analytic.dinp, finiteDifferences(x) { f($0, w, b) }) < 1e-6)
        #expect(relativeError(analytic.dweight, finiteDifferences(w) { f(x, $0, b) }) < 1e-7)
        #expect(relativeError(analytic.dbias, finiteDifferences(b) { f(x, w, $0) }) < 1e-7)
    }

    @Test func gelu() {
        var r = Rand(13)
        let x = r.doubles(50, scale: 2), g = r.doubles(50)
        let fd = finiteDifferences(x) { dot(g, GELU.forwardNaive($0)) }
        #expect(relativeError(GELU.backwardNaive(inp: x, dout: g), fd) < 1e-7)
    }

    @Test func attention() {
        var r = Rand(14)
        let b = 2, t = 5, c = 6, nh = 2
        let qkv = r.doubles(b * t * 3 * c), g = r.doubles(b * t * c)
        let fd = finiteDifferences(qkv) { dot(g, Attention.forwardNaive(qkv: $0, batch: b, time: t, channels: c, heads: nh).out) }
        let analytic = Attention.backwardNaive(dout: g, qkv: qkv, batch: b, time: t, channels: c, heads: nh)
        #expect(relativeError(analytic, fd) < 1e-6)
    }

    /// The mean loss (one scale), and the weighted loss with an entropy term,
    /// Σ_r s_r·loss_r + Σ_r e_r·H_r (per-row scales of both signs: a PPO step with an entropy bonus).
    @Test func crossEntropy() {
        var r = Rand(15)
        let n = 5, v = 9, vp = 16
        let logits = r.doubles(n * vp, scale: 2)
        var targets = r.ids(n, below: v)
        targets[2] = -1
        let uniform = [Double](repeating: 0.25, count: n), zero = [Double](repeating: 0, count: n)
        for (scales, entropy) in [(uniform, zero), (r.doubles(n), r.doubles(n))] {
            let fd = finiteDifferences(logits) { x in
                let losses = CrossEntropy.forwardNaive(logits: x, targets: targets, rows: n, vocab: v, paddedVocab: vp)
                let h = CrossEntropy.entropyNaive(logits: x, rows: n, vocab: v, paddedVocab: vp)
                return (0..<n).reduce(0.0) { $0 + (targets[$1] < 0 ? 0 : scales[$1] * losses[$1] + entropy[$1] * h[$1]) }
            }
            let analytic = entropy == zero
                ? CrossEntropy.backwardNaive(logits: logits, targets: targets, scale: 0.25, rows: n, vocab: v, paddedVocab: vp)
                : CrossEntropy.backwardNaive(logits: logits, targets: targets, scale: 0, rowScales: scales,
                                             entropyWeights: entropy, rows: n, vocab: v, paddedVocab: vp)
            #expect(relativeError(analytic, fd) < 1e-7)
        }
    }

    @Test func encoder() {
        var r = Rand(16)
        let b = 2, t = 3, c = 4, vp = 5
        let tokens: [Int32] = [1, 1, 4, 0, 1, 2]
        let wte = r.doubles(vp * c), wpe = r.doubles(t * c), g = r.doubles(b * t * c)
        let analytic = Encoder.backwardNaive(dout: g, tokens: tokens, vocabRows: vp, batch: b, time: t, channels: c)
        let fdE = finiteDifferences(wte) { dot(g, Encoder.forwardNaive(tokens: tokens, wte: $0, wpe: wpe, batch: b, time: t, channels: c)) }
        let fdP = finiteDifferences(wpe) { dot(g, Encoder.forwardNaive(tokens: tokens, wte: wte, wpe: $0, batch: b, time: t, channels: c)) }
        #expect(relativeError(analytic.dwte, fdE) < 1e-7)
        #expect(relativeError(analytic.dwpe, fdP) < 1e-7)
    }
}

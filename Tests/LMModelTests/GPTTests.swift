import Foundation
import Testing
@testable import LMModel
import LMKernels
import LMSupport
import LMTestSupport

@Suite struct GPTConfigTests {
    @Test func presetsAndCounts() {
        let g = GPTConfig.gpt2()
        #expect(g.parameterCount == 124_439_808)  // Hugging Face's count for gpt2
        #expect(g.paddedVocabSize == 50304)
        #expect(GPTConfig.tiny(vocabSize: 65).paddedVocabSize == 128)
        #expect(GPTConfig.tiny(vocabSize: 64).paddedVocabSize == 64)
        let s = GPTConfig.small(vocabSize: 65)
        #expect(s.layers == 6 && s.heads == 6 && s.channels == 384 && s.context == 256)
        // 6N + 12·L·C·T, N excluding wpe (nanoGPT's estimate_mfu).
        let n = Double(s.parameterCount - 256 * 384)
        #expect(s.flopsPerToken() == 6 * n + 12 * 6 * 384 * 256)
        #expect(GPT(config: s, seed: 1).parameterCount == s.paddedParameterCount)
        // The figures quoted in the presets' documentation.
        #expect(GPTConfig.tiny(vocabSize: 65).parameterCount == 818_048)
        #expect(s.parameterCount == 10_770_816)
        #expect(abs(GPTConfig.tiny(vocabSize: 65).flopsPerToken() / 1e6 - 5.60) < 0.005)
        #expect(abs(s.flopsPerToken() / 1e6 - 71.1) < 0.05)
        #expect(abs(g.flopsPerToken() / 1e6 - 855) < 0.5)
        #expect(abs(g.flopsPerToken(time: 256) / 1e6 - 770) < 0.5)
    }

    @Test func codableRoundTrip() throws {
        let c = GPTConfig.small(vocabSize: 100)
        let back = try JSONDecoder().decode(GPTConfig.self, from: JSONEncoder().encode(c))
        #expect(back == c)
    }

    @Test func validateRejectsBadShapes() {
        #expect(throws: LMError.self) { try GPTConfig(layers: 2, heads: 3, channels: 32, context: 8, vocabSize: 10).validate() }
        #expect(throws: LMError.self) { try GPTConfig(layers: 0, heads: 1, channels: 32, context: 8, vocabSize: 10).validate() }
    }
}

@Suite struct GPTTests {
    let cfg = GPTConfig(layers: 2, heads: 2, channels: 16, context: 8, vocabSize: 20)

    @Test func initialisationIsSeededAndFollowsGPT2() {
        let big = GPTConfig(layers: 4, heads: 4, channels: 128, context: 64, vocabSize: 200)
        let a = GPT(config: big, seed: 3), b = GPT(config: big, seed: 3), c = GPT(config: big, seed: 4)
        #expect(a.parameters == b.parameters)
        #expect(a.parameters != c.parameters)
        func std(_ name: String) -> Float {
            let s = a.parameterLayout.tensor(named: name)!
            let x = a.parameters[s.range]
            let m = x.reduce(0, +) / Float(x.count)
            return (x.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Float(x.count)).squareRoot()
        }
        #expect(abs(std("transformer.h.0.attn.c_attn.weight") - 0.02) < 0.001)
        #expect(abs(std("transformer.h.1.mlp.c_proj.weight") - 0.02 / Float(8).squareRoot()) < 0.0005)
        let ln = a.parameterLayout.tensor(named: "transformer.ln_f.weight")!
        #expect(a.parameters[ln.range].allSatisfy { $0 == 1 })
        let wte = a.parameterLayout.wte
        #expect(a.parameters[(wte + 200 * 128) ..< (wte + 256 * 128)].allSatisfy { $0 == 0 })
        #expect(a.layout.filter(\.isMatrix).count == 2 + 4 * 4)
    }

    /// On two threads the trunk runs per chunk of whole sequences (256 rows rounded down: 4
    /// sequences of 64 here, 4 chunks), each through every layer on one thread; on one thread it
    /// runs over the whole batch. Same logits, loss and gradients, with and without packed
    /// segments.
    @Test(arguments: [false, true])
    func chunkedTrunkEqualsWholeBatch(segmented: Bool) {
        let config = GPTConfig(layers: 2, heads: 2, channels: 32, context: 64, vocabSize: 50)
        let batch = 16, time = 64
        let (x, y) = randomBatch(vocab: 50, batch: batch, time: time, seed: 31)
        // Two documents per row, cut at a different place in each row.
        var starts = [Int32]()
        for b in 0..<batch {
            for t in 0..<time { starts.append(t < 10 + b ? 0 : Int32(10 + b)) }
        }
        let segments: [Int32]? = segmented ? starts : nil
        func run(threads: Int) -> (loss: Float, logits: [Float], gradients: [Float]) {
            let model = GPT(config: config, seed: 5)
            model.threads = threads
            let loss = model.forward(inputs: x, targets: y, batch: batch, time: time, segmentStarts: segments)
            let logits = model.logits
            model.zeroGradients()
            model.backward()
            return (loss, logits, model.gradients)
        }
        let one = run(threads: 1), two = run(threads: 2)
        #expect(abs(one.loss - two.loss) < 1e-6)
        #expect(relativeError(two.logits, one.logits) < 1e-5)
        #expect(relativeError(two.gradients, one.gradients) < 1e-4)
    }

    /// Whole-model finite-difference check (fp32, central differences with h = 1e-2 on a sample of
    /// parameters from every tensor).
    @Test func wholeModelGradientMatchesFiniteDifferences() {
        let model = GPT(config: cfg, seed: 9)
        // Larger weights than GPT-2 init so that every path carries signal.
        var rng = SeededRNG(seed: 10)
        for i in 0..<model.parameterCount { model.parameters[i] += 0.1 * rng.nextGaussian() }
        let wte = model.parameterLayout.wte
        for i in (wte + 20 * 16) ..< (wte + 64 * 16) { model.parameters[i] = 0 }
        let (x, y) = randomBatch(vocab: 20, batch: 2, time: 7, seed: 11)
        model.threads = 1
        _ = model.forward(inputs: x, targets: y, batch: 2, time: 7)
        model.zeroGradients()
        model.backward()
        let grads = model.gradients
        var worst: Float = 0
        for spec in model.layout {
            let n = spec.name == "transformer.wte.weight" ? 20 * 16 : spec.count
            for k in 0..<4 {
                let i = spec.offset + (k * 7919 + 13) % n
                let saved = model.parameters[i]
                let h: Float = 1e-2
                model.parameters[i] = saved + h
                let lp = model.forward(inputs: x, targets: y, batch: 2, time: 7)
                model.parameters[i] = saved - h
                let lm = model.forward(inputs: x, targets: y, batch: 2, time: 7)
                model.parameters[i] = saved
                let fd = (lp - lm) / (2 * h)
                let err = abs(fd - grads[i]) / max(abs(grads[i]), 1e-2)
                worst = max(worst, err)
                #expect(err < 3e-2, "\(spec.name)[\(i - spec.offset)]: backward \(grads[i]) vs finite difference \(fd)")
            }
        }
        #expect(worst < 3e-2)
    }

    @Test func backwardAccumulatesAndMaskedTargetsCount() {
        let model = GPT(config: cfg, seed: 1)
        let (x, y) = randomBatch(vocab: 20, batch: 2, time: 8, seed: 2)
        let loss = model.forward(inputs: x, targets: y, batch: 2, time: 8)
        let per = model.positionLosses
        let valid = zip(per, y).filter { $0.1 >= 0 }.map { Double($0.0) }
        #expect(abs(Double(loss) - valid.reduce(0, +) / Double(valid.count)) < 1e-5)
        #expect(per[y.firstIndex(of: -1)!] == 0)
        model.zeroGradients()
        model.backward()
        let once = model.gradients
        model.forward(inputs: x, targets: y, batch: 2, time: 8)
        model.backward()
        #expect(relativeError(model.gradients, once.map { 2 * $0 }) < 1e-6)
        // At init the loss is close to ln V.
        #expect(abs(loss - Float(_math_log(20))) < 0.3)
    }

    @Test func inferenceSessionMatchesFullForward() {
        let model = GPT(config: GPTConfig(layers: 2, heads: 2, channels: 16, context: 8, vocabSize: 70), seed: 5)
        let (x, _) = randomBatch(vocab: 70, batch: 1, time: 8, seed: 6)
        model.forward(inputs: x, targets: nil, batch: 1, time: 8)
        let full = model.logits
        let session = InferenceSession(model)
        let vp = model.config.paddedVocabSize
        for t in 0..<8 {
            let step = session.append(x[t])
            #expect(step.count == 70)
            #expect(relativeError(step, Array(full[t * vp ..< t * vp + 70])) < 1e-5, "position \(t)")
        }
        #expect(session.count == 8)
        session.reset()
        #expect(relativeError(session.append(x[0]), Array(full[0..<70])) < 1e-5)
    }

    /// Three rows advancing unevenly (row 1 joins late, row 2 stops early, row 0 is reset and
    /// refilled): every row's logits equal the full forward of its own sequence.
    @Test func batchSessionRowsMatchTheirOwnFullForward() {
        let cfg = GPTConfig(layers: 2, heads: 2, channels: 16, context: 8, vocabSize: 70)
        let model = GPT(config: cfg, seed: 7)
        let (x, _) = randomBatch(vocab: 70, batch: 3, time: 8, seed: 8)
        model.forward(inputs: x, targets: nil, batch: 3, time: 8)
        let full = model.logits, vp = cfg.paddedVocabSize
        func expected(_ row: Int, _ t: Int) -> [Float] { Array(full[(row * 8 + t) * vp ..< (row * 8 + t) * vp + 70]) }
        let s = BatchInferenceSession(model, capacity: 3)
        var fed = [0, 0, 0]
        let schedule: [[Int]] = [[0, 2], [0, 2], [0, 1, 2], [1, 0], [0, 1], [1, 0], [0, 1], [1], [0, 1], [1]]
        for rows in schedule {
            let logits = s.append(rows.map { x[$0 * 8 + fed[$0]] }, rows: rows)
            for (i, r) in rows.enumerated() {
                #expect(relativeError(logits[i], expected(r, fed[r])) < 1e-5, "row \(r), position \(fed[r])")
                fed[r] += 1
            }
        }
        #expect(s.counts == fed && fed == [8, 8, 3])
        s.reset(row: 0)
        #expect(relativeError(s.append([x[0]], rows: [0])[0], expected(0, 0)) < 1e-5)
    }
}

@inline(__always) func _math_log(_ x: Double) -> Double { Foundation.log(x) }

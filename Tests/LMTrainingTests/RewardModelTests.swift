import Foundation
import Testing
@testable import LMModel
import LMSupport
import LMTestSupport
import LMTokenizer
@testable import LMTraining

/// A tiny base run (byte vocab with <|endoftext|>) and preference files.
enum RewardFixture {
    static let config = GPTConfig(layers: 2, heads: 2, channels: 32, context: 48, vocabSize: 257)

    /// Writes `dir/base` (model.safetensors, config.json, vocab.vocab) and `dir/prefs.jsonl`:
    /// `count` pairs "Q: <n>\nA: " + a polite answer (chosen) vs a rude one (rejected), in
    /// several wordings, so a model can only win by reading the answer.
    static func make(_ dir: String, count: Int = 200) throws -> (base: String, data: String) {
        let base = dir + "/base"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        try GPT(config: config, seed: 5).save(to: base)
        try VocabularyFile.write(try ChatFixture.byteVocabulary(), to: base + "/vocab.vocab")
        let polite = ["sure, happy to help", "thanks, here it is", "of course, gladly", "yes please, my pleasure"]
        let rude = ["no, go away", "ugh, do it yourself", "stop asking me", "not my problem"]
        var lines: [String] = []
        for i in 0..<count {
            let q = "Q: item \(i % 37)\nA: "
            let (c, r) = (polite[i % 4], rude[(i / 4) % 4])
            // Chosen first in half of the records' text order does not matter to the format, but
            // vary which string is longer so length alone cannot decide.
            lines.append(#"{"chosen": "\#(q)\#(c)", "rejected": "\#(q)\#(r)"}"#.replacingOccurrences(of: "\n", with: "\\n"))
        }
        try AtomicFileWriter.write(lines.joined(separator: "\n") + "\n", to: dir + "/prefs.jsonl")
        return (base, dir + "/prefs.jsonl")
    }

    static func parameters(_ f: (base: String, data: String), out: String, steps: Int = 40) -> RewardTrainParameters {
        var t = TrainerParameters(outputDirectory: out)
        t.steps = steps; t.checkpointEvery = 10; t.quiet = true; t.threads = 2
        var p = RewardTrainParameters(baseCheckpoint: f.base, dataPath: f.data, trainer: t)
        p.valFraction = 0.2
        p.measureSgemm = false
        p.pairsPerBatch = 4
        p.options.learningRate = 3e-3; p.options.warmupSteps = 2; p.options.evalEvery = 20
        return p
    }
}

@Suite struct RewardModelTests {
    static let cfg = GPTConfig(layers: 2, heads: 2, channels: 16, context: 8, vocabSize: 20, scoreHead: true)

    /// A pair batch of 2 pairs, T = 8, scored at positions 7, 4, 5, 7 (padding 0 after them).
    static func batch() -> TrainingBatch {
        var rng = SeededRNG(seed: 21)
        let lengths = [8, 5, 6, 8]
        var inputs = [Int32](repeating: 0, count: 4 * 8), targets = [Int32](repeating: -1, count: 4 * 8)
        for (r, n) in lengths.enumerated() {
            for i in 0..<n { inputs[r * 8 + i] = Int32(rng.next(below: 20)) }
            targets[r * 8 + n - 1] = 1
        }
        return TrainingBatch(inputs: inputs, targets: targets)
    }

    @Test func layoutConfigAndCheckpointCarryTheScoreHead() throws {
        let gpt = GPT(config: Self.cfg, seed: 3)
        let score = try #require(gpt.parameterLayout.score)
        #expect(gpt.layout.last?.name == "score.weight" && gpt.layout.last?.shape == [1, 16])
        #expect(score + 16 == gpt.parameterCount && Self.cfg.paddedParameterCount == gpt.parameterCount)
        // Codable: the flag round-trips; a language model's encoding has no such key (old files read the same).
        let data = try JSONEncoder().encode(Self.cfg)
        #expect(try JSONDecoder().decode(GPTConfig.self, from: data) == Self.cfg)
        var lm = Self.cfg; lm.scoreHead = false
        let lmJSON = String(decoding: try JSONEncoder().encode(lm), as: UTF8.self)
        #expect(!lmJSON.contains("scoreHead"))
        #expect(try JSONDecoder().decode(GPTConfig.self, from: Data(lmJSON.utf8)) == lm)
        // Save → load keeps the head and the rewards.
        let dir = TestData.temporaryDirectory("lmkit-rm-ckpt")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try gpt.save(to: dir)
        #expect(try FileIO.readText(dir + "/config.json").contains("GPT2ForSequenceClassification"))
        let back = try GPT.load(from: dir)
        #expect(back.config == Self.cfg && back.parameters == gpt.parameters)
    }

    @Test func rewardIsTheScoreOfTheFinalHiddenStateAndIgnoresPadding() {
        let gpt = GPT(config: Self.cfg, seed: 4)
        gpt.threads = 1
        let b = Self.batch()
        let positions = try! RewardModel.scoredPositions(b.targets, rows: 4, time: 8)
        #expect(positions == [7, 4, 5, 7])
        let r = gpt.forwardRewards(inputs: b.inputs, positions: positions, batch: 4, time: 8)
        // The same sequences alone, unpadded and one per forward, give the same rewards.
        for row in 0..<4 {
            let n = positions[row] + 1
            let alone = Array(b.inputs[row * 8 ..< row * 8 + n])
            let r1 = gpt.forwardRewards(inputs: alone, positions: [n - 1], batch: 1, time: n)
            #expect(abs(r1[0] - r[row]) <= 1e-5 * max(1, abs(r[row])), "row \(row): \(r1[0]) vs \(r[row])")
            // Other padding ids after the scored token change nothing (causal attention).
            var other = Array(b.inputs[row * 8 ..< row * 8 + 8])
            for i in n..<8 { other[i] = 13 }
            let r2 = gpt.forwardRewards(inputs: other, positions: [n - 1], batch: 1, time: 8)
            #expect(abs(r2[0] - r[row]) <= 1e-5 * max(1, abs(r[row])))
        }
        // r = score · ln_f(h): an explicit dot product with the LM forward's final hidden state.
        let score = gpt.parameterLayout.score!
        let w = Array(gpt.parameters[score ..< score + 16])
        #expect(w.contains { $0 != 0 })
        gpt.forward(inputs: b.inputs, targets: nil, batch: 4, time: 8)
        let lnf = gpt.activations!.lnf
        for row in 0..<4 {
            let h = lnf + (row * 8 + positions[row]) * 16
            var dot: Float = 0
            for i in 0..<16 { dot += w[i] * h[i] }
            #expect(abs(dot - r[row]) <= 1e-5 * max(1, abs(dot)))
        }
    }

    @Test func pairLossGradientMatchesFiniteDifferences() throws {
        let gpt = GPT(config: Self.cfg, seed: 9)
        var rng = SeededRNG(seed: 10)
        for i in 0..<gpt.parameterCount { gpt.parameters[i] += 0.1 * rng.nextGaussian() }
        let wte = gpt.parameterLayout.wte
        for i in (wte + 20 * 16) ..< (wte + 64 * 16) { gpt.parameters[i] = 0 }
        gpt.threads = 1
        let model = RewardModel(gpt)
        let b = Self.batch()
        func loss() throws -> Float { try model.forward(inputs: b.inputs, targets: b.targets, batch: 4, time: 8) }
        _ = try loss()
        model.zeroGradients()
        try model.backward()
        let grads = gpt.gradients
        var worst: Float = 0
        for spec in gpt.layout {
            let n = spec.name == "transformer.wte.weight" ? 20 * 16 : spec.count
            for k in 0..<4 {
                let i = spec.offset + (k * 7919 + 13) % n
                let saved = gpt.parameters[i]
                let h: Float = 1e-2
                gpt.parameters[i] = saved + h
                let lp = try loss()
                gpt.parameters[i] = saved - h
                let lm = try loss()
                gpt.parameters[i] = saved
                let fd = (lp - lm) / (2 * h)
                let err = abs(fd - grads[i]) / max(abs(grads[i]), 1e-2)
                worst = max(worst, err)
                #expect(err < 3e-2, "\(spec.name)[\(i - spec.offset)]: backward \(grads[i]) vs finite difference \(fd)")
            }
        }
        #expect(worst < 3e-2)
        // The head's gradient is nonzero (the check above would pass trivially on zeros otherwise).
        let score = gpt.parameterLayout.score!
        #expect(grads[score ..< score + 16].contains { abs($0) > 1e-4 })
    }

    @Test func lossIsTheBradleyTerryLossOfTheRewards() throws {
        let gpt = GPT(config: Self.cfg, seed: 12)
        gpt.threads = 1
        let model = RewardModel(gpt)
        let b = Self.batch()
        let loss = try model.forward(inputs: b.inputs, targets: b.targets, batch: 4, time: 8)
        let r = model.lastRewards.map(Double.init)
        let expected = (log(1 + exp(-(r[0] - r[1]))) + log(1 + exp(-(r[2] - r[3])))) / 2
        #expect(abs(Double(loss) - expected) < 1e-6)
        // A batch without exactly one scored position per row is refused.
        var bad = b
        bad.targets[3] = 1
        #expect(throws: LMError.self) { try model.forward(inputs: bad.inputs, targets: bad.targets, batch: 4, time: 8) }
    }

    @Test func addingScoreHeadKeepsTheWeightsAndStartsAtChance() throws {
        var lmCfg = Self.cfg; lmCfg.scoreHead = false
        let lm = GPT(config: lmCfg, seed: 2)
        let rm = lm.addingScoreHead()
        #expect(rm.config.scoreHead && Array(rm.parameters[0..<lm.parameterCount]) == lm.parameters)
        let model = RewardModel(rm)
        let b = Self.batch()
        let loss = try model.forward(inputs: b.inputs, targets: b.targets, batch: 4, time: 8)
        #expect(abs(Double(loss) - log(2)) < 1e-7)
    }

    @Test func pairBatchesEncodePairsVisitEachOnceAndResume() throws {
        let ex = (0..<5).map { i in RewardExample(chosen: [Int32(i), 1, 2], rejected: [Int32(i), 3]) }
        let s = PairBatches(examples: ex, pairsPerBatch: 2, context: 4, seed: 7, shuffle: true, padID: 9)
        #expect(s.batchRows == 4 && s.batchesPerEpoch == 3)
        var seen: [Int32] = []
        for _ in 0..<3 {
            let b = try s.nextBatch()
            for k in 0..<2 {
                let c = Array(b.inputs[(2 * k) * 4 ..< (2 * k) * 4 + 4]), r = Array(b.inputs[(2 * k + 1) * 4 ..< (2 * k + 1) * 4 + 4])
                #expect(c[1...] == [1, 2, 9] && r[1...] == [3, 9, 9] && c[0] == r[0])
                #expect(try RewardModel.scoredPositions(b.targets, rows: 4, time: 4)[(2 * k)...(2 * k + 1)] == [2, 1])
                seen.append(c[0])
            }
        }
        // 6 slots: epoch 0's five pairs once each, then the first of epoch 1.
        #expect(Set(seen.prefix(5)) == Set(0..<5))
        let pos = s.streamPosition
        let next = try s.nextBatch()
        try s.restoreStream(pos)
        #expect(try s.nextBatch().inputs == next.inputs)
    }

    @Test func preferenceDataErrorsNameTheLineAndField() throws {
        let ok = try PreferenceData.parse(#"{"chosen": "a", "rejected": "b"}"# + "\n\n" + #"{"prompt": "p ", "chosen": "c", "rejected": "d"}"#, file: "f")
        #expect(ok.map(\.chosen) == ["a", "p c"] && ok.map(\.rejected) == ["b", "p d"] && ok[1].location == "line 3")
        for (text, needle) in [(#"{"chosen": "a"}"#, "line 1: field \"rejected\" is missing"),
                               ("{\"chosen\": \"a\", \"rejected\": \"b\"}\n{oops", "line 2: not valid JSON"),
                               (#"{"chosen": 3, "rejected": "b"}"#, "line 1: field \"chosen\" is not a string"),
                               ("[1]", "line 1: not a JSON object")] {
            do { _ = try PreferenceData.parse(text, file: "prefs.jsonl"); Issue.record("accepted \(text)") } catch let e as LMError {
                #expect(e.description.contains("prefs.jsonl") && e.description.contains(needle), "\(e.description)")
            }
        }
    }

    @Test func trainingRanksHeldOutPairsAndResumesExactly() throws {
        let dir = TestData.temporaryDirectory("lmkit-rm-train")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let f = try RewardFixture.make(dir)
        let r = try RewardTrain.run(RewardFixture.parameters(f, out: dir + "/rm"))
        let acc = try #require(r.validation)
        #expect(acc.pairs > 20)
        #expect(acc.accuracy >= 0.9, "held-out accuracy \(acc.accuracy)")
        #expect(acc.loss < 0.5 * log(2.0))
        // The run directory scores like the trained model and is a reward model.
        let scorer = try RewardScorer(checkpoint: dir + "/rm")
        let again = try scorer.evaluate(dataPath: f.data, valFraction: 0.2, splitSeed: 0, all: false)
        #expect(again == acc)
        let s = try scorer.score(["Q: item 3\nA: sure, happy to help", "Q: item 3\nA: no, go away"])
        #expect(s[0] > s[1])
        // Resume: 20 + 20 steps equal 40 in one go.
        var first = RewardFixture.parameters(f, out: dir + "/rm2", steps: 40)
        first.trainer.steps = 40
        let stopAt20: @Sendable (Int) -> Bool = { $0 == 20 }
        _ = try RewardTrain.run(first, stopRequested: stopAt20)
        var resumed = RewardFixture.parameters(f, out: dir + "/rm2", steps: 40)
        resumed.trainer.resume = true
        _ = try RewardTrain.run(resumed)
        let a = try GPT.load(from: dir + "/rm"), b = try GPT.load(from: dir + "/rm2")
        #expect(a.parameters == b.parameters)
        // A language model is not a reward model.
        #expect(throws: LMError.self) { _ = try RewardScorer(checkpoint: f.base) }
    }

    /// lmkit's rewards equal transformers' `GPT2ForSequenceClassification` on the saved run.
    /// Needs torch + transformers (`$LMKIT_PYTHON`, else ../venv/bin/python); skipped without it.
    @Test func rewardModelLoadsInTransformersWithTheSameRewards() throws {
        guard let python = TestData.referencePython else { return }  // no venv: skip
        let cfg = GPTConfig(layers: 2, heads: 4, channels: 32, context: 24, vocabSize: 90, scoreHead: true)
        let gpt = GPT(config: cfg, seed: 31)
        var rng = SeededRNG(seed: 32)
        let seqs: [[Int32]] = [5, 24, 1, 17].map { n in (0..<n).map { _ in Int32(rng.next(below: 90)) } }
        let r = RewardEvaluation.rewards(model: gpt, sequences: seqs, batchSize: 3, padID: 0)
        let out = TestData.temporaryDirectory("lmkit-rm-hf")
        defer { try? FileManager.default.removeItem(atPath: out) }
        try gpt.save(to: out)
        let json = try JSONSerialization.data(withJSONObject: seqs.map { $0.map(Int.init) })
        try json.write(to: URL(fileURLWithPath: out + "/sequences.json"))
        let (status, data) = try TestData.runPython(python, script: "scripts/fixtures/check_reward_model.py", [out])
        try #require(status == 0, "transformers could not load the lmkit reward model")
        let hf = try #require(try JSONSerialization.jsonObject(with: data) as? [Double])
        print("lmkit → transformers reward model: lmkit \(r), transformers \(hf)")
        #expect(hf.count == r.count)
        for (a, b) in zip(r, hf) { #expect(abs(Double(a) - b) <= 1e-5 * max(1, abs(b)), "\(a) vs \(b)") }
    }
}

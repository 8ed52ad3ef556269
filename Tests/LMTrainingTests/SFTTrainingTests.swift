import Foundation
import Testing
import LMModel
import LMSupport
import LMTestSupport
import LMTokenizer
@testable import LMTraining

/// A tiny base run (model + byte vocab without chat tokens) and small SFT data files.
enum SFTFixture {
    static let config = GPTConfig(layers: 2, heads: 2, channels: 32, context: 48, vocabSize: 257)

    /// Writes `dir/base` (model.safetensors, config.json, vocab.vocab), `dir/chat.vocab` and
    /// `dir/data.jsonl` (`count` short conversations: "add A B" → "A+B is C"). Returns the paths.
    static func make(_ dir: String, count: Int = 120) throws -> (base: String, chatVocab: String, data: String) {
        let base = dir + "/base"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        try GPT(config: config, seed: 5).save(to: base)
        let vocab = try ChatFixture.byteVocabulary()
        try VocabularyFile.write(vocab, to: base + "/vocab.vocab")
        try VocabularyFile.write(try ChatFixture.chatVocabulary(), to: dir + "/chat.vocab")
        var lines: [String] = []
        for i in 0..<count {
            let (a, b) = (i % 7, i / 7 % 5)
            let sys = i % 3 == 0 ? #"{"role":"system","content":"math"},"# : ""
            lines.append(#"{"messages":[\#(sys){"role":"user","content":"add \#(a) \#(b)"},{"role":"assistant","content":"\#(a)+\#(b) is \#(a + b)"}]}"#)
        }
        try AtomicFileWriter.write(lines.joined(separator: "\n") + "\n", to: dir + "/data.jsonl")
        return (base, dir + "/chat.vocab", dir + "/data.jsonl")
    }

    static func parameters(_ f: (base: String, chatVocab: String, data: String), out: String, steps: Int = 16) -> FinetuneParameters {
        var t = TrainerParameters(outputDirectory: out)
        t.steps = steps; t.checkpointEvery = 5; t.quiet = true; t.threads = 2
        var p = FinetuneParameters(baseCheckpoint: f.base, dataPath: f.data, trainer: t)
        p.vocabPath = f.chatVocab
        p.valFraction = 0.2
        p.measureSgemm = false
        p.options.batchSize = 4; p.options.learningRate = 3e-3; p.options.warmupSteps = 2
        p.options.evalEvery = 8
        return p
    }
}

@Suite struct PackingTests {
    func examples(_ lengths: [Int]) -> [SFTExample] {
        lengths.enumerated().map { i, n in
            SFTExample(inputs: (0..<n).map { _ in Int32(i) }, targets: (0..<n).map { $0 == n - 1 ? Int32(i) : -1 })
        }
    }

    @Test func firstFitPacksEveryExampleOncePerEpoch() throws {
        let ex = examples([5, 3, 8, 2, 7, 1, 4, 6])  // 36 positions
        let p = PackedBatches(examples: ex, batchSize: 2, context: 8, seed: 3, shuffle: true, padID: 99)
        for e in 0..<3 {
            let rows = p.packing(epoch: e)
            #expect(rows.flatMap { $0 }.sorted() == Array(0..<8))
            #expect(rows.allSatisfy { $0.map { ex[$0].count }.reduce(0, +) <= 8 })
        }
        #expect(p.packing(epoch: 0) != p.packing(epoch: 1) || p.packing(epoch: 1) != p.packing(epoch: 2))
        let s = p.statistics
        #expect(abs(s.padding - (1 - 36.0 / Double(s.rows * 8))) < 1e-12 && s.rows >= 5)
        #expect(abs(s.trained - 8.0 / Double(s.rows * 8)) < 1e-12)
        // Batches: example tokens in place, padding = (padID, −1).
        let b = try p.nextBatch()
        let rows = p.packing(epoch: 0)
        var expect: [Int32] = []
        for r in rows.prefix(2) {
            var row = r.flatMap { ex[$0].inputs }
            row += [Int32](repeating: 99, count: 8 - row.count)
            expect += row
        }
        #expect(b.inputs == expect)
        #expect(b.targets.filter { $0 >= 0 }.count == rows.prefix(2).map(\.count).reduce(0, +))
    }

    @Test func positionRestoresTheSameBatchesAcrossEpochs() throws {
        let ex = examples([5, 3, 8, 2, 7, 1, 4, 6])
        let a = PackedBatches(examples: ex, batchSize: 3, context: 8, seed: 3, shuffle: true, padID: 0)
        for _ in 0..<4 { _ = try a.nextBatch() }
        let pos = a.streamPosition
        let next = try (0..<5).map { _ in try a.nextBatch().inputs }
        let b = PackedBatches(examples: ex, batchSize: 3, context: 8, seed: 3, shuffle: true, padID: 0)
        try b.restoreStream(pos)
        #expect(try (0..<5).map { _ in try b.nextBatch().inputs } == next)
        #expect(pos.epoch >= 1)  // 12 rows drawn from epochs of ~5 rows
    }
}

@Suite struct GrowVocabularyTests {
    @Test func growingInsideThePaddingKeepsEveryWeight() {
        let m = GPT(config: SFTFixture.config, seed: 1)  // V 257, Vp 320
        let g = m.growingVocabulary(to: 262, seed: 9)
        #expect(g.config.vocabSize == 262 && g.config.paddedVocabSize == 320 && g.parameterCount == m.parameterCount)
        let c = m.config.channels
        let head = 257 * c, tail = 320 * c
        #expect(Array(g.parameters[0..<head]) == Array(m.parameters[0..<head]))
        #expect(Array(g.parameters[tail...]) == Array(m.parameters[tail...]))
        let newRows = g.parameters[(257 * c)..<(262 * c)], padding = g.parameters[(262 * c)..<(320 * c)]
        #expect(newRows.allSatisfy { $0 != 0 })
        #expect(padding.allSatisfy { $0 == 0 })
        #expect(m.growingVocabulary(to: 262, seed: 9).parameters == g.parameters)
        #expect(m.growingVocabulary(to: 262, seed: 10).parameters != g.parameters)
    }

    @Test func growingPastThePaddingMovesTheOtherTensors() {
        let m = GPT(config: GPTConfig(layers: 1, heads: 2, channels: 16, context: 8, vocabSize: 60), seed: 2)  // Vp 64
        let g = m.growingVocabulary(to: 70, seed: 1)  // Vp 128
        #expect(g.config.paddedVocabSize == 128)
        for spec in m.layout where spec.name != "transformer.wte.weight" {
            let s2 = g.parameterLayout.tensor(named: spec.name)!
            #expect(Array(g.parameters[s2.range]) == Array(m.parameters[spec.range]), "\(spec.name)")
        }
        #expect(Array(g.parameters[0..<60 * 16]) == Array(m.parameters[0..<60 * 16]))
        // The grown model runs and its new tokens get probability.
        let loss = g.forward(inputs: [1, 2, 65, 69], targets: [2, 65, 69, 3], batch: 1, time: 4)
        #expect(loss.isFinite && loss > 0)
    }
}

@Suite(.serialized) struct FinetuneTests {
    @Test func learnsTheAssistantTokensAndResumesBitIdentically() throws {
        let dir = TestData.temporaryDirectory()
        let f = try SFTFixture.make(dir)
        var eval = SFTEvaluationParameters(checkpoint: f.base, dataPath: f.data)
        eval.vocabPath = f.chatVocab; eval.valFraction = 0.2; eval.replies = 0; eval.threads = 2
        let before = try SFTEvaluation.run(eval)
        #expect(before.grown && before.valAssistantTokens > 0)

        let straight = try Finetune.run(SFTFixture.parameters(f, out: dir + "/a"))
        #expect(straight.train.steps == 16 && straight.paddingFraction >= 0 && straight.paddingFraction < 0.5)
        InterruptFlag.shared.reset()
        _ = try Finetune.run(SFTFixture.parameters(f, out: dir + "/b"), stopRequested: StopAfter(7).check)
        var resumed = SFTFixture.parameters(f, out: dir + "/b")
        resumed.trainer.resume = true
        resumed.vocabPath = nil
        _ = try Finetune.run(resumed)
        let a = try MetricsLog.read(dir + "/a/metrics.jsonl"), b = try MetricsLog.read(dir + "/b/metrics.jsonl")
        #expect(a.map(\.step) == Array(1...16) && b.map(\.step) == Array(1...16))
        #expect(a.map(\.trainLoss.bitPattern) == b.map(\.trainLoss.bitPattern))
        #expect(try FileIO.readBytes(dir + "/a/model.safetensors") == FileIO.readBytes(dir + "/b/model.safetensors"))

        // The fine-tuned run holds the chat vocab and a grown model; held-out loss fell.
        #expect(try VocabularyFile.read(dir + "/a/vocab.vocab").specialID("<|end|>") == 261)
        eval.checkpoint = dir + "/a"; eval.vocabPath = nil
        let after = try SFTEvaluation.run(eval)
        #expect(!after.grown && after.valAssistantTokens == before.valAssistantTokens)
        #expect(abs(after.valAssistantLoss - Double(straight.valAssistantLoss!)) < 1e-4)
        #expect(after.valAssistantLoss < before.valAssistantLoss - 1.5, "\(before.valAssistantLoss) → \(after.valAssistantLoss)")
    }

    @Test func badInputIsOneLineAndWritesNoRun() throws {
        let dir = TestData.temporaryDirectory()
        let f = try SFTFixture.make(dir, count: 20)
        func failure(_ p: FinetuneParameters) -> String {
            do { _ = try Finetune.run(p); return "no error" } catch { return "\(error)" }
        }
        // Base checkpoint whose vocab lacks the chat tokens, no --vocab.
        var p = SFTFixture.parameters(f, out: dir + "/r1")
        p.vocabPath = nil
        let e1 = failure(p)
        #expect(e1.contains("vocab.vocab: the vocab has no chat tokens") && e1.contains("add-special") && !e1.contains("\n"))
        #expect(!FileIO.exists(dir + "/r1"))
        // A conversation longer than the context (48).
        let long = dir + "/long.jsonl"
        try AtomicFileWriter.write(try FileIO.readText(f.data) + #"{"messages":[{"role":"user","content":"\#(String(repeating: "x", count: 60))"},{"role":"assistant","content":"y"}]}"# + "\n", to: long)
        p = SFTFixture.parameters(f, out: dir + "/r2")
        p.dataPath = long
        let e2 = failure(p)
        #expect(e2.hasPrefix(long + ": line 21: the conversation is 66 tokens, longer than the model's context of 48 allows") && e2.contains("--skip-long"))
        #expect(!FileIO.exists(dir + "/r2"))
        p.skipLong = true
        p.trainer.steps = 2
        #expect(try Finetune.run(p).train.steps == 2)
        // Unknown role, malformed line.
        let bad = dir + "/bad.jsonl"
        try AtomicFileWriter.write(#"{"messages":[{"role":"robot","content":"x"}]}"#, to: bad)
        p = SFTFixture.parameters(f, out: dir + "/r3"); p.dataPath = bad
        #expect(failure(p).contains("bad.jsonl: line 1: field \"messages[0].role\" is \"robot\", an unknown role"))
        #expect(!FileIO.exists(dir + "/r3"))
        // A vocab that does not keep the base's ids.
        let wrong = dir + "/wrong.vocab"
        var tokens = (0..<256).map { [UInt8($0)] }; tokens.append([104, 105])
        try VocabularyFile.write(try Vocabulary(pattern: .gpt2, tokens: tokens, specialTokens: []).adding(specialTokens: ChatTemplate.specialTokens).vocabulary, to: wrong)
        p = SFTFixture.parameters(f, out: dir + "/r4"); p.vocabPath = wrong
        #expect(failure(p).contains("does not keep the ids of the model's vocab"))
    }
}

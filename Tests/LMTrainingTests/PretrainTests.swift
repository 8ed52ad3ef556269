import Foundation
import Testing
import LMData
import LMModel
import LMSupport
import LMTestSupport
import LMTokenizer
@testable import LMTraining

/// A byte-level vocab (256 bytes + <|endoftext|> = 256) and a shard directory of Tiny Shakespeare
/// pieces, made through the same library calls `lmkit shard` uses.
enum PretrainFixture {
    static func byteVocabulary() throws -> Vocabulary {
        try Vocabulary(pattern: .gpt2, tokens: (0..<256).map { [UInt8($0)] },
                       specialTokens: [SpecialToken("<|endoftext|>", id: 256)])
    }

    /// Writes `dir/vocab.vocab` and `dir/shards/`; returns (vocab path, shard dir).
    static func make(_ dir: String, documents: Int = 40, bytesPerDocument: Int = 1500) throws -> (String, String) {
        let vocab = try byteVocabulary()
        let vocabPath = dir + "/vocab.vocab"
        try VocabularyFile.write(vocab, to: vocabPath)
        let text = try FileIO.readBytes(TestData.repoPath("Corpora/tinyshakespeare.txt"))
        let docs = (0..<documents).map { Array(text[($0 * bytesPerDocument)..<(($0 + 1) * bytesPerDocument)]) }
        var p = Sharder.Parameters(output: dir + "/shards", vocabSize: vocab.idLimit,
                                   vocabFingerprint: UInt64(vocab.fingerprint, radix: 16)!, endOfTextID: 256)
        p.valFraction = 0.2
        p.splitSeed = 1
        p.frameTokens = 4096
        p.config = ["vocab": vocabPath]
        try Sharder.run(p, source: DocumentArray(docs), encode: { $0.map(UInt32.init) })
        return (vocabPath, dir + "/shards")
    }

    static func parameters(_ dir: String, data: String, vocab: String, steps: Int = 12) -> PretrainParameters {
        var t = TrainerParameters(outputDirectory: dir)
        t.batchSize = 4; t.steps = steps; t.warmupSteps = 2; t.learningRate = 3e-3
        t.evalEvery = 4; t.evalBatches = 2; t.checkpointEvery = 5; t.quiet = true; t.threads = 2
        var p = PretrainParameters(dataDirectory: data, vocabPath: vocab,
                                   model: .custom(layers: 2, heads: 2, channels: 32, context: 32), trainer: t)
        p.measureSgemm = false
        return p
    }
}

@Suite(.serialized) struct PretrainTests {
    @Test func gptResumeIsBitIdenticalAndCheckpointLoads() throws {
        let base = TestData.temporaryDirectory()
        let (vocab, data) = try PretrainFixture.make(base)
        // Straight run.
        let straight = PretrainFixture.parameters(base + "/a", data: data, vocab: vocab)
        let ra = try Pretrain.run(straight)
        #expect(ra.steps == 12 && ra.stopReason == .completed)
        // Interrupted at step 7 (between checkpoints), then resumed.
        InterruptFlag.shared.reset()
        var split = PretrainFixture.parameters(base + "/b", data: data, vocab: vocab)
        split.trainer.steps = 12
        let stopper = StopAfter(7)
        _ = try Pretrain.run(split, stopRequested: stopper.check)
        split.trainer.resume = true
        split.model = .fromCheckpoint
        split.vocabPath = nil
        let rb = try Pretrain.run(split)
        #expect(rb.steps == 12)
        let a = try MetricsLog.read(base + "/a/metrics.jsonl"), b = try MetricsLog.read(base + "/b/metrics.jsonl")
        #expect(a.map(\.step) == Array(1...12) && b.map(\.step) == Array(1...12))
        #expect(a.map(\.trainLoss.bitPattern) == b.map(\.trainLoss.bitPattern))
        #expect(a.map { $0.valLoss?.bitPattern } == b.map { $0.valLoss?.bitPattern })
        #expect(try FileIO.readBytes(base + "/a/model.safetensors") == FileIO.readBytes(base + "/b/model.safetensors"))
        #expect(try FileIO.readBytes(base + "/a/optimizer.bin") == FileIO.readBytes(base + "/b/optimizer.bin"))
        // It learned something (byte-level: ln 257 ≈ 5.55 at the start).
        #expect(a.first!.trainLoss > 5 && a.last!.trainLoss < a.first!.trainLoss - 0.5)
        // The vocab was copied into the run.
        #expect(FileIO.exists(base + "/a/vocab.vocab"))

        // Eval over the val split: loss and bits per byte agree (1 byte per token except <|endoftext|>).
        var e = EvaluationParameters(checkpoint: base + "/a")
        e.dataDirectory = data
        e.quiet = true
        let r = try Evaluation.run(e)
        #expect(r.loss.isFinite && r.loss < 5)
        #expect(abs(r.bitsPerByte - r.loss / log(2) * Double(r.tokens) / Double(r.bytes)) < 1e-9)
        #expect(r.bytes < r.tokens && r.bytes > r.tokens * 9 / 10)
        // Sampling: deterministic by seed, the requested number of tokens.
        var g = GenerationParameters(checkpoint: base + "/a")
        g.prompt = "ROMEO:"
        g.maxTokens = 40
        g.sampling = SamplingParameters(temperature: 0.8, topK: 20, seed: 3)
        var out1: [UInt8] = [], out2: [UInt8] = []
        let s1 = try Generation.run(g) { out1 += $0 }
        _ = try Generation.run(g) { out2 += $0 }
        #expect(s1.generatedTokens == 40 && out1 == out2)
        #expect(out1.count >= 35)   // byte tokens; <|endoftext|> would add 13
        // Long generation slides the context window instead of failing.
        g.maxTokens = 80
        g.prompt = String(repeating: "a", count: 40)
        var long: [UInt8] = []
        _ = try Generation.run(g) { long += $0 }
        #expect(long.count >= 80)
    }

    @Test func accumulationMatchesOneBigBatch() throws {
        // The loader hands out the same windows in the same order whatever B is, so 2 micro-batches
        // of 2 windows see exactly the windows of one batch of 4: same losses and weights up to
        // float rounding (the gradients are summed in another order).
        let base = TestData.temporaryDirectory()
        let (vocab, data) = try PretrainFixture.make(base, documents: 12)
        var big = PretrainFixture.parameters(base + "/big", data: data, vocab: vocab, steps: 4)
        big.trainer.evalEvery = 0; big.trainer.evalBatches = 0
        var small = big
        small.trainer.outputDirectory = base + "/small"
        small.trainer.batchSize = 2; small.trainer.accumulation = 2
        _ = try Pretrain.run(big)
        _ = try Pretrain.run(small)
        let a = try MetricsLog.read(base + "/big/metrics.jsonl"), b = try MetricsLog.read(base + "/small/metrics.jsonl")
        #expect(a.count == 4 && b.count == 4)
        for (x, y) in zip(a, b) {
            #expect(abs(x.trainLoss - y.trainLoss) < 1e-4 * abs(x.trainLoss))
            #expect(abs(x.gradNorm! - y.gradNorm!) < 1e-3 * x.gradNorm!)
        }
    }

    @Test func refusesMismatchedVocabShapeAndMissingData() throws {
        let base = TestData.temporaryDirectory()
        let (vocab, data) = try PretrainFixture.make(base, documents: 12)
        // Missing data directory.
        var p = PretrainFixture.parameters(base + "/run", data: base + "/nope", vocab: vocab, steps: 3)
        #expect(throws: LMError.self) { try Pretrain.run(p) }
        // Another vocab than the shards'.
        var other = try PretrainFixture.byteVocabulary()
        other.specialTokens = [SpecialToken("<|eot|>", id: 256)]
        try VocabularyFile.write(other, to: base + "/other.vocab")
        p = PretrainFixture.parameters(base + "/run", data: data, vocab: base + "/other.vocab", steps: 3)
        do { _ = try Pretrain.run(p); Issue.record("a mismatched vocab was accepted") } catch let e as LMError {
            #expect(e.kind == .mismatch && e.description.contains("fingerprint"))
        }
        #expect(!FileIO.exists(base + "/run/state.json"))
        // A run, then --resume asking for another shape.
        p = PretrainFixture.parameters(base + "/run", data: data, vocab: vocab, steps: 3)
        _ = try Pretrain.run(p)
        let before = try FileIO.readBytes(base + "/run/model.safetensors")
        p.trainer.resume = true
        p.model = .custom(layers: 1, heads: 2, channels: 32, context: 32)
        do { _ = try Pretrain.run(p); Issue.record("another shape was accepted") } catch let e as LMError {
            #expect(e.kind == .mismatch && e.description.contains("another shape"))
        }
        #expect(try FileIO.readBytes(base + "/run/model.safetensors") == before)
        // Eval with a vocab the shards were not made with.
        var e = EvaluationParameters(checkpoint: base + "/run")
        e.dataDirectory = data
        e.vocabPath = base + "/other.vocab"
        e.quiet = true
        #expect(throws: LMError.self) { try Evaluation.run(e) }
    }
}

/// A stop request after a given step (thread-safe box for the `@Sendable` hook).
final class StopAfter: @unchecked Sendable {
    let step: Int
    init(_ step: Int) { self.step = step }
    func check(_ done: Int) -> Bool { done >= step }
}

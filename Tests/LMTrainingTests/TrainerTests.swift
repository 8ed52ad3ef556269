import Foundation
import Testing
import LMSupport
import LMTestSupport
@testable import LMTraining
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The train loop on the bigram model: learning, exact resume, files, divergence, bad options.
@Suite(.serialized) struct TrainerTests {
    static let vocab = 16
    static let corpus = ToyStream.corpus(vocab: vocab, count: 5000, seed: 3)

    func parameters(_ dir: String, steps: Int = 24) -> TrainerParameters {
        var p = TrainerParameters(outputDirectory: dir)
        p.batchSize = 4; p.context = 8; p.accumulation = 2; p.steps = steps
        p.learningRate = 5e-2; p.warmupSteps = 3; p.evalEvery = 4; p.evalBatches = 2
        p.checkpointEvery = 5; p.quiet = true; p.threads = 2; p.dataFingerprint = "toy"
        return p
    }

    func trainer(_ p: TrainerParameters, model: BigramModel? = nil, stopAt: Int? = nil) -> Trainer<BigramModel, ToyStream> {
        let m = model ?? BigramModel(vocab: Self.vocab, seed: 1)
        let t = Trainer(parameters: p, model: m,
                        train: ToyStream(tokens: Self.corpus, batch: p.batchSize, time: p.context, seed: 7),
                        validation: { ToyStream(tokens: Self.corpus, batch: p.batchSize, time: p.context, seed: 99) })
        t.stopRequested = { step in stopAt.map { step >= $0 } ?? false }
        return t
    }

    @Test func learnsAndWritesMetricsAndChart() throws {
        let dir = TestData.temporaryDirectory()
        let t = trainer(parameters(dir, steps: 40))
        let result = try t.run()
        #expect(result.steps == 40 && result.stopReason == .completed)
        let records = try MetricsLog.read(dir + "/metrics.jsonl")
        #expect(records.map(\.step) == Array(1...40))
        let vals = records.compactMap(\.valLoss)
        #expect(vals.count == 10)                                     // every 4 steps, the last included
        #expect(records.first!.trainLoss > 2.6)                       // ≈ ln 16 at the start
        #expect(vals.last! < records.first!.trainLoss - 1)            // it learned the bigram rule
        #expect(records.allSatisfy { $0.learningRate > 0 && $0.tokensPerSecond > 0 && $0.elapsedSeconds >= 0 })
        // Each line is plain JSON with the required keys.
        let text = try FileIO.readText(dir + "/metrics.jsonl")
        for line in text.split(separator: "\n") {
            let obj = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            for key in ["step", "train_loss", "lr", "tokens_per_s", "elapsed_s"] { #expect(obj[key] != nil) }
        }
        // The chart is well-formed XML with two curves and axis labels.
        let svg = try FileIO.readText(dir + "/loss.svg")
        let parser = XMLParser(data: Data(svg.utf8))
        #expect(parser.parse())
        #expect(svg.components(separatedBy: "<polyline").count == 3)
        #expect(svg.contains(">step<") && svg.contains("loss (nats/token)"))
        // Checkpoint files exist, and nothing temporary is left.
        let files = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(Set(files) == ["toy.bin", "optimizer.bin", "state.json", "metrics.jsonl", "loss.svg"])
    }

    @Test func resumeIsBitIdentical() throws {
        let straightDir = TestData.temporaryDirectory(), splitDir = TestData.temporaryDirectory()
        let straight = trainer(parameters(straightDir))
        _ = try straight.run()

        let first = trainer(parameters(splitDir), stopAt: 11)         // stops between checkpoints
        let r1 = try first.run()
        #expect(r1.stopReason == .interrupted && r1.steps == 11)
        var p = parameters(splitDir); p.resume = true
        let second = trainer(p)                                        // a fresh model: weights come from disk
        let r2 = try second.run()
        #expect(r2.steps == 24 && r2.stopReason == .completed)

        let a = try MetricsLog.read(straightDir + "/metrics.jsonl")
        let b = try MetricsLog.read(splitDir + "/metrics.jsonl")
        #expect(a.map(\.step) == b.map(\.step))
        #expect(a.map(\.trainLoss.bitPattern) == b.map(\.trainLoss.bitPattern))
        #expect(a.map { $0.valLoss?.bitPattern } == b.map { $0.valLoss?.bitPattern })
        #expect(a.map(\.learningRate) == b.map(\.learningRate))
        #expect(straight.model.params.map(\.bitPattern) == second.model.params.map(\.bitPattern))
        let oa = try FileIO.readBytes(straightDir + "/optimizer.bin"), ob = try FileIO.readBytes(splitDir + "/optimizer.bin")
        #expect(oa == ob)
    }

    @Test func resumeFromEarlierCheckpointDropsLaterMetrics() throws {
        // Simulate a crash: the run reached step 13 but the last checkpoint is step 10.
        let dir = TestData.temporaryDirectory()
        var p = parameters(dir); p.checkpointEvery = 10
        let t = trainer(p, stopAt: 13)
        _ = try t.run()   // writes a checkpoint at 10 and at 13 (stop)
        // Put back the step-10 checkpoint by re-running a copy that stops at 10.
        let dir10 = TestData.temporaryDirectory()
        var p10 = parameters(dir10); p10.checkpointEvery = 10
        _ = try trainer(p10, stopAt: 10).run()
        for f in ["toy.bin", "optimizer.bin", "state.json"] {
            try FileManager.default.removeItem(atPath: dir + "/" + f)
            try FileManager.default.copyItem(atPath: dir10 + "/" + f, toPath: dir + "/" + f)
        }
        p.resume = true
        _ = try trainer(p).run()
        let steps = try MetricsLog.read(dir + "/metrics.jsonl").map(\.step)
        #expect(steps == Array(1...24))                                  // 11…13 were not logged twice
    }

    @Test func nanLossStopsAndKeepsLastGoodCheckpoint() throws {
        let dir = TestData.temporaryDirectory()
        let model = BigramModel(vocab: Self.vocab, seed: 1)
        // 2 micro-batches per step plus 2 eval batches every 4 steps: 30 calls by the end of
        // step 12, so call 31 (the first of step 13) is NaN.
        model.poisonAfterForwardCalls = 30
        let t = trainer(parameters(dir), model: model)
        do {
            _ = try t.run()
            Issue.record("a NaN loss did not stop the run")
        } catch let e as LMError {
            #expect(e.kind == .numeric)
            #expect(e.description.contains("diverged at step 13"))
            #expect(e.description.contains("last good checkpoint"))
        }
        let state = try TrainState<Int, BigramModel.Config>.read(from: dir + "/state.json")
        #expect(state.step == 10)
        // That checkpoint is intact: the run resumes from it.
        var p = parameters(dir); p.resume = true
        let r = try trainer(p).run()
        #expect(r.steps == 24)
    }

    @Test func refusesBadOptionsAndMismatchedResume() throws {
        let dir = TestData.temporaryDirectory()
        var p = parameters(dir)
        for change in [{ (q: inout TrainerParameters) in q.batchSize = 0 }, { $0.learningRate = 3 },
                       { $0.accumulation = 0 }, { $0.steps = 0 }, { $0.gradClip = -1 },
                       { $0.steps = nil; $0.timeBudgetSeconds = nil }, { $0.timeBudgetSeconds = -1 }] {
            var q = p
            change(&q)
            #expect(throws: LMError.self) { try q.validate() }
        }
        // --resume with nothing to resume.
        p.resume = true
        #expect(throws: LMError.self) { try trainer(p).run() }
        #expect(!FileIO.exists(dir + "/metrics.jsonl"))
        // A fresh run into an existing run directory is refused (nothing overwritten).
        p.resume = false
        _ = try trainer(p, stopAt: 3).run()
        let before = try FileIO.readBytes(dir + "/state.json")
        #expect(throws: LMError.self) { try trainer(p).run() }
        // Resume with a model of another shape, or other settings: one clear error, files untouched.
        p.resume = true
        do {
            _ = try trainer(p, model: BigramModel(vocab: 12, seed: 1)).run()
            Issue.record("another shape was accepted")
        } catch let e as LMError {
            #expect(e.kind == .mismatch && e.description.contains("another shape"))
        }
        var q = p; q.learningRate = 1e-2
        #expect(throws: LMError.self) { try trainer(q).run() }
        #expect(try FileIO.readBytes(dir + "/state.json") == before)
    }

    @Test func timeBudgetFixesStepCount() throws {
        let dir = TestData.temporaryDirectory()
        var p = parameters(dir); p.steps = nil; p.timeBudgetSeconds = 0.5; p.evalEvery = 0
        let r = try trainer(p).run()
        #expect(r.steps >= 3)
        let state = try TrainState<Int, BigramModel.Config>.read(from: dir + "/state.json")
        #expect(state.totalSteps == r.steps || r.stopReason == .timeBudget)
        #expect(r.elapsedSeconds < 5)
        // However it ended (steps done or time used up), the last step was validated.
        let records = try MetricsLog.read(dir + "/metrics.jsonl")
        #expect(records.count == r.steps && records.last?.valLoss != nil)
    }
}

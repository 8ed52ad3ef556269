import Foundation
import Testing
@testable import LMModel
import LMSupport
import LMTestSupport
import LMTokenizer
@testable import LMTraining

@Suite struct PPOObjectiveTests {
    /// The worked example of `PPOObjective`'s doc comment, by hand.
    @Test func handWorkedRewardsAdvantagesAndReturns() {
        let r = PPOObjective.tokenRewards(score: 2, logProbs: [-1, -2], referenceLogProbs: [-1.5, -2], klCoefficient: 0.1)
        #expect(zip(r, [-0.05, 2] as [Float]).allSatisfy { abs($0 - $1) < 1e-6 })
        let (a, g) = PPOObjective.advantages(rewards: r, values: [0.5, 1], gamma: 1, lambda: 0.5)
        #expect(zip(a, [0.95, 1] as [Float]).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(zip(g, [1.45, 2] as [Float]).allSatisfy { abs($0 - $1) < 1e-6 })
        // λ = 0: one-step TD errors; γ discounts the next value.
        let (a0, _) = PPOObjective.advantages(rewards: [1, 1], values: [0, 2], gamma: 0.5, lambda: 0)
        #expect(a0 == [2, -1])
    }

    @Test func whiteningCentresAndScales() {
        let w = PPOObjective.whiten([1, 2, 3, 6])
        let mean = w.reduce(0, +) / 4, variance = w.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 4
        #expect(abs(mean) < 1e-6 && abs(variance - 1) < 1e-5)
        #expect(PPOObjective.whiten([3]) == [0])
    }

    /// Ratios inside and outside the clip range, for both signs of the advantage.
    @Test func surrogateClipsOnlyWhereTheMinimumIsTheClippedTerm() {
        let old: [Float] = [-1, -1, -1, -1, -1]
        let ratios: [Double] = [1, 1.5, 1.5, 0.5, 0.5]
        let adv: [Float] = [1, 1, -1, -1, 1]
        let new = zip(old, ratios).map { Float(Double($0) + log($1)) }
        let s = PPOObjective.surrogate(logProbs: new, oldLogProbs: old, advantages: adv, clip: 0.2)
        // ρ = 1.5, A > 0 and ρ = 0.5, A < 0 are clipped (constant term: no gradient); the others are not.
        let expected: [Float] = [1, 0, -1.5, 0, 0.5].map { $0 / 5 }
        #expect(zip(s.tokenWeights, expected).allSatisfy { abs($0 - $1) < 1e-5 })
        #expect(s.clippedFraction == 0.4)
        let loss = -(1 + 1.2 - 1.5 - 0.8 + 0.5) / 5.0
        #expect(abs(Double(s.loss) - loss) < 1e-5)
        #expect(s.approximateKL > 0)
    }

    /// ∂L/∂ℓ'_t = −w_t, by central differences (away from the clip boundaries).
    @Test func surrogateWeightsAreTheGradient() {
        var rng = SeededRNG(seed: 3)
        let n = 12
        let old = (0..<n).map { _ in -abs(rng.nextGaussian()) - 0.5 }
        let new = old.map { $0 + 0.3 * rng.nextGaussian() }
        let adv = (0..<n).map { _ in rng.nextGaussian() }
        let s = PPOObjective.surrogate(logProbs: new, oldLogProbs: old, advantages: adv, clip: 0.2)
        for t in 0..<n {
            let ratio = exp(Double(new[t] - old[t]))
            if abs(ratio - 1.2) < 0.02 || abs(ratio - 0.8) < 0.02 { continue }
            var p = new, m = new
            p[t] += 1e-3; m[t] -= 1e-3
            let lp = PPOObjective.surrogate(logProbs: p, oldLogProbs: old, advantages: adv, clip: 0.2).loss
            let lm = PPOObjective.surrogate(logProbs: m, oldLogProbs: old, advantages: adv, clip: 0.2).loss
            let fd = (lp - lm) / 2e-3
            #expect(abs(fd + s.tokenWeights[t]) < 2e-3, "token \(t): −∂L/∂ℓ' = \(-fd), weight \(s.tokenWeights[t])")
        }
    }

    /// Value clipping by hand: the clipped term wins only where V' moved past V ± ε_v towards the
    /// return (no gradient there); and the gradient against central differences.
    @Test func valueLossClipsMovesPastTheRange() {
        let v: [Float] = [1, 0, 2], old: [Float] = [0.5, 0.5, 1], g: [Float] = [0, 1, 2.5]
        let clipped = PPOObjective.valueLoss(values: v, oldValues: old, returns: g, clip: 0.2)
        #expect(abs(clipped.loss - (0.5 + 0.5 + 0.845) / 3) < 1e-6)
        #expect(zip(clipped.gradient, [1.0 / 3, -1.0 / 3, 0]).allSatisfy { abs($0 - Float($1)) < 1e-6 })
        let plain = PPOObjective.valueLoss(values: v, oldValues: old, returns: g, clip: 0)
        #expect(abs(plain.loss - 0.375) < 1e-6)
        #expect(zip(plain.gradient, [1.0 / 3, -1.0 / 3, -0.5 / 3]).allSatisfy { abs($0 - Float($1)) < 1e-6 })
        var rng = SeededRNG(seed: 3)
        let n = 40
        let values = (0..<n).map { _ in rng.nextGaussian() }, olds = (0..<n).map { _ in rng.nextGaussian() }
        let returns = (0..<n).map { _ in rng.nextGaussian() }
        let base = PPOObjective.valueLoss(values: values, oldValues: olds, returns: returns, clip: 0.3)
        for t in 0..<n {
            var up = values, down = values
            up[t] += 1e-3; down[t] -= 1e-3
            let fd = (PPOObjective.valueLoss(values: up, oldValues: olds, returns: returns, clip: 0.3).loss
                      - PPOObjective.valueLoss(values: down, oldValues: olds, returns: returns, clip: 0.3).loss) / 2e-3
            #expect(abs(fd - base.gradient[t]) < 2e-4, "token \(t): finite difference \(fd), gradient \(base.gradient[t])")
        }
    }

    /// Packing: row b's targets are its response tokens, from the last prompt position on.
    @Test func batchPacksResponsesAsTargets() {
        let r = [PPORollout(promptIDs: [1, 2, 3], responseIDs: [7, 8], ended: true),
                 PPORollout(promptIDs: [4], responseIDs: [9], ended: false)]
        let b = PPOBatch(r, padID: 0)
        #expect(b.batch == 2 && b.time == 4)
        #expect(b.inputs == [1, 2, 3, 7, 4, 0, 0, 0])
        #expect(b.targets == [-1, -1, 7, 8, 9, -1, -1, -1])
        #expect(b.actionStart == [2, 0] && b.actionCount == [2, 1])
        let per: [Float] = [0, 1, 2, 3, 4, 5, 6, 7]
        #expect(b.actions(of: per, row: 0) == [2, 3] && b.actions(of: per, row: 1) == [4])
        #expect(b.positions(from: [[20, 30], [40]]) == [0, 0, 20, 30, 40, 0, 0, 0])
        // Minibatches: chosen rows in the chosen order, T cut to their longest sequence.
        let one = b.selecting(rows: [1])
        #expect(one.batch == 1 && one.time == 1 && one.inputs == [4] && one.targets == [9])
        #expect(one.actionStart == [0] && one.actionCount == [1])
        let swapped = b.selecting(rows: [1, 0])
        #expect(swapped.time == 4 && swapped.inputs == [4, 0, 0, 0, 1, 2, 3, 7])
        #expect(swapped.targets == [9, -1, -1, -1, -1, -1, 7, 8] && swapped.actionStart == [0, 2])
    }

    /// The per-token targets of chosen rows follow the rows.
    @Test func targetsOfAMinibatchFollowItsRows() {
        let t = PPOTrain.Targets(advantages: [1, 2, 3, 4, 5, 6], oldLogProbs: [-1, -2, -3, -4, -5, -6],
                                 returns: [10, 20, 30, 40, 50, 60], oldValues: [7, 8, 9, 10, 11, 12], kl: [0.1, 0.2, 0.3],
                                 rowLengths: [2, 1, 3])
        let s = t.selecting(rows: [2, 0])
        #expect(s.advantages == [4, 5, 6, 1, 2] && s.oldLogProbs == [-4, -5, -6, -1, -2])
        #expect(s.returns == [40, 50, 60, 10, 20] && s.kl == [0.3, 0.1] && s.rowLengths == [3, 2])
        #expect(s.oldValues == [10, 11, 12, 7, 8])
    }
}

@Suite struct PPOPromptTests {
    @Test func promptsEndAtTheLastUserMessage() throws {
        let dir = TestData.temporaryDirectory("ppo-prompts")
        let path = dir + "/p.jsonl"
        try AtomicFileWriter.write("""
            {"messages": [{"role": "system", "content": "Be kind"}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]}
            {"instruction": "Add", "input": "1+1", "output": "2"}
            {"messages": [{"role": "user", "content": "Q"}]}

            """, to: path)
        let p = try PPOPrompts.load(path)
        #expect(p == [[ChatMessage(.system, "Be kind"), ChatMessage(.user, "Hi")], [ChatMessage(.user, "Add\n\n1+1")], [ChatMessage(.user, "Q")]])
        #expect(PPOReward.dialogueText(p[0], response: "Hello") == "\n\nSystem: Be kind\n\nHuman: Hi\n\nAssistant: Hello")
        try AtomicFileWriter.write(#"{"messages": [{"role": "system", "content": "x"}]}"# + "\n", to: path)
        #expect { try PPOPrompts.load(path) } throws: { "\($0)".contains("line 1: no user message") && "\($0)".contains(path) }
    }
}

/// PPO end to end on a tiny random chat model with a programmatic reward.
@Suite struct PPOTrainTests {
    static let cfg = GPTConfig(layers: 2, heads: 2, channels: 32, context: 32, vocabSize: 262)

    /// dir/policy (a random chat model with the byte chat vocab) and dir/prompts.jsonl.
    static func fixture(_ tag: String) throws -> (dir: String, policy: String, prompts: String, heldOut: String) {
        let dir = TestData.temporaryDirectory(tag)
        let policy = dir + "/policy"
        try GPT(config: cfg, seed: 3).save(to: policy)
        try VocabularyFile.write(try ChatFixture.chatVocabulary(), to: policy + "/vocab.vocab")
        let lines = (0..<12).map { #"{"messages": [{"role": "user", "content": "say \#($0)"}]}"# }
        try AtomicFileWriter.write(lines.joined(separator: "\n") + "\n", to: dir + "/prompts.jsonl")
        let heldOut = (0..<8).map { #"{"messages": [{"role": "user", "content": "tell \#($0)"}]}"# }
        try AtomicFileWriter.write(heldOut.joined(separator: "\n") + "\n", to: dir + "/heldout.jsonl")
        return (dir, policy, dir + "/prompts.jsonl", dir + "/heldout.jsonl")
    }

    /// The fraction of a response's characters that are ASCII: ~half for the uniform start. With 32
    /// rollouts × 16 iterations every seed of 1…8 went from 0.55–0.59 (first 3 iterations) to
    /// 0.82–0.91 (last 3); with 16 rollouts one seed in four barely moved (0.62 → 0.68).
    static func asciiReward(_ prompts: [[ChatMessage]], _ responses: [String]) -> [Float] {
        responses.map { r in
            let s = r.unicodeScalars
            return s.isEmpty ? 0 : Float(s.filter(\.isASCII).count) / Float(s.count)
        }
    }

    static func parameters(_ f: (dir: String, policy: String, prompts: String, heldOut: String), out: String, iterations: Int) -> PPOParameters {
        var p = PPOParameters(policyCheckpoint: f.policy, promptsPath: f.prompts, outputDirectory: f.dir + "/" + out)
        p.iterations = iterations; p.rollouts = 32; p.maxNewTokens = 8; p.epochs = 4
        p.learningRate = 3e-3; p.valueLearningRate = 3e-3; p.klCoefficient = 0.01
        p.threads = 2; p.quiet = true; p.seed = 7
        return p
    }

    @Test func rewardRisesAndRunsAreDeterministic() throws {
        let f = try Self.fixture("ppo-train")
        var params = Self.parameters(f, out: "a", iterations: 16)
        params.evalPromptsPath = f.heldOut
        let result = try PPOTrain.run(params, reward: Self.asciiReward)
        let h = result.iterations
        #expect(h.count == 16 && h.allSatisfy { $0.meanKL.isFinite && $0.valueLoss.isFinite })
        let first = h.prefix(3).map(\.meanScore).reduce(0, +) / 3, last = h.suffix(3).map(\.meanScore).reduce(0, +) / 3
        #expect(last > first + 0.15, "mean score \(first) over the first 3 iterations, \(last) over the last 3")
        #expect(h.last!.meanKL > 0.01, "the policy moved away from the start")
        // Prompts it never trained on: the tuned policy's answers score higher.
        let e = try #require(result.evaluation)
        #expect(e.prompts == 8 && e.tunedMeanScore > e.startMeanScore + 0.1 && e.tunedWinRate > 0.5, "\(e)")
        // The run directory: a chat model lmkit can load, the value model, one metrics line per iteration.
        let tuned = try GPT.load(from: f.dir + "/a")
        #expect(tuned.config == Self.cfg && !tuned.config.scoreHead)
        #expect(try GPT.load(from: f.dir + "/a/value").config.scoreHead)
        let lines = try String(contentsOfFile: f.dir + "/a/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 16 && lines[0].contains("\"mean_score\""))
        // Same seed, same run (elapsed time aside).
        let again = try PPOTrain.run(Self.parameters(f, out: "b", iterations: 3), reward: Self.asciiReward).iterations
        for (x, y) in zip(h.prefix(3), again) {
            var y = y
            y.elapsedSeconds = x.elapsedSeconds
            #expect(x == y)
        }
    }

    /// Minibatches: four policy and value steps per epoch on shuffled quarters of the rollouts;
    /// the reward still rises and a run repeats itself.
    @Test func minibatchRunsLearnAndRepeat() throws {
        let f = try Self.fixture("ppo-minibatch")
        var params = Self.parameters(f, out: "a", iterations: 12)
        params.minibatches = 4; params.epochs = 2; params.learningRate = 3e-3
        let h = try PPOTrain.run(params, reward: Self.asciiReward).iterations
        let first = h.prefix(3).map(\.meanScore).reduce(0, +) / 3, last = h.suffix(3).map(\.meanScore).reduce(0, +) / 3
        #expect(last > first + 0.15, "mean score \(first) over the first 3 iterations, \(last) over the last 3")
        params.outputDirectory = f.dir + "/b"; params.iterations = 2
        let again = try PPOTrain.run(params, reward: Self.asciiReward).iterations
        for (x, y) in zip(h.prefix(2), again) {
            var y = y
            y.elapsedSeconds = x.elapsedSeconds
            #expect(x == y)
        }
        // The same rollouts (same seed) in one full batch train differently.
        params.outputDirectory = f.dir + "/c"; params.iterations = 1; params.minibatches = 1
        let full = try PPOTrain.run(params, reward: Self.asciiReward).iterations
        #expect(full[0].meanScore == h[0].meanScore && full[0].policyLoss != h[0].policyLoss)
    }

    /// Stopped after iteration 2 (as Ctrl-C stops it) and resumed, a run gives the same iterations,
    /// evaluation and bytes of both models and both optimizers as one that ran straight through.
    @Test func resumeContinuesExactly() throws {
        let f = try Self.fixture("ppo-resume")
        var straight = Self.parameters(f, out: "a", iterations: 4)
        straight.minibatches = 2; straight.epochs = 2; straight.evalPromptsPath = f.heldOut
        straight.rewardCheckpoint = f.policy   // stands for a reward model's directory: its weights are hashed
        let a = try PPOTrain.run(straight, reward: Self.asciiReward)
        var split = straight
        split.outputDirectory = f.dir + "/b"
        split.stopRequested = { $0 == 2 }
        let first = try PPOTrain.run(split, reward: Self.asciiReward)
        #expect(first.interrupted && first.iterations.count == 2 && first.evaluation == nil)
        split.stopRequested = { _ in false }
        // Without --resume the directory is refused; with other settings the difference is named.
        #expect { try PPOTrain.run(split, reward: Self.asciiReward) } throws: { "\($0)".contains("pass --resume") }
        split.resume = true
        var other = split
        other.learningRate = 1e-3
        #expect { try PPOTrain.run(other, reward: Self.asciiReward) } throws: { "\($0)".contains("--lr 0.003 (now 0.001)") }
        other = split
        other.rewardCheckpoint = f.dir + "/a"   // other weights
        #expect { try PPOTrain.run(other, reward: Self.asciiReward) } throws: { "\($0)".contains("scored by another reward model") }
        let second = try PPOTrain.run(split, reward: Self.asciiReward)
        #expect(!second.interrupted && second.iterations.count == 4)
        for (x, y) in zip(a.iterations, second.iterations) {
            var y = y
            y.elapsedSeconds = x.elapsedSeconds
            #expect(x == y)
        }
        #expect(second.evaluation != nil && second.evaluation == a.evaluation)
        for name in ["model.safetensors", "optimizer.bin", "value/model.safetensors", "value/optimizer.bin"] {
            #expect(try FileIO.readBytes(f.dir + "/a/" + name) == FileIO.readBytes(f.dir + "/b/" + name), "\(name)")
        }
        // A finished run is not resumed; a damaged checkpoint is refused, naming the file.
        #expect { try PPOTrain.run(split, reward: Self.asciiReward) } throws: { "\($0)".contains("already did its 4 iterations") }
        split.iterations = 5
        try AtomicFileWriter.write("damaged", to: f.dir + "/b/value/optimizer.bin")
        #expect { try PPOTrain.run(split, reward: Self.asciiReward) } throws: {
            "\($0)".contains("value/optimizer.bin") && "\($0)".contains("does not match ppo_state.json")
        }
    }

    /// The entropy bonus widens a peaked policy's next-token distributions, which the same run
    /// without it does not; every iteration reports the entropy (≤ log V).
    @Test func entropyBonusWidensAPeakedPolicy() throws {
        let f = try Self.fixture("ppo-entropy")
        // All weights × 4: logits ~16× larger, so the start is far from uniform.
        let peaked = f.dir + "/peaked"
        try GPT(config: Self.cfg, parameters: GPT(config: Self.cfg, seed: 3).parameters.map { $0 * 4 }).save(to: peaked)
        try VocabularyFile.write(try ChatFixture.chatVocabulary(), to: peaked + "/vocab.vocab")
        var p = Self.parameters(f, out: "a", iterations: 6)
        p.policyCheckpoint = peaked
        let without = try PPOTrain.run(p, reward: Self.asciiReward).iterations
        p.outputDirectory = f.dir + "/b"; p.entropyCoefficient = 0.2
        let with = try PPOTrain.run(p, reward: Self.asciiReward).iterations
        let logV = Float(log(Double(Self.cfg.vocabSize)))
        #expect(with[0].meanEntropy == without[0].meanEntropy, "the same first rollouts")
        #expect(without[0].meanEntropy < 0.8 * logV && (without + with).allSatisfy { $0.meanEntropy >= 0 && $0.meanEntropy <= logV + 1e-3 })
        #expect(with.last!.meanEntropy > with[0].meanEntropy + 0.1 && with.last!.meanEntropy > without.last!.meanEntropy + 0.1,
                "entropy \(with[0].meanEntropy) → \(with.last!.meanEntropy) with the bonus, \(without[0].meanEntropy) → \(without.last!.meanEntropy) without")
        p.outputDirectory = f.dir + "/c"; p.entropyCoefficient = -1
        #expect { try PPOTrain.run(p, reward: Self.asciiReward) } throws: { "\($0)".contains("--entropy-coef must be 0 (off) or positive") }
    }

    @Test func badInputIsOneClearError() throws {
        let f = try Self.fixture("ppo-bad")
        var p = Self.parameters(f, out: "x", iterations: 1)
        p.maxNewTokens = 32
        #expect { try PPOTrain.run(p, reward: Self.asciiReward) } throws: { "\($0)".contains("--max-new-tokens must be in 1..<32") }
        p = Self.parameters(f, out: "m", iterations: 1)
        p.minibatches = 33
        #expect { try PPOTrain.run(p, reward: Self.asciiReward) } throws: { "\($0)".contains("--minibatches must be in 1...32") }
        p.minibatches = 1; p.valueClip = -1
        #expect { try PPOTrain.run(p, reward: Self.asciiReward) } throws: { "\($0)".contains("--value-clip must be 0 (off) or positive") }
        // A policy without the chat tokens.
        let plain = f.dir + "/plain"
        try GPT(config: GPTConfig(layers: 1, heads: 1, channels: 16, context: 16, vocabSize: 257), seed: 1).save(to: plain)
        try VocabularyFile.write(try ChatFixture.byteVocabulary(), to: plain + "/vocab.vocab")
        p = Self.parameters(f, out: "y", iterations: 1)
        p.policyCheckpoint = plain
        #expect(throws: LMError.self) { try PPOTrain.run(p, reward: Self.asciiReward) }
        #expect(!FileManager.default.fileExists(atPath: f.dir + "/y/model.safetensors"))
        // A reward function that returns the wrong number of scores.
        p = Self.parameters(f, out: "z", iterations: 1)
        #expect { try PPOTrain.run(p, reward: { _, _ in [1] }).iterations } throws: { "\($0)".contains("returned 1 scores for 32 responses") }
        #expect(!FileManager.default.fileExists(atPath: f.dir + "/z/model.safetensors"))
        #expect(!FileManager.default.fileExists(atPath: f.dir + "/z/vocab.vocab"))
    }
}

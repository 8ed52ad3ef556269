import Foundation
import LMKernels
import LMModel
import LMSupport
import LMTokenizer

/// What `lmkit ppo` needs.
public struct PPOParameters: Sendable {
    /// The policy to improve: a chat model (a run of `lmkit finetune`, with the chat tokens).
    public var policyCheckpoint: String
    /// Prompts: a chat-format JSONL/JSON file (`SFTData`'s formats); each record's messages up
    /// to its last user message are one prompt.
    public var promptsPath: String
    /// Run directory for the tuned policy, metrics.jsonl and the value model.
    public var outputDirectory: String
    /// Held-out prompts (same formats) answered by the starting and the tuned policy, both
    /// scored by the reward function (nil = no evaluation).
    public var evalPromptsPath: String?
    /// PPO iterations (one batch of rollouts each).
    public var iterations = 20
    /// Rollouts (prompts) per iteration.
    public var rollouts = 16
    /// Response tokens at most (the rest of the context holds the prompt).
    public var maxNewTokens = 48
    /// Optimisation passes over each batch of rollouts.
    public var epochs = 4
    /// AdamW learning rates of the policy and the value model (no weight decay).
    public var learningRate: Float = 1e-5
    public var valueLearningRate: Float = 1e-4
    /// ε of the clipped surrogate.
    public var clip: Float = 0.2
    /// β of the per-token KL penalty to the starting policy.
    public var klCoefficient: Float = 0.05
    /// γ and λ of the advantage estimate.
    public var gamma: Float = 1
    public var lambda: Float = 0.95
    /// Global gradient-norm clip of both models.
    public var maxGradNorm = 1.0
    /// Seed of the prompt order and the sampling.
    public var seed: UInt64 = 1
    public var threads = Threads.available
    /// No progress lines on stderr.
    public var quiet = false

    public init(policyCheckpoint: String, promptsPath: String, outputDirectory: String) {
        self.policyCheckpoint = policyCheckpoint
        self.promptsPath = promptsPath
        self.outputDirectory = outputDirectory
    }

    /// Throws `LMError.badInput` naming the option that is out of range for a `context`-token model.
    func validate(context: Int) throws {
        func bad(_ what: String, _ fix: String) -> LMError { LMError.badInput(what, fix: fix) }
        if iterations < 1 { throw bad("--iterations must be at least 1 (got \(iterations))", "pass --iterations 20, say") }
        if rollouts < 1 { throw bad("--rollouts must be at least 1 (got \(rollouts))", "pass --rollouts 16, say") }
        if epochs < 1 { throw bad("--epochs must be at least 1 (got \(epochs))", "pass --epochs 4, say") }
        if maxNewTokens < 1 || maxNewTokens >= context {
            throw bad("--max-new-tokens must be in 1..<\(context), the model's context (got \(maxNewTokens))",
                      "pass a smaller --max-new-tokens; the rest of the context holds the prompt")
        }
        if !(learningRate > 0) || !(valueLearningRate > 0) {
            throw bad("--lr and --value-lr must be positive (got \(learningRate), \(valueLearningRate))", "pass --lr 1e-5 --value-lr 1e-4, say")
        }
        if !(clip > 0 && clip < 1) { throw bad("--clip must be in (0, 1) (got \(clip))", "0.2 is the usual value") }
        if !(klCoefficient >= 0) { throw bad("--kl-coef must be 0 or more (got \(klCoefficient))", "0.05 is a usual value") }
        if !(gamma > 0 && gamma <= 1) || !(lambda >= 0 && lambda <= 1) {
            throw bad("--gamma must be in (0, 1] and --lambda in [0, 1] (got \(gamma), \(lambda))", "the usual values are 1 and 0.95")
        }
        if !(maxGradNorm > 0) { throw bad("the gradient-norm clip must be positive (got \(maxGradNorm))", "use 1") }
    }
}

/// What one PPO iteration measured (one line of RUN/metrics.jsonl).
public struct PPOIterationStats: Sendable, Equatable, Codable {
    public var iteration: Int
    /// Mean reward-model score of the iteration's responses (before the KL penalty).
    public var meanScore: Float
    /// Mean over responses of Σ_t (ℓ_t − ℓʳᵉᶠ_t): the sampled KL to the starting policy, nats.
    public var meanKL: Float
    /// Surrogate and value losses of the last epoch.
    public var policyLoss: Float
    public var valueLoss: Float
    public var clippedFraction: Float
    /// Mean response length in tokens, and the fraction that ended with `<|end|>`.
    public var meanResponseTokens: Float
    public var endedFraction: Float
    public var elapsedSeconds: Double

    enum CodingKeys: String, CodingKey {
        case iteration, meanScore = "mean_score", meanKL = "mean_kl", policyLoss = "policy_loss", valueLoss = "value_loss"
        case clippedFraction = "clipped_fraction", meanResponseTokens = "mean_response_tokens"
        case endedFraction = "ended_fraction", elapsedSeconds = "elapsed_s"
    }
}

/// The starting and the tuned policy on held-out prompts: one sampled response each (temperature
/// 1, the same seed for both), scored by the reward function.
public struct PPOEvaluation: Sendable, Equatable, Codable {
    public var prompts: Int
    public var startMeanScore: Float
    public var tunedMeanScore: Float
    /// Fraction of prompts where the tuned policy's response scored higher (ties count half).
    public var tunedWinRate: Float

    enum CodingKeys: String, CodingKey {
        case prompts, startMeanScore = "start_mean_score", tunedMeanScore = "tuned_mean_score", tunedWinRate = "tuned_win_rate"
    }
}

/// Everything a PPO run measured.
public struct PPOResult: Sendable, Equatable, Codable {
    public var iterations: [PPOIterationStats]
    public var evaluation: PPOEvaluation?
}

/// Scores responses: for each prompt (its messages) and response text, a scalar reward
/// (higher = better). `lmkit ppo` uses a reward model (`PPOReward.model`); tests use functions.
public typealias PPORewardFunction = (_ prompts: [[ChatMessage]], _ responses: [String]) throws -> [Float]

/// `lmkit ppo`: reinforcement learning from a reward function with PPO (see `PPOObjective`).
///
/// Models: the policy (loaded from `policyCheckpoint`, trained); a frozen copy of it, the
/// reference for the KL penalty; a value model that starts as the policy's trunk with a zero score
/// head (`GPT.addingScoreHead`) and reads a value at every position (`GPT.forwardValues`).
/// Each iteration: take the next `rollouts` prompts (a seeded shuffle, reshuffled every pass);
/// sample one response each (temperature 1, all rollouts at once with the batched KV cache,
/// `BatchInferenceSession`); score them; compute ℓ (policy), ℓʳᵉᶠ,
/// values, per-token rewards, GAE advantages (whitened over the batch) and returns; then
/// `epochs` full-batch AdamW steps of the clipped surrogate on the policy and of the value loss on
/// the value model, each with the global gradient norm clipped.
/// Run directory: model.safetensors + config.json + vocab.vocab (the tuned policy, a chat model
/// for `lmkit chat`, written atomically after every iteration), value/ (the value model),
/// metrics.jsonl (one `PPOIterationStats` per iteration), score.svg (mean score and score − β·KL).
public enum PPOTrain {
    public static func run(_ params: PPOParameters, reward: PPORewardFunction) throws -> PPOResult {
        let started = Date()
        let run = params.outputDirectory
        if FileIO.exists(run + "/" + GPT.weightsFileName) {
            throw LMError.badInput(file: run, "already holds a model", fix: "choose another --out (PPO runs do not resume)")
        }
        let (policy, tokenizer) = try CheckpointLoader.load(params.policyCheckpoint, vocabPath: nil)
        if policy.config.scoreHead {
            throw LMError.mismatch(file: params.policyCheckpoint + "/config.json", "this checkpoint is a reward model, not a language model",
                                   fix: "pass the chat model from `lmkit finetune` as --policy")
        }
        let template: ChatTemplate
        do { template = try ChatTemplate(tokenizer: tokenizer, file: params.policyCheckpoint + "/vocab.vocab") } catch {
            throw LMError.badInput(file: params.policyCheckpoint, "is not a chat model (its vocab has no chat tokens)",
                                   fix: "pass a model fine-tuned with `lmkit finetune` as --policy")
        }
        try params.validate(context: policy.config.context)
        let prompts = try PPOPrompts.load(params.promptsPath)
        let evalPrompts = try params.evalPromptsPath.map { try PPOPrompts.load($0) }
        BLAS.setThreads(params.threads)
        policy.threads = params.threads
        let reference = GPT(config: policy.config, parameters: policy.parameters)
        reference.threads = params.threads
        let value = policy.addingScoreHead()
        value.threads = params.threads
        try RunDirectory.create(run)
        try VocabularyFile.write(tokenizer.vocabulary, to: run + "/" + Pretrain.vocabFileName)

        var policyOptimizer = OptimizerState(count: policy.parameterCount)
        var valueOptimizer = OptimizerState(count: value.parameterCount)
        let policyHyper = AdamWHyperparameters(learningRate: params.learningRate, weightDecay: 0)
        let valueHyper = AdamWHyperparameters(learningRate: params.valueLearningRate, weightDecay: 0)
        var order = PromptOrder(count: prompts.count, seed: SeededRNG.derive(params.seed, 1))
        var sampler = TokenSampler(SamplingParameters(temperature: 1, seed: SeededRNG.derive(params.seed, 2)))
        let session = BatchInferenceSession(policy, capacity: params.rollouts)
        var history: [PPOIterationStats] = []
        // The held-out responses of the starting policy, drawn before it changes.
        let evalSeed = SeededRNG.derive(params.seed, 3)
        let startScores = try evalPrompts.map {
            try heldOutScores(policy, template: template, tokenizer: tokenizer, prompts: $0, params: params, seed: evalSeed, reward: reward)
        }
        if !params.quiet {
            printError("ppo: \(prompts.count) prompts, \(params.rollouts) rollouts × \(params.iterations) iterations, " +
                       "≤ \(params.maxNewTokens) new tokens, \(params.epochs) epochs, β = \(params.klCoefficient), ε = \(params.clip)")
        }

        for iteration in 1...params.iterations {
            // 1. Rollouts and their scores.
            let picked = (0..<params.rollouts).map { _ in prompts[order.next()] }
            let (rollouts, scores) = try sampleAndScore(session, picked, template: template, tokenizer: tokenizer,
                                                        params: params, sampler: &sampler, reward: reward)

            // 2. Log-probabilities, values, advantages.
            let batch = PPOBatch(rollouts, padID: template.endID)
            let (b, t) = (batch.batch, batch.time)
            policy.forward(inputs: batch.inputs, targets: batch.targets, batch: b, time: t)
            let oldLogProbs = policy.lastTargetLogProbs
            reference.forward(inputs: batch.inputs, targets: batch.targets, batch: b, time: t)
            let refLogProbs = reference.lastTargetLogProbs
            let values = value.forwardValues(inputs: batch.inputs, batch: b, time: t)
            var advantages: [[Float]] = [], returns: [[Float]] = [], kl: [Float] = []
            for row in 0..<b {
                let l = batch.actions(of: oldLogProbs, row: row), lr = batch.actions(of: refLogProbs, row: row)
                let r = PPOObjective.tokenRewards(score: scores[row], logProbs: l, referenceLogProbs: lr,
                                                  klCoefficient: params.klCoefficient)
                let (a, g) = PPOObjective.advantages(rewards: r, values: batch.actions(of: values, row: row),
                                                     gamma: params.gamma, lambda: params.lambda)
                advantages.append(a); returns.append(g)
                kl.append(zip(l, lr).reduce(0) { $0 + $1.0 - $1.1 })
            }
            let flatAdvantages = PPOObjective.whiten(advantages.flatMap { $0 })
            let flatOld = (0..<b).flatMap { batch.actions(of: oldLogProbs, row: $0) }
            let flatReturns = returns.flatMap { $0 }
            let tokens = flatAdvantages.count

            // 3. Policy and value updates.
            var last = PPOObjective.Surrogate(loss: 0, tokenWeights: [], clippedFraction: 0, approximateKL: 0)
            var valueLoss: Float = 0
            for _ in 0..<params.epochs {
                policy.zeroGradients()
                policy.forward(inputs: batch.inputs, targets: batch.targets, batch: b, time: t)
                let new = (0..<b).flatMap { batch.actions(of: policy.lastTargetLogProbs, row: $0) }
                last = PPOObjective.surrogate(logProbs: new, oldLogProbs: flatOld, advantages: flatAdvantages, clip: params.clip)
                policy.backward(tokenWeights: batch.positions(from: split(last.tokenWeights, like: advantages)))
                step(policy, &policyOptimizer, policyHyper, params)

                value.zeroGradients()
                let v = value.forwardValues(inputs: batch.inputs, batch: b, time: t)
                let flatV = (0..<b).flatMap { batch.actions(of: v, row: $0) }
                var loss = 0.0
                var dv = [Float](repeating: 0, count: tokens)
                for k in 0..<tokens {
                    let e = flatV[k] - flatReturns[k]
                    loss += 0.5 * Double(e * e)
                    dv[k] = e / Float(tokens)
                }
                valueLoss = Float(loss / Double(tokens))
                value.backwardValues(batch.positions(from: split(dv, like: advantages)))
                step(value, &valueOptimizer, valueHyper, params)
            }
            guard last.loss.isFinite, valueLoss.isFinite else {
                throw LMError.badInput("iteration \(iteration): the loss is not finite (policy \(last.loss), value \(valueLoss))",
                                       fix: "lower --lr or --value-lr; \(run) keeps the policy of the previous iteration")
            }

            // 4. Record and save.
            let stats = PPOIterationStats(
                iteration: iteration, meanScore: scores.reduce(0, +) / Float(b), meanKL: kl.reduce(0, +) / Float(b),
                policyLoss: last.loss, valueLoss: valueLoss, clippedFraction: last.clippedFraction,
                meanResponseTokens: Float(tokens) / Float(b),
                endedFraction: Float(rollouts.filter(\.ended).count) / Float(b),
                elapsedSeconds: Date().timeIntervalSince(started))
            history.append(stats)
            try policy.save(to: run)
            try value.save(to: run + "/value")
            try writeMetrics(history, to: run + "/metrics.jsonl")
            try writeChart(history, klCoefficient: params.klCoefficient, to: run + "/score.svg")
            if !params.quiet {
                printError(String(format: "ppo %d/%d  score %.3f  kl %.3f  policy %.4f  value %.4f  clipped %.2f  tokens %.1f  ended %.0f%%  %.0fs",
                                  iteration, params.iterations, stats.meanScore, stats.meanKL, stats.policyLoss, stats.valueLoss,
                                  stats.clippedFraction, stats.meanResponseTokens, 100 * stats.endedFraction, stats.elapsedSeconds))
            }
        }
        var evaluation: PPOEvaluation?
        if let evalPrompts, let startScores {
            let tuned = try heldOutScores(policy, template: template, tokenizer: tokenizer, prompts: evalPrompts, params: params,
                                          seed: evalSeed, reward: reward)
            let n = Float(tuned.count)
            let wins = zip(tuned, startScores).reduce(Float(0)) { $0 + ($1.0 > $1.1 ? 1 : $1.0 == $1.1 ? 0.5 : 0) }
            evaluation = PPOEvaluation(prompts: tuned.count, startMeanScore: startScores.reduce(0, +) / n,
                                       tunedMeanScore: tuned.reduce(0, +) / n, tunedWinRate: wins / n)
            if !params.quiet, let e = evaluation {
                printError(String(format: "ppo: %d held-out prompts: mean score %.3f (start) -> %.3f (tuned); tuned better on %.1f%%",
                                  e.prompts, e.startMeanScore, e.tunedMeanScore, 100 * e.tunedWinRate))
            }
        }
        return PPOResult(iterations: history, evaluation: evaluation)
    }

    /// One sampled response per prompt from `model` (a sampler seeded with `seed`), scored.
    static func heldOutScores(_ model: GPT, template: ChatTemplate, tokenizer: BPETokenizer, prompts: [[ChatMessage]],
                              params: PPOParameters, seed: UInt64, reward: PPORewardFunction) throws -> [Float] {
        var sampler = TokenSampler(SamplingParameters(temperature: 1, seed: seed))
        let session = BatchInferenceSession(model, capacity: min(prompts.count, params.rollouts))
        return try sampleAndScore(session, prompts, template: template, tokenizer: tokenizer, params: params,
                                  sampler: &sampler, reward: reward).scores
    }

    /// One response per prompt (`PPOSampler.respond`) and the reward function's scores of them.
    /// Throws `LMError.badInput` if the function returns the wrong number of scores or a non-finite one.
    static func sampleAndScore(_ session: BatchInferenceSession, _ prompts: [[ChatMessage]], template: ChatTemplate,
                               tokenizer: BPETokenizer, params: PPOParameters, sampler: inout TokenSampler,
                               reward: PPORewardFunction) throws -> (rollouts: [PPORollout], scores: [Float]) {
        let rollouts = PPOSampler.respond(session, prompts: prompts.map(template.promptIDs), maxTokens: params.maxNewTokens,
                                          endID: template.endID, sampler: &sampler)
        let texts = try rollouts.map { r in
            String(decoding: try tokenizer.decode(r.ended ? r.responseIDs.dropLast() : r.responseIDs[...]), as: UTF8.self)
        }
        let scores = try reward(prompts, texts)
        guard scores.count == prompts.count, scores.allSatisfy(\.isFinite) else {
            throw LMError.badInput("the reward function returned \(scores.count) scores for \(prompts.count) responses, or a non-finite one",
                                   fix: "check the reward model")
        }
        return (rollouts, scores)
    }

    /// `flat` cut into pieces of the lengths of `like`'s rows.
    static func split(_ flat: [Float], like rows: [[Float]]) -> [[Float]] {
        var out: [[Float]] = [], at = 0
        for r in rows { out.append(Array(flat[at ..< at + r.count])); at += r.count }
        return out
    }

    /// One AdamW step of `model` with its gradient norm clipped to `maxGradNorm`.
    static func step(_ model: GPT, _ optimizer: inout OptimizerState, _ hyper: AdamWHyperparameters, _ p: PPOParameters) {
        let ranges = model.decayRanges
        model.withParametersAndGradients { params, grads in
            let norm = GradientClipping.globalNorm(grads, threads: p.threads)
            let scale = Float(GradientClipping.scale(norm: norm, maxNorm: p.maxGradNorm))
            optimizer.apply(parameters: params, gradients: grads, decayRanges: ranges, hyper: hyper,
                            gradScale: scale, threads: p.threads)
        }
    }

    /// RUN/score.svg: per iteration, the mean score and the objective PPO maximises, score − β·KL.
    static func writeChart(_ history: [PPOIterationStats], klCoefficient beta: Float, to path: String) throws {
        let score = history.map { (x: Double($0.iteration), y: Double($0.meanScore)) }
        let objective = history.map { (x: Double($0.iteration), y: Double($0.meanScore - beta * $0.meanKL)) }
        let svg = LossChart.svg(train: score, validation: objective, title: "lmkit ppo — mean reward per iteration",
                                labels: ("score", "score − β·KL"), axes: ("iteration", "reward-model score"))
        try AtomicFileWriter.write(svg, to: path)
    }

    static func writeMetrics(_ history: [PPOIterationStats], to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let lines = try history.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        try AtomicFileWriter.write(lines.joined(separator: "\n") + "\n", to: path)
    }
}

/// A seeded shuffle of 0..<count, drawn one index at a time and reshuffled after every pass.
struct PromptOrder {
    let count: Int
    var rng: SeededRNG
    var order: [Int] = []
    var at = 0

    init(count: Int, seed: UInt64) {
        self.count = count
        rng = SeededRNG(seed: seed)
    }

    mutating func next() -> Int {
        if at == order.count {
            order = Array(0..<count)
            for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next(below: i + 1))) }
            at = 0
        }
        defer { at += 1 }
        return order[at]
    }
}

import Foundation
import LMKernels
import LMModel
import LMSupport
import LMTokenizer

/// `lmkit ppo`: reinforcement learning from a reward function with PPO (see `PPOObjective`).
///
/// Models: the policy (loaded from `policyCheckpoint`, trained); a frozen copy of it, the
/// reference for the KL penalty; a value model that starts as the policy's trunk with a zero score
/// head (`GPT.addingScoreHead`) and reads a value at every position (`GPT.forwardValues`).
/// Each iteration: take the next `rollouts` prompts (a seeded shuffle, reshuffled every pass);
/// sample one response each (temperature 1, all rollouts at once with the batched KV cache,
/// `BatchInferenceSession`); score them; compute ℓ (policy), ℓʳᵉᶠ,
/// values, per-token rewards, GAE advantages (whitened over the whole batch) and returns; then
/// `epochs` passes of AdamW steps of the clipped surrogate on the policy and of the value loss on
/// the value model, one of each per minibatch (`minibatches` seeded groups of rollouts per epoch,
/// default 1 = full batch), each with the global gradient norm clipped.
/// Run directory: model.safetensors + config.json + vocab.vocab (the tuned policy, a chat model
/// for `lmkit chat`, written atomically after every iteration), value/ (the value model),
/// metrics.jsonl (one `PPOIterationStats` per iteration), score.svg (mean score and score − β·KL),
/// and for `--resume` both models' AdamW moments (optimizer.bin, value/optimizer.bin) and
/// ppo_state.json (`PPOState`, written last). `stopRequested` (Ctrl-C) ends the run after an
/// iteration's checkpoint.
public enum PPOTrain {
    public static func run(_ params: PPOParameters, reward: PPORewardFunction) throws -> PPOResult {
        let run = params.outputDirectory
        if !params.resume && (FileIO.exists(run + "/" + GPT.weightsFileName) || FileIO.exists(run + "/" + PPOState.fileName)) {
            throw LMError.badInput(file: run, "already holds a model", fix: "pass --resume to continue its PPO run, or choose another --out")
        }
        let saved = params.resume ? try PPOState.read(run: run) : nil
        let (start, tokenizer) = try CheckpointLoader.load(params.policyCheckpoint, vocabPath: nil)
        if start.config.scoreHead {
            throw LMError.mismatch(file: params.policyCheckpoint + "/config.json", "this checkpoint is a reward model, not a language model",
                                   fix: "pass the chat model from `lmkit finetune` as --policy")
        }
        let template: ChatTemplate
        do { template = try ChatTemplate(tokenizer: tokenizer, file: params.policyCheckpoint + "/vocab.vocab") } catch {
            throw LMError.badInput(file: params.policyCheckpoint, "is not a chat model (its vocab has no chat tokens)",
                                   fix: "pass a model fine-tuned with `lmkit finetune` as --policy")
        }
        try params.validate(context: start.config.context)
        let prompts = try PPOPrompts.load(params.promptsPath)
        let evalPrompts = try params.evalPromptsPath.map { try PPOPrompts.load($0) }
        let fingerprints = (policy: FNV1a64.fileHex(params.policyCheckpoint + "/" + GPT.weightsFileName) ?? "",
                            prompts: FNV1a64.fileHex(params.promptsPath) ?? "",
                            reward: params.rewardCheckpoint.map { FNV1a64.fileHex($0 + "/" + GPT.weightsFileName) ?? "" })
        BLAS.setThreads(params.threads)
        // The starting policy stays frozen: it is the KL reference (and answers the held-out prompts first).
        let reference = start
        reference.threads = params.threads

        var policyOptimizer: OptimizerState, valueOptimizer: OptimizerState
        var order = PromptOrder(count: prompts.count, seed: SeededRNG.derive(params.seed, 1))
        var sampler = TokenSampler(SamplingParameters(temperature: 1, seed: SeededRNG.derive(params.seed, 2)))
        var minibatchOrder = SeededRNG(seed: SeededRNG.derive(params.seed, 4))
        var history: [PPOIterationStats] = []
        let policy: GPT, value: GPT
        if let saved {
            try check(saved, against: params, fingerprints: fingerprints, promptCount: prompts.count)
            policy = try GPT.load(from: run)
            value = try GPT.load(from: run + "/value")
            var valueConfig = start.config
            valueConfig.scoreHead = true
            guard policy.config == start.config, value.config == valueConfig else {
                throw LMError.mismatch(file: run, "the saved policy or value model is not of the starting policy's shape",
                                       fix: "resume with the --policy the run was started from")
            }
            policyOptimizer = try OptimizerState.read(from: run + "/" + OptimizerState.fileName, expectedCount: policy.parameterCount)
            valueOptimizer = try OptimizerState.read(from: run + "/value/" + OptimizerState.fileName, expectedCount: value.parameterCount)
            order = saved.promptOrder
            sampler.rng = saved.samplerRNG
            minibatchOrder = saved.minibatchRNG
            history = saved.history
        } else {
            policy = GPT(config: start.config, parameters: start.parameters)
            value = start.addingScoreHead()
            policyOptimizer = OptimizerState(count: policy.parameterCount)
            valueOptimizer = OptimizerState(count: value.parameterCount)
            try RunDirectory.create(run)   // now, so that an unwritable --out fails before any work
        }
        policy.threads = params.threads
        value.threads = params.threads
        let policyHyper = AdamWHyperparameters(learningRate: params.learningRate, weightDecay: 0)
        let valueHyper = AdamWHyperparameters(learningRate: params.valueLearningRate, weightDecay: 0)
        let session = BatchInferenceSession(policy, capacity: params.rollouts)
        let started = Date().addingTimeInterval(-(history.last?.elapsedSeconds ?? 0))
        // The held-out responses of the starting policy (the frozen reference), same seed as the tuned one's.
        let evalSeed = SeededRNG.derive(params.seed, 3)
        let startScores = try evalPrompts.map {
            try heldOutScores(reference, template: template, tokenizer: tokenizer, prompts: $0, params: params, seed: evalSeed, reward: reward)
        }
        InterruptFlag.shared.install()
        if !params.quiet {
            printError("ppo: \(prompts.count) prompts, \(params.rollouts) rollouts × \(params.iterations) iterations" +
                       (history.isEmpty ? "" : " (resuming after \(history.count))") +
                       ", ≤ \(params.maxNewTokens) new tokens, \(params.epochs) epochs × \(params.minibatches) minibatches, β = \(params.klCoefficient), ε = \(params.clip)")
        }

        var interrupted = false
        for iteration in (history.count + 1)...params.iterations {
            // 1. Rollouts and their scores.
            let picked = (0..<params.rollouts).map { _ in prompts[order.next()] }
            let (rollouts, scores) = try sampleAndScore(session, picked, template: template, tokenizer: tokenizer,
                                                        params: params, sampler: &sampler, reward: reward)

            // 2. Log-probabilities, values, advantages; 3. the policy and value updates.
            let batch = PPOBatch(rollouts, padID: template.endID)
            let targets = estimate(batch, scores: scores, policy: policy, reference: reference, value: value, params: params)
            let (policyLoss, clippedFraction, valueLoss) = update(batch, targets, policy: policy, value: value, params: params,
                                           policyOptimizer: &policyOptimizer, valueOptimizer: &valueOptimizer,
                                           policyHyper: policyHyper, valueHyper: valueHyper, rng: &minibatchOrder)
            guard policyLoss.isFinite, valueLoss.isFinite else {
                throw LMError.badInput("iteration \(iteration): the loss is not finite (policy \(policyLoss), value \(valueLoss))",
                                       fix: "lower --lr or --value-lr; \(run) keeps the policy of the previous iteration")
            }
            let b = batch.batch, tokens = targets.advantages.count

            // 4. Record and save.
            let stats = PPOIterationStats(
                iteration: iteration, meanScore: scores.reduce(0, +) / Float(b), meanKL: targets.kl.reduce(0, +) / Float(b),
                policyLoss: policyLoss, valueLoss: valueLoss, clippedFraction: clippedFraction,
                meanEntropy: targets.meanEntropy, meanResponseTokens: Float(tokens) / Float(b),
                endedFraction: Float(rollouts.filter(\.ended).count) / Float(b),
                elapsedSeconds: Date().timeIntervalSince(started))
            history.append(stats)
            if iteration == 1 {   // the run's files appear with the first finished iteration
                try VocabularyFile.write(tokenizer.vocabulary, to: run + "/" + Pretrain.vocabFileName)
            }
            try writeMetrics(history, to: run + "/metrics.jsonl")
            try writeChart(history, klCoefficient: params.klCoefficient, to: run + "/score.svg")
            let state = PPOState(iterationsDone: iteration, iterations: params.iterations, settings: params.settings,
                                 policyFingerprint: fingerprints.policy, promptsFingerprint: fingerprints.prompts,
                                 rewardFingerprint: fingerprints.reward,
                                 promptOrder: order, samplerRNG: sampler.rng, minibatchRNG: minibatchOrder, history: history,
                                 fileHashes: [:])
            try checkpoint(state, run: run, policy: policy, value: value, policyOptimizer: policyOptimizer,
                           valueOptimizer: valueOptimizer)
            if !params.quiet {
                printError(String(format: "ppo %d/%d  score %.3f  kl %.3f  policy %.4f  value %.4f  clipped %.2f  entropy %.2f  tokens %.1f  ended %.0f%%  %.0fs",
                                  iteration, params.iterations, stats.meanScore, stats.meanKL, stats.policyLoss, stats.valueLoss,
                                  stats.clippedFraction, stats.meanEntropy, stats.meanResponseTokens, 100 * stats.endedFraction, stats.elapsedSeconds))
            }
            if iteration < params.iterations && params.stopRequested(iteration) {
                interrupted = true
                if !params.quiet { printError("ppo: interrupted after iteration \(iteration); continue with --resume") }
                break
            }
        }
        var evaluation: PPOEvaluation?
        if !interrupted, let evalPrompts, let startScores {
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
        return PPOResult(iterations: history, evaluation: evaluation, interrupted: interrupted)
    }

    /// Refuses to resume `saved` with other settings, another starting policy, other prompts or
    /// another reward model, or a run that already did `params.iterations`.
    static func check(_ saved: PPOState, against params: PPOParameters,
                      fingerprints: (policy: String, prompts: String, reward: String?), promptCount: Int) throws {
        let path = params.outputDirectory + "/" + PPOState.fileName
        if saved.settings != params.settings {
            throw LMError.mismatch(file: path, "the run was started with other settings: \(saved.settings.differences(from: params.settings))",
                                   fix: "resume with the options the run was started with")
        }
        if saved.policyFingerprint != fingerprints.policy {
            throw LMError.mismatch(file: path, "the run started from another policy than \(params.policyCheckpoint)",
                                   fix: "resume with the --policy the run was started from")
        }
        if saved.promptsFingerprint != fingerprints.prompts || saved.promptOrder.count != promptCount {
            throw LMError.mismatch(file: path, "the run was trained on other prompts than \(params.promptsPath)",
                                   fix: "resume with the --prompts file the run was started with")
        }
        if saved.rewardFingerprint != fingerprints.reward {
            throw LMError.mismatch(file: path, "the run was scored by another reward model than \(params.rewardCheckpoint ?? "this reward function")",
                                   fix: "resume with the --reward the run was started with")
        }
        if saved.iterationsDone >= params.iterations {
            throw LMError.badInput(file: params.outputDirectory, "the run already did its \(saved.iterationsDone) iterations",
                                   fix: "pass --iterations N (more than \(saved.iterationsDone)) to continue it")
        }
        try RunDirectory.verify(saved.fileHashes, in: params.outputDirectory, stateFile: PPOState.fileName)
    }

    /// Writes both models and their AdamW moments, then `state` with their hashes (each file
    /// atomically, the state last: a state file always describes complete files).
    static func checkpoint(_ state: PPOState, run: String, policy: GPT, value: GPT, policyOptimizer: OptimizerState,
                           valueOptimizer: OptimizerState) throws {
        try policy.save(to: run)
        try value.save(to: run + "/value")
        _ = try policyOptimizer.write(to: run + "/" + OptimizerState.fileName)
        _ = try valueOptimizer.write(to: run + "/value/" + OptimizerState.fileName)
        var state = state
        for name in [GPT.weightsFileName, OptimizerState.fileName, "value/" + GPT.weightsFileName, "value/" + OptimizerState.fileName] {
            state.fileHashes[name] = FNV1a64.fileHex(run + "/" + name)
        }
        try state.write(to: run + "/" + PPOState.fileName)
    }

    /// What the updates of one batch train towards, over its N response tokens in row order.
    struct Targets {
        /// Whitened GAE advantages, the sampling policy's log-probabilities, value targets and the
        /// value model's values at sampling time (N each).
        var advantages: [Float], oldLogProbs: [Float], returns: [Float], oldValues: [Float]
        /// Per row: Σ_t (ℓ_t − ℓʳᵉᶠ_t), the sampled KL to the reference, nats.
        var kl: [Float]
        /// Response tokens per row (to scatter per-token arrays back into rows).
        var rowLengths: [Int]
        /// Mean entropy of the sampling policy over the batch's response tokens, nats.
        var meanEntropy: Float = 0

        /// The targets of rows `rows` (in that order), to go with `PPOBatch.selecting(rows:)`.
        func selecting(rows: [Int]) -> Targets {
            var starts = [Int](), at = 0
            for n in rowLengths { starts.append(at); at += n }
            func pick(_ flat: [Float]) -> [Float] { rows.flatMap { flat[starts[$0] ..< starts[$0] + rowLengths[$0]] } }
            return Targets(advantages: pick(advantages), oldLogProbs: pick(oldLogProbs), returns: pick(returns),
                           oldValues: pick(oldValues), kl: rows.map { kl[$0] }, rowLengths: rows.map { rowLengths[$0] },
                           meanEntropy: meanEntropy)
        }
    }

    /// ℓ (policy), ℓʳᵉᶠ and values of `batch`, then per-token rewards, GAE advantages (whitened
    /// over the batch) and returns (see `PPOObjective`).
    static func estimate(_ batch: PPOBatch, scores: [Float], policy: GPT, reference: GPT, value: GPT,
                         params: PPOParameters) -> Targets {
        let (b, t) = (batch.batch, batch.time)
        policy.forward(inputs: batch.inputs, targets: batch.targets, batch: b, time: t)
        let old = policy.lastTargetLogProbs
        let entropies = policy.lastEntropies
        reference.forward(inputs: batch.inputs, targets: batch.targets, batch: b, time: t)
        let ref = reference.lastTargetLogProbs
        let values = value.forwardValues(inputs: batch.inputs, batch: b, time: t)
        var advantages: [Float] = [], returns: [Float] = [], oldFlat: [Float] = [], oldValues: [Float] = [], kl: [Float] = []
        var entropySum = 0.0
        for row in 0..<b {
            let l = batch.actions(of: old, row: row), lr = batch.actions(of: ref, row: row)
            let r = PPOObjective.tokenRewards(score: scores[row], logProbs: l, referenceLogProbs: lr,
                                              klCoefficient: params.klCoefficient)
            let v = batch.actions(of: values, row: row)
            let (a, g) = PPOObjective.advantages(rewards: r, values: v, gamma: params.gamma, lambda: params.lambda)
            advantages += a; returns += g; oldFlat += l; oldValues += v
            kl.append(zip(l, lr).reduce(0) { $0 + $1.0 - $1.1 })
            entropySum += batch.actions(of: entropies, row: row).reduce(0.0) { $0 + Double($1) }
        }
        return Targets(advantages: PPOObjective.whiten(advantages), oldLogProbs: oldFlat, returns: returns,
                       oldValues: oldValues, kl: kl, rowLengths: batch.actionCount,
                       meanEntropy: Float(entropySum / Double(max(1, advantages.count))))
    }

    /// `params.epochs` passes over the batch, each in `params.minibatches` groups of rows (a
    /// shuffle drawn from `rng` per epoch; one group in row order when there is one): per group one
    /// AdamW step of the clipped surrogate on the policy and one of ½(V − G)² (mean over the
    /// group's tokens, clipped per `params.valueClip`) on the value model. Returns the last epoch's surrogate and value loss,
    /// token-weighted means over its groups.
    static func update(_ batch: PPOBatch, _ targets: Targets, policy: GPT, value: GPT, params: PPOParameters,
                       policyOptimizer: inout OptimizerState, valueOptimizer: inout OptimizerState,
                       policyHyper: AdamWHyperparameters, valueHyper: AdamWHyperparameters,
                       rng: inout SeededRNG) -> (policyLoss: Float, clippedFraction: Float, valueLoss: Float) {
        let groups = min(params.minibatches, batch.batch)
        // Token-weighted sums over the current epoch's groups: surrogate loss, clipped tokens, value loss.
        var sums = (policy: 0.0, clipped: 0.0, value: 0.0)
        for _ in 0..<params.epochs {
            var order = Array(0..<batch.batch)
            if groups > 1 {
                for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next(below: i + 1))) }
            }
            sums = (0, 0, 0)
            for g in 0..<groups {
                let rows = Array(order[(order.count * g / groups) ..< (order.count * (g + 1) / groups)])
                let sub = groups == 1 ? batch : batch.selecting(rows: rows)
                let subTargets = groups == 1 ? targets : targets.selecting(rows: rows)
                let (surrogate, valueLoss) = minibatchStep(sub, subTargets, policy: policy, value: value, params: params,
                                                           policyOptimizer: &policyOptimizer, valueOptimizer: &valueOptimizer,
                                                           policyHyper: policyHyper, valueHyper: valueHyper)
                let w = Double(subTargets.advantages.count)
                sums.policy += w * Double(surrogate.loss)
                sums.clipped += w * Double(surrogate.clippedFraction)
                sums.value += w * Double(valueLoss)
            }
        }
        let n = Double(max(1, targets.advantages.count))
        return (Float(sums.policy / n), Float(sums.clipped / n), Float(sums.value / n))
    }

    /// One AdamW step of the clipped surrogate on the policy and one of ½(V − G)² (mean over the
    /// tokens) on the value model, over all rows of `batch`.
    static func minibatchStep(_ batch: PPOBatch, _ targets: Targets, policy: GPT, value: GPT, params: PPOParameters,
                              policyOptimizer: inout OptimizerState, valueOptimizer: inout OptimizerState,
                              policyHyper: AdamWHyperparameters, valueHyper: AdamWHyperparameters)
        -> (PPOObjective.Surrogate, Float) {
        let (b, t) = (batch.batch, batch.time)
        let rows = { (flat: [Float]) in batch.positions(from: split(flat, lengths: targets.rowLengths)) }
        let actions = { (perPosition: [Float]) in (0..<b).flatMap { batch.actions(of: perPosition, row: $0) } }
        policy.zeroGradients()
        policy.forward(inputs: batch.inputs, targets: batch.targets, batch: b, time: t)
        let surrogate = PPOObjective.surrogate(logProbs: actions(policy.lastTargetLogProbs), oldLogProbs: targets.oldLogProbs,
                                               advantages: targets.advantages, clip: params.clip)
        // Entropy bonus −c·mean_t H_t: weight −c/N on every response token's entropy.
        let bonus = params.entropyCoefficient > 0
            ? rows(Array(repeating: -params.entropyCoefficient / Float(targets.advantages.count), count: targets.advantages.count))
            : nil
        policy.backward(tokenWeights: rows(surrogate.tokenWeights), entropyWeights: bonus)
        step(policy, &policyOptimizer, policyHyper, params)

        value.zeroGradients()
        let v = actions(value.forwardValues(inputs: batch.inputs, batch: b, time: t))
        let (valueLoss, dv) = PPOObjective.valueLoss(values: v, oldValues: targets.oldValues, returns: targets.returns,
                                                     clip: params.valueClip)
        value.backwardValues(rows(dv))
        step(value, &valueOptimizer, valueHyper, params)
        return (surrogate, valueLoss)
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

    /// `flat` cut into consecutive pieces of `lengths`.
    static func split(_ flat: [Float], lengths: [Int]) -> [[Float]] {
        var out: [[Float]] = [], at = 0
        for n in lengths { out.append(Array(flat[at ..< at + n])); at += n }
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
/// Codable: a PPO checkpoint saves it mid-pass.
struct PromptOrder: Codable, Sendable {
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

import Foundation
import LMKernels
import LMModel
import LMSupport
import LMTokenizer

/// What `lmkit reward train` needs.
public struct RewardTrainParameters: Sendable {
    /// The starting model: a run directory of `lmkit pretrain` or `finetune` (its vocab.vocab is used).
    public var baseCheckpoint: String
    /// Preference pairs (JSONL; see `PreferenceData`).
    public var dataPath: String
    /// Fraction of pairs held out (deterministic by content; see `PreferenceData.isValidation`).
    public var valFraction: Double = 0.1
    /// Seed of the train/val split (independent of `--seed`).
    public var splitSeed: UInt64 = 0
    /// Passes over the training pairs (sets `steps`), or nil.
    public var epochs: Double?
    /// P: pairs per micro-batch (the model sees 2·P rows).
    public var pairsPerBatch = 8
    /// Train-loop settings (outputDirectory, steps/time, …); `batchSize` is set to 2·P.
    public var trainer: TrainerParameters
    /// Optimisation settings given explicitly (`batchSize` there is ignored: use `pairsPerBatch`).
    public var options = TrainingOptions()
    public var measureSgemm = true

    public init(baseCheckpoint: String, dataPath: String, trainer: TrainerParameters) {
        self.baseCheckpoint = baseCheckpoint
        self.dataPath = dataPath
        self.trainer = trainer
    }
}

/// Result of a reward-model run.
public struct RewardTrainResult: Sendable {
    public var train: TrainResult
    /// On the whole validation split (nil without one).
    public var validation: RewardAccuracy?
    /// Sequences cut to their last T tokens.
    public var truncated: Int
    /// Pairs dropped because both sides had the same tokens.
    public var dropped: Int
}

/// `lmkit reward train`: a reward model from a pretrained or fine-tuned GPT and ranked answers,
/// with the same `Trainer` as pretraining (progress, metrics.jsonl, loss.svg, atomic checkpoints,
/// exact resume). The loss is `RewardModel`'s pairwise loss (nats per pair; ln 2 ≈ 0.693 = chance).
///
/// Steps: load the base and its vocab; add a zero score head (`GPT.addingScoreHead`); tokenize
/// and split the pairs (`RewardDataset`); train on shuffled `PairBatches` (`derive(seed, 2)`);
/// at the end measure accuracy, loss and margin over the whole validation split.
/// Run directory: model.safetensors + config.json (a `GPT2ForSequenceClassification`),
/// vocab.vocab, optimizer.bin, state.json, metrics.jsonl, loss.svg.
public enum RewardTrain {
    public static func run(_ params: RewardTrainParameters, stopRequested: (@Sendable (Int) -> Bool)? = nil) throws -> RewardTrainResult {
        var p = params.trainer
        let run = p.outputDirectory
        if !(params.valFraction >= 0 && params.valFraction < 1) {
            throw LMError.badInput("--val-fraction must be in [0, 1) (got \(params.valFraction))")
        }
        if params.pairsPerBatch < 1 { throw LMError.badInput("--batch must be ≥ 1 pair (got \(params.pairsPerBatch))") }
        if let e = params.epochs, !(e > 0) { throw LMError.badInput("--epochs must be positive (got \(e))") }
        let saved = try RunDirectory.savedState(in: run, resume: p.resume, as: TrainState<PairPosition, GPTConfig>.self)
        p.learningRate = 1e-4
        p.warmupSteps = 20
        p.evalEvery = 50
        p.checkpointEvery = 200
        p.logLabel = "reward"
        var options = params.options
        options.batchSize = nil
        options.apply(to: &p, saved: saved?.hyper)
        p.batchSize = 2 * params.pairsPerBatch
        if params.epochs != nil { p.steps = nil }

        // 1. Model (a resumed run already has its score head) and vocab.
        let source = p.resume ? run : params.baseCheckpoint
        let (base, vocab, vocabFile) = try Finetune.loadModelAndVocab(checkpoint: source, vocabPath: nil)
        if vocab.idLimit > base.config.vocabSize {
            throw LMError.mismatch(file: vocabFile, "the vocab has \(vocab.idLimit) ids, the model only \(base.config.vocabSize)",
                                   fix: "use the vocab.vocab the model was trained with")
        }
        let gpt = base.config.scoreHead ? base : base.addingScoreHead()
        gpt.threads = p.threads
        p.context = gpt.config.context
        let model = RewardModel(gpt)

        // 2. Data.
        let tokenizer = try BPETokenizer(vocab)
        let data = try RewardDataset.load(params.dataPath, tokenizer: tokenizer, context: p.context,
                                          valFraction: params.valFraction, splitSeed: params.splitSeed, threads: p.threads)
        let pad = data.endID ?? 0
        let train = PairBatches(examples: data.train, pairsPerBatch: params.pairsPerBatch, context: p.context,
                                seed: SeededRNG.derive(p.seed, 2), shuffle: true, padID: pad)
        if let e = params.epochs {
            let pairs = Double(data.train.count), perStep = Double(params.pairsPerBatch * p.accumulation)
            p.steps = max(1, Int((e * pairs / perStep).rounded(.up)))
        }
        try p.validate()
        var validation: (() throws -> PairBatches)?
        if !data.val.isEmpty {
            let (examples, pairs, t) = (data.val, params.pairsPerBatch, p.context)
            if params.options.evalBatches == nil && saved == nil { p.evalBatches = max(1, (examples.count + pairs - 1) / pairs) }
            validation = { PairBatches(examples: examples, pairsPerBatch: pairs, context: t, seed: 0, shuffle: false, padID: pad) }
        }
        var h = FNV1a64()
        h.update(try FileIO.readBytes(params.dataPath))
        p.dataFingerprint = "reward-\(vocab.fingerprint)-\(h.hex)-val\(params.valFraction)-split\(params.splitSeed)"
        if p.chartTitle == "lmkit pretrain" {
            p.chartTitle = "lmkit reward train — \(GPT.describe(gpt.config)) — \((params.dataPath as NSString).lastPathComponent) (loss per pair)"
        }
        try RunDirectory.create(run)
        if !p.quiet {
            printError("reward: \(data.train.count) train / \(data.val.count) val pairs, \(params.pairsPerBatch) pairs per batch" +
                       (data.truncated > 0 ? "; \(data.truncated) sequences cut to their last \(p.context) tokens" : "") +
                       (data.dropped > 0 ? "; \(data.dropped) pairs without a difference dropped" : "") +
                       (data.endID == nil ? "; the vocab has no <|endoftext|>: rewards are read at each text's last token" : "") +
                       (p.steps.map { "; \($0) steps" } ?? ""))
        }

        // 3. Training.
        BLAS.setThreads(p.threads)
        try RunDirectory.storeVocab(vocab, from: vocabFile, in: run)
        if params.measureSgemm { p.peakFlops = SgemmProbe.measure() }
        InterruptFlag.shared.install()
        let trainer = Trainer(parameters: p, model: model, train: train, validation: validation)
        if let stopRequested { trainer.stopRequested = stopRequested }
        let result = try trainer.run()

        // 4. Ranking accuracy on the held-out pairs.
        var accuracy: RewardAccuracy?
        if !data.val.isEmpty {
            let a = RewardEvaluation.accuracy(model: gpt, examples: data.val, batchSize: p.batchSize, padID: pad)
            accuracy = a
            if !p.quiet {
                printError(String(format: "reward: held-out accuracy %.1f%% (%d/%d pairs), loss %.4f nats/pair, mean margin %.3f",
                                  100 * a.accuracy, a.correct, a.pairs, a.loss, a.meanMargin))
            }
        }
        return RewardTrainResult(train: result, validation: accuracy, truncated: data.truncated, dropped: data.dropped)
    }
}

import LMSupport

/// Settings of one pretraining run (what `lmkit pretrain` copies its options into).
///
/// Defaults follow nanoGPT's Shakespeare config where sensible (lr 1e-3, β2 0.99 for small
/// models, clip 1.0, weight decay 0.1) and are documented one by one.
public struct TrainerParameters: Sendable {
    /// Run directory: weights, config.json, optimizer.bin, state.json, metrics.jsonl, loss.svg.
    public var outputDirectory: String
    /// Windows per micro-batch (B).
    public var batchSize: Int = 16
    /// Tokens per window (T); at most the model's context.
    public var context: Int = 128
    /// Micro-batches whose gradients are summed before each optimizer step.
    /// Tokens per step = batchSize × context × accumulation.
    public var accumulation: Int = 1
    /// Optimizer steps of the run. Nil with `timeBudgetSeconds` set: the count is fixed after
    /// measuring the first steps (so the cosine schedule ends when the time does).
    public var steps: Int? = 1000
    /// Wall-clock budget in seconds (training + evaluation), or nil.
    public var timeBudgetSeconds: Double?
    /// Peak learning rate, reached after warmup.
    public var learningRate: Double = 1e-3
    /// Learning rate at the end of the cosine (nil = learningRate / 10, as nanoGPT).
    public var minLearningRate: Double?
    /// Linear warmup steps.
    public var warmupSteps: Int = 100
    /// Decoupled weight decay, applied to the model's `decayRanges` only (GPT: every 2-D
    /// tensor; never biases or LayerNorm gains).
    public var weightDecay: Double = 0.1
    /// AdamW β1.
    public var beta1: Double = 0.9
    /// AdamW β2 (0.99 for small models and few tokens per step, as nanoGPT's Shakespeare run).
    public var beta2: Double = 0.99
    /// Clip the global gradient norm to this (0 = no clipping).
    public var gradClip: Double = 1.0
    /// Evaluate the validation loss every this many steps (0 = only at the end).
    public var evalEvery: Int = 100
    /// Validation batches per evaluation (same windows each time).
    public var evalBatches: Int = 20
    /// Write a checkpoint every this many steps (0 = only at the end and on Ctrl-C).
    public var checkpointEvery: Int = 500
    /// Seed for the trainer's RNG (the model and loader seeds come from the caller).
    public var seed: UInt64 = 1337
    /// Threads for the optimizer and norms.
    public var threads: Int = Threads.available
    /// Continue the run in `outputDirectory` from its last checkpoint.
    public var resume = false
    /// No progress lines on stderr.
    public var quiet = false
    /// Fingerprint of the data (vocab fingerprint and token counts); a resume must match.
    public var dataFingerprint = ""
    /// Title of loss.svg.
    public var chartTitle = "lmkit pretrain"
    /// Prefix of the trainer's stderr lines ("pretrain", "finetune", "reward").
    public var logLabel = "pretrain"
    /// Measured sgemm rate in FLOP/s for MFU (nil = MFU not shown).
    public var peakFlops: Double?

    public init(outputDirectory: String) { self.outputDirectory = outputDirectory }

    /// The saved form of the optimisation settings.
    var hyper: TrainHyperparameters {
        TrainHyperparameters(batchSize: batchSize, context: context, accumulation: accumulation,
                             learningRate: learningRate, minLearningRate: resolvedMinLearningRate,
                             warmupSteps: warmupSteps, weightDecay: weightDecay, beta1: beta1,
                             beta2: beta2, gradClip: gradClip, seed: seed, evalEvery: evalEvery,
                             evalBatches: evalBatches)
    }

    var resolvedMinLearningRate: Double { minLearningRate ?? learningRate / 10 }

    /// Checks ranges; throws `LMError.badInput` naming the option.
    public func validate() throws {
        func bad(_ option: String, _ what: String) -> LMError {
            LMError.badInput("\(option) \(what)", fix: "see lmkit pretrain --help")
        }
        if batchSize < 1 { throw bad("--batch", "must be at least 1 (got \(batchSize))") }
        if context < 2 { throw bad("--context", "must be at least 2 (got \(context))") }
        if accumulation < 1 { throw bad("--accum", "must be at least 1 (got \(accumulation))") }
        if let s = steps, s < 1 { throw bad("--steps", "must be at least 1 (got \(s))") }
        if steps == nil && timeBudgetSeconds == nil && !resume { throw bad("--steps or --time", "is required") }
        if let t = timeBudgetSeconds, !(t > 0) { throw bad("--time", "must be positive (got \(t))") }
        if !(learningRate > 0 && learningRate < 1) { throw bad("--lr", "must be in (0, 1) (got \(learningRate))") }
        if let m = minLearningRate, !(m >= 0 && m <= learningRate) {
            throw bad("--min-lr", "must be in [0, --lr] (got \(m))")
        }
        if warmupSteps < 0 { throw bad("--warmup", "must be 0 or more (got \(warmupSteps))") }
        if !(weightDecay >= 0 && weightDecay < 10) { throw bad("--weight-decay", "must be in [0, 10) (got \(weightDecay))") }
        if !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) { throw bad("--beta1/--beta2", "must be in [0, 1)") }
        if !(gradClip >= 0) { throw bad("--clip", "must be 0 (off) or positive (got \(gradClip))") }
        if evalEvery < 0 { throw bad("--eval-every", "must be 0 or more (got \(evalEvery))") }
        if evalBatches < 0 { throw bad("--eval-batches", "must be 0 or more (got \(evalBatches))") }
        if checkpointEvery < 0 { throw bad("--checkpoint-every", "must be 0 or more (got \(checkpointEvery))") }
        if threads < 1 { throw bad("--threads", "must be at least 1 (got \(threads))") }
    }
}

/// How a run ended.
public enum TrainStopReason: String, Sendable, Codable {
    /// All scheduled steps done.
    case completed
    /// The `--time` budget ran out.
    case timeBudget
    /// Ctrl-C (or a stop request); a checkpoint was written.
    case interrupted
}

/// Summary of a finished (or interrupted) run.
public struct TrainResult: Sendable {
    /// Steps completed in total (all sessions).
    public var steps: Int
    public var stopReason: TrainStopReason
    /// Mean train loss of the last step, nats/token.
    public var finalTrainLoss: Float?
    /// Last validation loss, nats/token.
    public var finalValLoss: Float?
    /// Median training tokens/s of this session's steps.
    public var tokensPerSecond: Double
    /// Training wall time over all sessions, seconds.
    public var elapsedSeconds: Double
}

/// Optimisation settings as given on the command line: nil = not given. A new run fills the
/// gaps with `TrainerParameters`' defaults; `--resume` fills them from the run's state.json (so
/// `lmkit pretrain --data D --out RUN --resume` needs no other option), and an option that is
/// given must equal the saved value (else a one-line mismatch error).
public struct TrainingOptions: Sendable, Equatable {
    public var batchSize: Int?
    public var accumulation: Int?
    public var learningRate: Double?
    public var minLearningRate: Double?
    public var warmupSteps: Int?
    public var weightDecay: Double?
    public var beta1: Double?
    public var beta2: Double?
    public var gradClip: Double?
    public var seed: UInt64?
    public var evalEvery: Int?
    public var evalBatches: Int?

    public init() {}

    /// Writes the given options into `p`, taking the others from `saved` when resuming.
    public func apply(to p: inout TrainerParameters, saved: TrainHyperparameters?) {
        p.batchSize = batchSize ?? saved?.batchSize ?? p.batchSize
        p.accumulation = accumulation ?? saved?.accumulation ?? p.accumulation
        p.learningRate = learningRate ?? saved?.learningRate ?? p.learningRate
        p.warmupSteps = warmupSteps ?? saved?.warmupSteps ?? p.warmupSteps
        p.weightDecay = weightDecay ?? saved?.weightDecay ?? p.weightDecay
        p.beta1 = beta1 ?? saved?.beta1 ?? p.beta1
        p.beta2 = beta2 ?? saved?.beta2 ?? p.beta2
        p.gradClip = gradClip ?? saved?.gradClip ?? p.gradClip
        p.seed = seed ?? saved?.seed ?? p.seed
        p.evalEvery = evalEvery ?? saved?.evalEvery ?? p.evalEvery
        p.evalBatches = evalBatches ?? saved?.evalBatches ?? p.evalBatches
        if let m = minLearningRate {
            p.minLearningRate = m
        } else if let saved, learningRate == nil || learningRate == saved.learningRate {
            p.minLearningRate = saved.minLearningRate
        }
    }
}

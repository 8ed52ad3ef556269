import ArgumentParser
import LMTraining

/// AdamW and schedule options shared by `lmkit pretrain` and `lmkit finetune` (copied into
/// `TrainingOptions`; nil means the command's default, which the library picks).
struct OptimizerOptions: ParsableArguments {
    @Option(help: "Micro-batches accumulated per optimizer step (default 1).") var accum: Int?
    @Option(help: "Peak learning rate (default: 1e-3 for pretrain, 3e-4 for finetune).") var lr: Double?
    @Option(name: .customLong("min-lr"), help: "Final learning rate of the cosine (default: --lr / 10).") var minLR: Double?
    @Option(help: "Linear warmup steps (default: 100 for pretrain, 20 for finetune).") var warmup: Int?
    @Option(name: .customLong("weight-decay"), help: "AdamW decoupled weight decay, 2-D tensors only (default 0.1).") var weightDecay: Double?
    @Option(help: "AdamW beta1 (default 0.9).") var beta1: Double?
    @Option(help: "AdamW beta2 (default 0.99).") var beta2: Double?
    @Option(help: "Clip the global gradient norm to this (0 = off; default 1).") var clip: Double?

    func validate() throws {
        if let a = accum, a < 1 { throw ValidationError("--accum must be at least 1 (got \(a)).") }
        if let l = lr, !(l > 0 && l < 1) { throw ValidationError("--lr must be in (0, 1) (got \(l)).") }
        if let m = minLR, !(m >= 0 && m < 1) { throw ValidationError("--min-lr must be in [0, 1) (got \(m)).") }
        if let w = warmup, w < 0 { throw ValidationError("--warmup must be 0 or more (got \(w)).") }
        if let d = weightDecay, !(d >= 0) { throw ValidationError("--weight-decay must be 0 or more (got \(d)).") }
        for (name, b) in [("--beta1", beta1), ("--beta2", beta2)] {
            if let b, !(b >= 0 && b < 1) { throw ValidationError("\(name) must be in [0, 1) (got \(b)).") }
        }
        if let c = clip, !(c >= 0) { throw ValidationError("--clip must be 0 or more (got \(c)).") }
    }

    /// Copies the options that were given into `o`.
    func apply(to o: inout TrainingOptions) {
        o.accumulation = accum
        o.learningRate = lr
        o.minLearningRate = minLR
        o.warmupSteps = warmup
        o.weightDecay = weightDecay
        o.beta1 = beta1
        o.beta2 = beta2
        o.gradClip = clip
    }
}

extension OptimizerOptions {
    /// The `TrainingOptions` of a training command: these optimizer options plus the command's
    /// batch, seed and evaluation options (nil = the library's default).
    func trainingOptions(batch: Int?, seed: UInt64?, evalEvery: Int?, evalBatches: Int?) -> TrainingOptions {
        var o = TrainingOptions()
        apply(to: &o)
        o.batchSize = batch
        o.seed = seed
        o.evalEvery = evalEvery
        o.evalBatches = evalBatches
        return o
    }
}

extension CommonOptions {
    /// The train-loop settings every training command (pretrain, finetune, reward train) takes
    /// from its options; `minutes` is the time budget.
    func trainerParameters(out: String, steps: Int?, minutes: Double?, checkpointEvery: Int, resume: Bool) -> TrainerParameters {
        var t = TrainerParameters(outputDirectory: out)
        t.timeBudgetSeconds = minutes.map { $0 * 60 }
        t.steps = steps
        t.checkpointEvery = checkpointEvery
        t.threads = resolvedThreads
        t.resume = resume
        t.quiet = quiet
        return t
    }
}

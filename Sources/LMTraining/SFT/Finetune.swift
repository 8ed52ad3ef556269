import Foundation
import LMKernels
import LMModel
import LMSupport
import LMTokenizer

/// What `lmkit finetune` needs.
public struct FinetuneParameters: Sendable {
    /// The base model: a run directory of `lmkit pretrain` (or `finetune`).
    public var baseCheckpoint: String
    /// SFT data (JSONL or JSON; see `SFTData`).
    public var dataPath: String
    /// A vocab with the chat tokens (from `lmkit vocab add-special`); nil = BASE/vocab.vocab,
    /// which must then already have them. Must keep every id of the base's vocab.
    public var vocabPath: String?
    /// Fraction of conversations held out (deterministic by content; see `SFTData.isValidation`).
    public var valFraction: Double = 0.1
    /// Seed of the train/val split (independent of `--seed`, so every run holds out the same).
    public var splitSeed: UInt64 = 0
    /// Drop conversations longer than the context instead of failing.
    public var skipLong = false
    /// Train this many passes over the training rows (sets `steps`), or nil.
    public var epochs: Double?
    /// Train-loop settings (outputDirectory, steps/time, …); `context` = the model's.
    public var trainer: TrainerParameters
    /// Optimisation settings given explicitly.
    public var options = TrainingOptions()
    public var measureSgemm = true

    public init(baseCheckpoint: String, dataPath: String, trainer: TrainerParameters) {
        self.baseCheckpoint = baseCheckpoint
        self.dataPath = dataPath
        self.trainer = trainer
    }
}

/// Result of a fine-tuning run.
public struct FinetuneResult: Sendable {
    public var train: TrainResult
    /// Mean loss per assistant token (nats) over the whole validation split, or nil without one.
    public var valAssistantLoss: Double?
    /// Fraction of the train rows' positions that are padding.
    public var paddingFraction: Double
}

/// `lmkit finetune`: supervised fine-tuning of a GPT on conversations with the same `Trainer`
/// as pretraining (progress line, metrics.jsonl, loss.svg, atomic checkpoints, exact resume).
///
/// Steps: read the base model and the chat vocab (which must extend the base's vocab); grow the
/// embedding/head when the vocab has more ids than the model (`growingVocabulary`, seeded with
/// `derive(seed, 4)`); render and split the data (`SFTDataset`); pack it into B×T rows
/// (`PackedBatches`, shuffled per epoch with `derive(seed, 2)`; validation unshuffled); train
/// with targets −1 wherever the mask is 0, so the loss is the mean over assistant tokens; at the
/// end measure the exact assistant-token loss over the whole validation split.
///
/// Run directory: as pretraining (model.safetensors, config.json, vocab.vocab = the chat vocab,
/// optimizer.bin, state.json, metrics.jsonl, loss.svg), so `lmkit chat`, `sample` and `eval` read it.
public enum Finetune {
    public static func run(_ params: FinetuneParameters, stopRequested: (@Sendable (Int) -> Bool)? = nil) throws -> FinetuneResult {
        var p = params.trainer
        let run = p.outputDirectory
        let saved = try RunDirectory.savedState(in: run, resume: p.resume, as: TrainState<PackedPosition, GPTConfig>.self)
        if !(params.valFraction >= 0 && params.valFraction < 1) {
            throw LMError.badInput("--val-fraction must be in [0, 1) (got \(params.valFraction))")
        }
        p.learningRate = 3e-4
        p.warmupSteps = 20
        p.evalEvery = 50
        p.checkpointEvery = 200
        p.logLabel = "finetune"
        params.options.apply(to: &p, saved: saved?.hyper)
        if params.epochs != nil { p.steps = nil }
        if let e = params.epochs, !(e > 0) { throw LMError.badInput("--epochs must be positive (got \(e))") }

        // 1. Base model and chat vocab.
        let (base, vocab, vocabFile) = try loadModelAndVocab(checkpoint: p.resume ? run : params.baseCheckpoint,
                                                             vocabPath: p.resume ? nil : params.vocabPath)
        let template = try ChatTemplate(tokenizer: try BPETokenizer(vocab), file: vocabFile)
        var model = base
        var grewNote: String?  // printed once the data has loaded: bad data must give one stderr line only
        if vocab.idLimit > base.config.vocabSize {
            model = base.growingVocabulary(to: vocab.idLimit, seed: SeededRNG.derive(p.seed, 4))
            grewNote = "finetune: grew the embedding/head from \(base.config.vocabSize) to \(vocab.idLimit) tokens" +
                (base.config.paddedVocabSize == model.config.paddedVocabSize
                 ? " (inside the padded \(base.config.paddedVocabSize) rows: layout unchanged)"
                 : " (padded \(base.config.paddedVocabSize) → \(model.config.paddedVocabSize) rows)")
        }
        model.threads = p.threads
        p.context = model.config.context

        // 2. Data.
        let data = try SFTDataset.load(params.dataPath, template: template, context: p.context,
                                       valFraction: params.valFraction, splitSeed: params.splitSeed, skipLong: params.skipLong)
        let train = PackedBatches(examples: data.train, batchSize: p.batchSize, context: p.context,
                                  seed: SeededRNG.derive(p.seed, 2), shuffle: true, padID: template.endID)
        let stats = train.statistics
        if let e = params.epochs {
            p.steps = max(1, Int((e * Double(stats.rows) / Double(p.batchSize * p.accumulation)).rounded(.up)))
        }
        try p.validate()
        var validation: (() throws -> PackedBatches)?
        if !data.val.isEmpty {
            let (examples, b, t, pad) = (data.val, p.batchSize, p.context, template.endID)
            let rows = PackedBatches(examples: examples, batchSize: b, context: t, seed: 0, shuffle: false, padID: pad).statistics.rows
            if params.options.evalBatches == nil && saved == nil { p.evalBatches = max(1, (rows + b - 1) / b) }
            validation = { PackedBatches(examples: examples, batchSize: b, context: t, seed: 0, shuffle: false, padID: pad) }
        }
        var h = FNV1a64()
        h.update(try FileIO.readBytes(params.dataPath))
        p.dataFingerprint = "sft-\(vocab.fingerprint)-\(h.hex)-val\(params.valFraction)-split\(params.splitSeed)-skip\(params.skipLong)"
        if p.chartTitle == "lmkit pretrain" {
            p.chartTitle = "lmkit finetune — \(GPT.describe(model.config)) — \((params.dataPath as NSString).lastPathComponent)"
        }
        // Created once the data has loaded and before any progress line (an unwritable --out: one error line).
        try RunDirectory.create(run)
        if !p.quiet, let grewNote { printError(grewNote) }
        if !p.quiet {
            printError("finetune: \(data.train.count) train / \(data.val.count) val conversations" +
                       (data.skipped > 0 ? ", \(data.skipped) longer than the context skipped" : "") +
                       String(format: "; packed into %d rows of %d per epoch: %.1f%% padding, %.1f%% of positions trained (assistant tokens)",
                              stats.rows, p.context, 100 * stats.padding, 100 * stats.trained) +
                       (p.steps.map { "; \($0) steps" } ?? ""))
        }

        // 3. Run directory and training.
        BLAS.setThreads(p.threads)
        try RunDirectory.storeVocab(vocab, from: vocabFile, in: run)
        if params.measureSgemm { p.peakFlops = SgemmProbe.measure() }
        InterruptFlag.shared.install()
        let trainer = Trainer(parameters: p, model: model, train: train, validation: validation)
        if let stopRequested { trainer.stopRequested = stopRequested }
        let result = try trainer.run()

        // 4. Exact assistant-token loss on the held-out conversations.
        var valLoss: Double?
        if !data.val.isEmpty {
            valLoss = SFTEvaluation.assistantLoss(model: model, examples: data.val, batchSize: p.batchSize, padID: template.endID).loss
            if !p.quiet { printError(String(format: "finetune: val loss on assistant tokens %.4f (%d held-out conversations)", valLoss!, data.val.count)) }
        }
        return FinetuneResult(train: result, valAssistantLoss: valLoss, paddingFraction: stats.padding)
    }

    /// The GPT in `checkpoint` and the vocab (`vocabPath`, else CHECKPOINT/vocab.vocab), checked to
    /// extend the checkpoint's own vocab. Returns the vocab's file for messages.
    public static func loadModelAndVocab(checkpoint: String, vocabPath: String?) throws -> (GPT, Vocabulary, String) {
        guard FileIO.isDirectory(checkpoint) else {
            throw LMError.io(file: checkpoint, "no such checkpoint directory", fix: "pass a run directory written by lmkit pretrain")
        }
        let model = try GPT.load(from: checkpoint)
        let own = checkpoint + "/" + Pretrain.vocabFileName
        let baseVocab = FileIO.exists(own) ? try VocabularyFile.read(own) : nil
        guard let file = vocabPath ?? (baseVocab == nil ? nil : own) else {
            throw LMError.badInput(file: checkpoint, "has no vocab.vocab", fix: "pass --vocab with the model's vocab plus the chat tokens")
        }
        let vocab = vocabPath == nil ? baseVocab! : try VocabularyImport(input: file).run()
        if let baseVocab, !vocab.extends(baseVocab) {
            throw LMError.mismatch(file: file, "this vocab does not keep the ids of the model's vocab (\(own))",
                                   fix: "make it with `lmkit vocab add-special --vocab \(own) --output chat.vocab`")
        }
        return (model, vocab, file)
    }
}

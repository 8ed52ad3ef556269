import Foundation
import LMData
import LMKernels
import LMModel
import LMSupport
import LMTokenizer

/// Which model `lmkit pretrain` builds.
public enum ModelChoice: Sendable, Equatable {
    /// A preset (`tiny`, `small`, `gpt2`), optionally with another context length.
    case preset(String, context: Int?)
    /// Explicit shape.
    case custom(layers: Int, heads: Int, channels: Int, context: Int)
    /// The shape saved in the run directory (only with `--resume`).
    case fromCheckpoint
}

/// Everything `lmkit pretrain` needs: data, vocab, model shape and the train-loop settings.
public struct PretrainParameters: Sendable {
    /// Shard directory (manifest.json + .lmshard files) with a train and, ideally, a val split.
    public var dataDirectory: String
    /// The vocabulary the shards were made with. Nil: `RUN/vocab.vocab` when resuming, else the
    /// `vocab` recorded in the shard manifest's config.
    public var vocabPath: String?
    public var model: ModelChoice
    /// Train-loop settings; `context` is set from the model, the optimisation settings from `options`.
    public var trainer: TrainerParameters
    /// Optimisation settings given explicitly (the rest: defaults, or the saved ones on resume).
    public var options = TrainingOptions()
    /// Time a short sgemm at the start to report MFU.
    public var measureSgemm = true

    public init(dataDirectory: String, vocabPath: String?, model: ModelChoice, trainer: TrainerParameters) {
        self.dataDirectory = dataDirectory
        self.vocabPath = vocabPath
        self.model = model
        self.trainer = trainer
    }
}

/// `lmkit pretrain`: checks data, vocab and shape, builds the GPT and the loaders, copies the
/// vocab into the run directory and runs the `Trainer`.
///
/// Seeds (all from `--seed` S): model init `derive(S, 1)`, training loader `derive(S, 2)`,
/// validation windows `derive(S, 3)` (the same windows at every evaluation).
public enum Pretrain {
    /// Name of the vocab copy inside a run directory.
    public static let vocabFileName = "vocab.vocab"

    /// Runs the pretraining. `stopRequested` (default: Ctrl-C) is asked after every step.
    public static func run(_ params: PretrainParameters,
                           stopRequested: (@Sendable (Int) -> Bool)? = nil) throws -> TrainResult {
        var p = params.trainer
        let run = p.outputDirectory
        let statePath = run + "/" + TrainState<LoaderPosition, GPTConfig>.fileName
        let saved = try RunDirectory.savedState(in: run, resume: p.resume, as: TrainState<LoaderPosition, GPTConfig>.self)
        params.options.apply(to: &p, saved: saved?.hyper)
        try p.validate()

        // 1. Data and vocabulary must agree.
        let data = params.dataDirectory
        guard FileIO.isDirectory(data) else {
            throw LMError.io(file: data, "no such directory", fix: "pass the output directory of lmkit shard as --data")
        }
        let manifest = try Manifest.read(directory: data)
        if !manifest.complete {
            throw LMError.badInput(file: Manifest.path(directory: data), "the shard set is incomplete (lmkit shard did not finish)",
                                   fix: "re-run the same lmkit shard command to finish it")
        }
        let vocabPath = try resolveVocab(params.vocabPath, run: run, resume: p.resume, manifest: manifest, data: data)
        let vocab = try VocabularyFile.read(vocabPath)
        let shardsFingerprint = HexFingerprint.hex(manifest.vocabFingerprint)
        guard vocab.fingerprint == shardsFingerprint else {
            throw LMError.mismatch(file: vocabPath, "this vocab (fingerprint \(vocab.fingerprint)) is not the one the shards in \(data) were made with (\(shardsFingerprint))",
                                   fix: "pass the vocab used by lmkit shard, or re-shard with this one")
        }

        // 2. Model shape.
        let config = try resolveConfig(params.model, vocabSize: manifest.vocabSize, statePath: statePath)
        try config.validate()
        p.context = config.context
        if let saved {   // refuse a mismatched resume before touching anything
            if saved.config != config {
                throw LMError.mismatch(file: statePath, "the checkpoint is a model of another shape (\(GPT.describe(saved.config))) than the one requested (\(GPT.describe(config)))",
                                       fix: "resume without model options (or with the same ones), or start a new --out")
            }
            if saved.hyper != p.hyper {
                let probe = Trainer<GPT, DataLoader>.describeDifference(saved.hyper, p.hyper)
                throw LMError.mismatch(file: statePath, "the run was started with other training settings (\(probe))",
                                       fix: "resume with the options the run was started with, or leave them out")
            }
        }
        let trainTokens = manifest.train.map(\.tokens).reduce(0, +)
        let valTokens = manifest.val.map(\.tokens).reduce(0, +)
        p.dataFingerprint = "\(shardsFingerprint)-\(trainTokens)-\(valTokens)"
        if p.chartTitle == "lmkit pretrain" {
            p.chartTitle = "lmkit pretrain — \(GPT.describe(config)) — \((data as NSString).lastPathComponent)"
        }

        // 3. Model, loaders, vocab copy.
        BLAS.setThreads(p.threads)
        let model = GPT(config: config, seed: SeededRNG.derive(p.seed, 1))
        model.threads = p.threads
        let train = try DataLoader(directory: data, split: .train, batchSize: p.batchSize, context: p.context,
                                   seed: SeededRNG.derive(p.seed, 2))
        var validation: (() throws -> DataLoader)?
        if valTokens > p.context {
            let (b, t, seed) = (p.batchSize, p.context, SeededRNG.derive(p.seed, 3))
            validation = { try DataLoader(directory: data, split: .val, batchSize: b, context: t, seed: seed, prefetch: 1) }
        } else if !p.quiet {
            printError("pretrain: \(data) has no validation split; val loss is not measured (shard with --val-fraction)")
        }
        try RunDirectory.create(run)
        try RunDirectory.storeVocab(vocab, from: vocabPath, in: run)
        if params.measureSgemm { p.peakFlops = SgemmProbe.measure() }
        if !p.quiet {
            printError("pretrain: \(GPT.describe(config)); \(ProgressReporter.count(Double(trainTokens))) train / \(ProgressReporter.count(Double(valTokens))) val tokens" +
                       (p.peakFlops.map { String(format: "; sgemm %.0f GFLOP/s", $0 / 1e9) + " (\(BLAS.kernelDescription))" } ?? ""))
        }

        // 4. Train.
        InterruptFlag.shared.install()
        let trainer = Trainer(parameters: p, model: model, train: train, validation: validation)
        if let stopRequested { trainer.stopRequested = stopRequested }
        return try trainer.run()
    }

    static func resolveVocab(_ given: String?, run: String, resume: Bool, manifest: Manifest, data: String) throws -> String {
        if let given { return given }
        if resume, FileIO.exists(run + "/" + vocabFileName) { return run + "/" + vocabFileName }
        for key in ["vocab", "vocabPath", "vocab_path"] {
            if let v = manifest.config[key], FileIO.exists(v) { return v }
        }
        throw LMError.badInput(file: data, "the manifest does not name a vocab file that exists",
                               fix: "pass --vocab with the vocab the shards were made with")
    }

    static func resolveConfig(_ choice: ModelChoice, vocabSize: Int, statePath: String) throws -> GPTConfig {
        switch choice {
        case .preset(let name, let context):
            guard var c = GPTConfig.preset(named: name, vocabSize: vocabSize) else {
                throw LMError.badInput("unknown preset \(name)", fix: "use one of \(GPTConfig.presetNames.joined(separator: ", "))")
            }
            if let context { c.context = context }
            return c
        case .custom(let l, let h, let c, let t):
            return GPTConfig(layers: l, heads: h, channels: c, context: t, vocabSize: vocabSize)
        case .fromCheckpoint:
            let state = try TrainState<LoaderPosition, GPTConfig>.read(from: statePath)
            if state.config.vocabSize != vocabSize {
                throw LMError.mismatch(file: statePath, "the checkpoint has vocab size \(state.config.vocabSize), the shards \(vocabSize)",
                                       fix: "resume with the --data the run was started with")
            }
            return state.config
        }
    }
}

import ArgumentParser
import Foundation
import LMSupport
import LMTraining

/// `lmkit pretrain`: train a GPT on a shard directory.
struct PretrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pretrain",
        abstract: "Pretrain a GPT on token shards (AdamW, warmup + cosine, exact --resume).",
        discussion: """
            Writes RUN/model.safetensors + config.json (Hugging Face GPT-2 layout), vocab.vocab,
            optimizer.bin, state.json, metrics.jsonl and loss.svg; checkpoints every
            --checkpoint-every steps, at the end and on Ctrl-C. Examples:
              lmkit pretrain --data shards/ --out run/ --preset tiny --steps 2000
              lmkit pretrain --data shards/ --out run/ --layers 6 --heads 6 --dim 384 --context 256 --time 30
              lmkit pretrain --data shards/ --out run/ --resume
            """)

    @Option(help: "Shard directory written by lmkit shard.") var data: String
    @Option(help: "Run directory for checkpoints and metrics.") var out: String
    @Option(help: "Vocab the shards were made with (default: the one named in the manifest, or RUN/vocab.vocab on --resume).")
    var vocab: String?
    @Option(help: "Model preset: tiny (4L/4H/128, ctx 128), small (6L/6H/384, ctx 256), gpt2 (12L/12H/768, ctx 1024).")
    var preset: String?
    @Option(help: "Transformer blocks (with --heads and --dim instead of --preset).") var layers: Int?
    @Option(help: "Attention heads per block (must divide --dim).") var heads: Int?
    @Option(help: "Width of the residual stream (channels).") var dim: Int?
    @Option(help: "Context length T (tokens per training window); overrides a preset's.") var context: Int?
    @Option(help: "Windows per micro-batch (B; default 16).") var batch: Int?
    @Option(help: "Optimizer steps.") var steps: Int?
    @Option(help: "Training time budget in minutes (instead of --steps; the step count is fixed after timing the first steps).")
    var time: Double?
    @Option(name: .customLong("eval-every"), help: "Measure the val loss every N steps (0 = only at the end; default 100).")
    var evalEvery: Int?
    @Option(name: .customLong("eval-batches"), help: "Validation batches per evaluation (default 20).") var evalBatches: Int?
    @Option(name: .customLong("checkpoint-every"), help: "Checkpoint every N steps (0 = only at the end and on Ctrl-C).")
    var checkpointEvery: Int = 500
    @Option(help: "Seed for initialisation and data order (default 1337).") var seed: UInt64?
    @Flag(help: "Continue the run in --out from its last checkpoint, bit-identical to an uninterrupted run (options not given are taken from the run).")
    var resume = false
    @OptionGroup var optimizer: OptimizerOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        let shape = [layers, heads, dim].compactMap { $0 }
        if !shape.isEmpty && shape.count != 3 {
            throw ValidationError("--layers, --heads and --dim go together (or use --preset).")
        }
        if preset != nil && !shape.isEmpty { throw ValidationError("use either --preset or --layers/--heads/--dim, not both.") }
        if !shape.isEmpty && context == nil { throw ValidationError("--layers/--heads/--dim need --context.") }
        for (name, v) in [("--layers", layers), ("--heads", heads), ("--dim", dim), ("--context", context)] {
            if let v, v < 1 { throw ValidationError("\(name) must be at least 1 (got \(v)).") }
        }
        if let h = heads, let d = dim, d % h != 0 { throw ValidationError("--heads (\(h)) must divide --dim (\(d)).") }
        if steps == nil && time == nil && !resume { throw ValidationError("pass --steps N or --time MINUTES.") }
        if let s = steps, s < 1 { throw ValidationError("--steps must be at least 1 (got \(s)).") }
        if let t = time, !(t > 0) { throw ValidationError("--time must be a positive number of minutes (got \(t)).") }
        if let b = batch, b < 1 { throw ValidationError("--batch must be at least 1 (got \(b)).") }
        for (name, v) in [("--eval-every", evalEvery ?? 0), ("--eval-batches", evalBatches ?? 0), ("--checkpoint-every", checkpointEvery)] where v < 0 {
            throw ValidationError("\(name) must be 0 or more (got \(v)).")
        }
    }

    func run() throws {
        let t = common.trainerParameters(out: out, steps: steps, minutes: time, checkpointEvery: checkpointEvery, resume: resume)
        let o = optimizer.trainingOptions(batch: batch, seed: seed, evalEvery: evalEvery, evalBatches: evalBatches)
        let model: ModelChoice
        if let l = layers, let h = heads, let d = dim, let c = context {
            model = .custom(layers: l, heads: h, channels: d, context: c)
        } else if let preset {
            model = .preset(preset, context: context)
        } else if resume {
            model = .fromCheckpoint
        } else {
            model = .preset("tiny", context: context)
        }
        var p = PretrainParameters(dataDirectory: data, vocabPath: vocab, model: model, trainer: t)
        p.options = o
        let result = try Pretrain.run(p)
        RunOutcome.interrupted = result.stopReason == .interrupted
        var line = "steps \(result.steps)  stop \(result.stopReason.rawValue)"
        if let l = result.finalTrainLoss { line += String(format: "  train_loss %.4f", l) }
        if let v = result.finalValLoss { line += String(format: "  val_loss %.4f", v) }
        line += String(format: "  tokens_per_s %.0f  elapsed_s %.1f", result.tokensPerSecond, result.elapsedSeconds)
        print(line)
    }
}

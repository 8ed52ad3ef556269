import ArgumentParser
import Foundation
import LMSupport
import LMTraining

/// `lmkit reward …`: reward models from ranked answers (the step after SFT in RLHF).
struct RewardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reward",
        abstract: "Reward models: train on ranked answers (chosen vs rejected), evaluate ranking accuracy, score texts.",
        discussion: """
            Data: JSONL {"chosen": "...", "rejected": "..."} (Anthropic HH-RLHF's format: whole dialogues
            that differ in the last answer) or {"prompt", "chosen", "rejected"}. The model is a GPT plus a
            score head read at the last token (<|endoftext|> is appended); the loss is −log σ(r_chosen − r_rejected).
            The run directory loads in transformers as GPT2ForSequenceClassification (num_labels 1).
              lmkit reward train --checkpoint sft/ --data Corpora/preference/hh-rlhf-harmless-base-test.A.jsonl --out rm/ --epochs 1
              lmkit reward eval --checkpoint rm/ --data Corpora/preference/hh-rlhf-harmless-base-test.A.jsonl
              lmkit reward score --checkpoint rm/ "Human: hi\\n\\nAssistant: Hello! How can I help?"
            """,
        subcommands: [RewardTrainCommand.self, RewardEvalCommand.self, RewardScoreCommand.self])
}

/// `lmkit reward train`.
struct RewardTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a reward model from a pretrained or fine-tuned run (same trainer as pretrain: checkpoints, metrics.jsonl, loss.svg, exact --resume).")

    @Option(help: "Base run directory (lmkit pretrain or finetune output; its vocab.vocab is used).") var checkpoint: String
    @Option(help: "Preference pairs, JSONL {\"chosen\", \"rejected\"}.") var data: String
    @Option(help: "Run directory for the reward model.") var out: String
    @Option(name: .customLong("val-fraction"), help: "Fraction of pairs held out, chosen by content hash (default 0.1).")
    var valFraction: Double = 0.1
    @Option(name: .customLong("split-seed"), help: "Seed of the train/val split (default 0).") var splitSeed: UInt64 = 0
    @Option(help: "Passes over the training pairs (instead of --steps).") var epochs: Double?
    @Option(help: "Optimizer steps.") var steps: Int?
    @Option(help: "Training time budget in minutes.") var time: Double?
    @Option(help: "Pairs per micro-batch (P; the model sees 2·P sequences; default 8).") var batch: Int = 8
    @Option(name: .customLong("eval-every"), help: "Measure the val loss every N steps (0 = only at the end; default 50).")
    var evalEvery: Int?
    @Option(name: .customLong("eval-batches"), help: "Validation batches per evaluation (default: the whole val split).") var evalBatches: Int?
    @Option(name: .customLong("checkpoint-every"), help: "Checkpoint every N steps (0 = only at the end and on Ctrl-C).")
    var checkpointEvery: Int = 200
    @Option(help: "Seed of the data order (default 1337).") var seed: UInt64?
    @Flag(help: "Continue the run in --out from its last checkpoint, bit-identical to an uninterrupted run.") var resume = false
    @OptionGroup var optimizer: OptimizerOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        if !resume && steps == nil && time == nil && epochs == nil {
            throw ValidationError("pass --epochs N, --steps N or --time MINUTES.")
        }
        if let s = steps, s < 1 { throw ValidationError("--steps must be at least 1 (got \(s)).") }
        if let e = epochs, !(e > 0) { throw ValidationError("--epochs must be positive (got \(e)).") }
        if let t = time, !(t > 0) { throw ValidationError("--time must be a positive number of minutes (got \(t)).") }
        if batch < 1 { throw ValidationError("--batch must be at least 1 pair (got \(batch)).") }
        if !(valFraction >= 0 && valFraction < 1) { throw ValidationError("--val-fraction must be in [0, 1) (got \(valFraction)).") }
    }

    func run() throws {
        let t = common.trainerParameters(out: out, steps: steps, minutes: time, checkpointEvery: checkpointEvery, resume: resume)
        let o = optimizer.trainingOptions(batch: nil, seed: seed, evalEvery: evalEvery, evalBatches: evalBatches)
        var p = RewardTrainParameters(baseCheckpoint: checkpoint, dataPath: data, trainer: t)
        p.valFraction = valFraction
        p.splitSeed = splitSeed
        p.epochs = resume ? nil : epochs
        p.pairsPerBatch = batch
        p.options = o
        let r = try RewardTrain.run(p)
        RunOutcome.interrupted = r.train.stopReason == .interrupted
        var line = "steps \(r.train.steps)  stop \(r.train.stopReason.rawValue)"
        if let l = r.train.finalTrainLoss { line += String(format: "  train_loss %.4f", l) }
        if let a = r.validation {
            line += String(format: "  val_accuracy %.4f  val_pairs %d  val_loss %.4f  val_margin %.4f", a.accuracy, a.pairs, a.loss, a.meanMargin)
        }
        line += String(format: "  tokens_per_s %.0f  elapsed_s %.1f", r.train.tokensPerSecond, r.train.elapsedSeconds)
        print(line)
    }
}

/// `lmkit reward eval`.
struct RewardEvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Ranking accuracy of a reward model on held-out pairs (the split reward train held out) or on all pairs.")

    @Option(help: "Reward model run directory.") var checkpoint: String
    @Option(help: "Preference pairs, JSONL {\"chosen\", \"rejected\"}.") var data: String
    @Option(help: "Tokenizer (default: CHECKPOINT/vocab.vocab).") var vocab: String?
    @Option(name: .customLong("val-fraction"), help: "Held-out fraction used in training (default 0.1).") var valFraction: Double = 0.1
    @Option(name: .customLong("split-seed"), help: "Split seed used in training (default 0).") var splitSeed: UInt64 = 0
    @Flag(help: "Score every pair of the file, not only the held-out ones.") var all = false
    @Option(help: "Sequences per forward pass (default 16).") var batch: Int = 16
    @Flag(help: "Print one JSON object.") var json = false
    @OptionGroup var common: CommonOptions

    func validate() throws {
        if batch < 2 { throw ValidationError("--batch must be at least 2 (got \(batch)).") }
        if !(valFraction > 0 && valFraction < 1) && !all { throw ValidationError("--val-fraction must be in (0, 1) (got \(valFraction)); or pass --all.") }
    }

    func run() throws {
        let scorer = try RewardScorer(checkpoint: checkpoint, vocabPath: vocab, threads: common.resolvedThreads)
        let a = try scorer.evaluate(dataPath: data, valFraction: valFraction, splitSeed: splitSeed, all: all, batchSize: batch)
        if json {
            let obj: [String: Any] = ["checkpoint": checkpoint, "data": data, "pairs": a.pairs, "correct": a.correct,
                                      "accuracy": a.accuracy, "loss": a.loss, "mean_margin": a.meanMargin,
                                      "split": all ? "all" : "held-out"]
            let d = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
            print(String(decoding: d, as: UTF8.self))
        } else {
            print(String(format: "accuracy %.4f  (%d/%d %@ pairs)  loss %.4f nats/pair  mean_margin %.4f",
                         a.accuracy, a.correct, a.pairs, all ? "" : "held-out", a.loss, a.meanMargin))
        }
    }
}

/// `lmkit reward score`.
struct RewardScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Print the reward of each text (one number per line, in order; higher = preferred).")

    @Option(help: "Reward model run directory.") var checkpoint: String
    @Option(help: "Tokenizer (default: CHECKPOINT/vocab.vocab).") var vocab: String?
    @Argument(help: "Texts to score.") var texts: [String] = []
    @Option(help: "Also score the whole content of this file as one text (repeatable).") var file: [String] = []
    @Flag(help: "Print a JSON array of {\"text\", \"reward\"}.") var json = false
    @OptionGroup var common: CommonOptions

    func validate() throws {
        if texts.isEmpty && file.isEmpty { throw ValidationError("pass one or more TEXT arguments or --file F.") }
    }

    func run() throws {
        let scorer = try RewardScorer(checkpoint: checkpoint, vocabPath: vocab, threads: common.resolvedThreads)
        var all = texts
        for f in file {
            guard FileIO.exists(f) else { throw LMError.io(file: f, "no such file", fix: "check the --file path") }
            all.append(try FileIO.readText(f))
        }
        let r = try scorer.score(all)
        if json {
            let obj = zip(all, r).map { ["text": $0.0, "reward": Double($0.1)] as [String: Any] }
            let d = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
            print(String(decoding: d, as: UTF8.self))
        } else {
            for x in r { print(String(format: "%.6f", x)) }
        }
    }
}

import ArgumentParser
import Foundation
import LMSupport
import LMTraining

/// `lmkit finetune`: supervised fine-tuning on conversations (loss on assistant tokens only).
struct FinetuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Fine-tune a GPT on conversations (SFT): loss on the assistant's tokens only, same trainer as pretrain.",
        discussion: """
            Data: JSONL {"messages":[{"role":"system|user|assistant","content":"..."}]} or Alpaca
            records {"instruction","input","output"} (JSONL or a JSON array). The vocab must have the
            chat tokens (lmkit vocab add-special); the model's embedding/head grows to match.
            Writes RUN like lmkit pretrain (checkpoints, metrics.jsonl, loss.svg, exact --resume).
              lmkit vocab add-special --vocab base/vocab.vocab --output chat.vocab
              lmkit finetune --checkpoint base/ --vocab chat.vocab --data Corpora/sft/code_alpaca_2k.json --out sft/ --epochs 3 --skip-long
              lmkit finetune --checkpoint sft/ --data Corpora/sft/code_alpaca_2k.json --skip-long --evaluate
            """)

    @Option(help: "Base run directory (lmkit pretrain output).") var checkpoint: String
    @Option(help: "SFT data: chat JSONL, or Alpaca JSON/JSONL.") var data: String
    @Option(help: "Run directory for the fine-tuned model (not needed with --evaluate).") var out: String?
    @Option(help: "Vocab with the chat tokens (default: CHECKPOINT/vocab.vocab, which must have them).") var vocab: String?
    @Option(name: .customLong("val-fraction"), help: "Fraction of conversations held out, chosen by content hash (default 0.1).")
    var valFraction: Double = 0.1
    @Option(name: .customLong("split-seed"), help: "Seed of the train/val split (default 0).") var splitSeed: UInt64 = 0
    @Flag(name: .customLong("skip-long"), help: "Leave out conversations longer than the model's context (default: fail naming the record).")
    var skipLong = false
    @Option(help: "Passes over the training conversations (instead of --steps).") var epochs: Double?
    @Option(help: "Optimizer steps.") var steps: Int?
    @Option(help: "Training time budget in minutes.") var time: Double?
    @Option(help: "Rows (packed conversations) per micro-batch (B; default 16).") var batch: Int?
    @Option(name: .customLong("eval-every"), help: "Measure the val loss every N steps (0 = only at the end; default 50).")
    var evalEvery: Int?
    @Option(name: .customLong("eval-batches"), help: "Validation batches per evaluation (default: the whole val split).") var evalBatches: Int?
    @Option(name: .customLong("checkpoint-every"), help: "Checkpoint every N steps (0 = only at the end and on Ctrl-C).")
    var checkpointEvery: Int = 200
    @Option(help: "Seed for new embedding rows and data order (default 1337).") var seed: UInt64?
    @Flag(help: "Continue the run in --out from its last checkpoint, bit-identical to an uninterrupted run.") var resume = false
    @Flag(help: "Do not train: measure CHECKPOINT's assistant-token loss on the held-out conversations and how many replies end with <|end|>.")
    var evaluate = false
    @Option(help: "With --evaluate: held-out prompts to answer (default: all; 0 = none).") var replies: Int?
    @Option(name: .customLong("max-tokens"), help: "With --evaluate: token limit per reply, at most the room left in the context (default 128).") var maxTokens: Int = 128
    @Option(help: "With --evaluate: sampling temperature for the replies (default 0 = greedy).") var temperature: Double = 0
    @Flag(help: "With --evaluate: print one JSON object.") var json = false
    @OptionGroup var optimizer: OptimizerOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        if !evaluate && out == nil { throw ValidationError("pass --out RUN (or --evaluate).") }
        if !evaluate && !resume && steps == nil && time == nil && epochs == nil {
            throw ValidationError("pass --epochs N, --steps N or --time MINUTES.")
        }
        if let s = steps, s < 1 { throw ValidationError("--steps must be at least 1 (got \(s)).") }
        if let e = epochs, !(e > 0) { throw ValidationError("--epochs must be positive (got \(e)).") }
        if let t = time, !(t > 0) { throw ValidationError("--time must be a positive number of minutes (got \(t)).") }
        if let b = batch, b < 1 { throw ValidationError("--batch must be at least 1 (got \(b)).") }
        if !(valFraction >= 0 && valFraction < 1) { throw ValidationError("--val-fraction must be in [0, 1) (got \(valFraction)).") }
        if maxTokens < 1 { throw ValidationError("--max-tokens must be at least 1 (got \(maxTokens)).") }
        if let r = replies, r < 0 { throw ValidationError("--replies must be 0 or more (got \(r)).") }
    }

    func run() throws {
        if evaluate { return try runEvaluation() }
        let t = common.trainerParameters(out: out!, steps: steps, minutes: time, checkpointEvery: checkpointEvery, resume: resume)
        let o = optimizer.trainingOptions(batch: batch, seed: seed, evalEvery: evalEvery, evalBatches: evalBatches)
        var p = FinetuneParameters(baseCheckpoint: checkpoint, dataPath: data, trainer: t)
        p.vocabPath = vocab
        p.valFraction = valFraction
        p.splitSeed = splitSeed
        p.skipLong = skipLong
        p.epochs = resume ? nil : epochs
        p.options = o
        let r = try Finetune.run(p)
        RunOutcome.interrupted = r.train.stopReason == .interrupted
        var line = "steps \(r.train.steps)  stop \(r.train.stopReason.rawValue)"
        if let l = r.train.finalTrainLoss { line += String(format: "  train_loss %.4f", l) }
        if let v = r.valAssistantLoss { line += String(format: "  val_assistant_loss %.4f", v) }
        line += String(format: "  padding %.3f  tokens_per_s %.0f  elapsed_s %.1f", r.paddingFraction, r.train.tokensPerSecond, r.train.elapsedSeconds)
        print(line)
    }

    func runEvaluation() throws {
        var p = SFTEvaluationParameters(checkpoint: checkpoint, dataPath: data)
        p.vocabPath = vocab
        p.valFraction = valFraction
        p.splitSeed = splitSeed
        p.skipLong = skipLong
        p.seed = seed ?? 1337
        p.replies = replies
        p.maxTokens = maxTokens
        p.sampling = SamplingParameters(temperature: temperature)
        p.batchSize = batch ?? 16
        p.threads = common.resolvedThreads
        let r = try SFTEvaluation.run(p)
        if json {
            let obj: [String: Any] = [
                "checkpoint": checkpoint, "val_conversations": r.valConversations,
                "val_assistant_tokens": r.valAssistantTokens, "val_assistant_loss": r.valAssistantLoss,
                "replies": r.stop.replies, "ended_with_end": r.stop.ended, "end_fraction": r.stop.replies > 0 ? r.stop.fraction : NSNull(),
                "skipped_prompts": r.stop.skipped, "scored_replies": r.stop.scoredReplies, "scored_ended_with_end": r.stop.scoredEnded, "held_out_long_conversations": r.longHeldOut, "max_tokens": maxTokens, "grown_vocab": r.grown,
                "mean_reply_tokens": r.stop.replies > 0 ? Double(r.stop.replyTokens) / Double(r.stop.replies) : NSNull(),
                "examples": r.stop.examples,
            ]
            let d = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
            print(String(decoding: d, as: UTF8.self))
        } else {
            print(String(format: "val_assistant_loss %.4f  (%d tokens, %d held-out conversations", r.valAssistantLoss,
                         r.valAssistantTokens, r.valConversations) + (r.grown ? "; base model grown for the chat tokens)" : ")"))
            if r.stop.replies > 0 {
                print(String(format: "ended_with_end %d/%d = %.1f%%  (held-out prompts: %d of scored conversations, %d of conversations too long to score; limit min(%d, context − prompt) tokens; %d prompts filling the context skipped; mean reply %.1f tokens)",
                             r.stop.ended, r.stop.replies, 100 * r.stop.fraction, r.stop.scoredReplies, r.stop.replies - r.stop.scoredReplies, maxTokens, r.stop.skipped,
                             Double(r.stop.replyTokens) / Double(r.stop.replies)))
                print("  of which prompts of the scored (in-context) conversations: \(r.stop.scoredEnded)/\(r.stop.scoredReplies)")
            }
        }
    }
}

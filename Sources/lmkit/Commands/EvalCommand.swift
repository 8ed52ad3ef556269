import ArgumentParser
import Foundation
import LMSupport
import LMTraining

/// `lmkit eval`: loss per token and bits per byte of a checkpoint on a text.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Mean loss per token and bits per byte over a shard directory's val split or a text file.",
        discussion: """
            Also loads a directory written by transformers' GPT2LMHeadModel.save_pretrained
            (safetensors), with --vocab supplying the tokenizer:
              lmkit eval --checkpoint run/ --data shards/ --json
              lmkit eval --checkpoint hf-gpt2/ --vocab Vocab/gpt2.vocab --text-file Corpora/tinyshakespeare.txt
            """)

    @Option(help: "Run directory or transformers save_pretrained directory.") var checkpoint: String
    @Option(help: "Shard directory: its val split is scored (the train split if it has no val).") var data: String?
    @Option(name: .customLong("text-file"), help: "UTF-8 text file to score.") var textFile: String?
    @Option(help: "Vocab file (default: CHECKPOINT/vocab.vocab).") var vocab: String?
    @Option(help: "Windows per forward pass.") var batch: Int = 8
    @Option(help: "Window length (default: the model's context).") var context: Int?
    @Flag(help: "Print the result as one JSON object.") var json = false
    @OptionGroup var common: CommonOptions

    func validate() throws {
        if (data == nil) == (textFile == nil) { throw ValidationError("pass exactly one of --data DIR and --text-file FILE.") }
        if batch < 1 { throw ValidationError("--batch must be at least 1 (got \(batch)).") }
        if let c = context, c < 1 { throw ValidationError("--context must be at least 1 (got \(c)).") }
    }

    func run() throws {
        var p = EvaluationParameters(checkpoint: checkpoint)
        p.dataDirectory = data
        p.textFile = textFile
        p.vocabPath = vocab
        p.batchSize = batch
        p.context = context
        p.threads = common.resolvedThreads
        p.quiet = common.quiet || json
        let r = try Evaluation.run(p)
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try e.encode(r), as: UTF8.self))
        } else {
            print("\(r.source): " + String(format: "loss %.4f nats/token  %.4f bits/byte  perplexity %.2f  (%d tokens, %d bytes)",
                                           r.loss, r.bitsPerByte, r.perplexity, r.tokens, r.bytes))
        }
    }
}

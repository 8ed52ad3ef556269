import Foundation
import LMData
import LMKernels
import LMModel
import LMSupport
import LMTokenizer

/// What `lmkit eval` needs.
public struct EvaluationParameters: Sendable {
    /// An lmkit run directory or a transformers `save_pretrained` directory.
    public var checkpoint: String
    /// Shard directory whose val split is scored (or `textFile`).
    public var dataDirectory: String?
    /// A UTF-8 text file to score (or `dataDirectory`).
    public var textFile: String?
    /// Vocab; nil = `CHECKPOINT/vocab.vocab`.
    public var vocabPath: String?
    /// Windows per forward pass.
    public var batchSize: Int = 8
    /// Window length T (nil = the model's context).
    public var context: Int?
    public var threads: Int = Threads.available
    public var quiet = false

    public init(checkpoint: String) { self.checkpoint = checkpoint }
}

/// Scores of a model on a text.
public struct EvaluationResult: Codable, Sendable {
    /// What was scored (file or directory + split).
    public var source: String
    /// Tokens whose loss was measured (every token but the first of each window run).
    public var tokens: Int
    /// UTF-8 bytes those tokens decode to (special tokens count 0).
    public var bytes: Int
    /// Mean cross-entropy, nats per token.
    public var loss: Double
    /// loss / ln 2 · tokens / bytes: bits per byte, comparable across tokenizers.
    public var bitsPerByte: Double
    /// exp(loss).
    public var perplexity: Double

    enum CodingKeys: String, CodingKey {
        case source, tokens, bytes, loss, perplexity
        case bitsPerByte = "bits_per_byte"
    }
}

/// `lmkit eval`: mean loss per token and bits per byte, over non-overlapping windows of T+1
/// tokens (stride T) so that every token after the first is predicted exactly once, with up
/// to T tokens of context (windows do not cross shards).
public enum Evaluation {
    public static func run(_ p: EvaluationParameters) throws -> EvaluationResult {
        if (p.dataDirectory == nil) == (p.textFile == nil) {
            throw LMError.badInput("pass exactly one of --data and --text-file")
        }
        if p.batchSize < 1 { throw LMError.badInput("--batch must be at least 1 (got \(p.batchSize))") }
        BLAS.setThreads(p.threads)
        let (model, tokenizer) = try CheckpointLoader.load(p.checkpoint, vocabPath: p.vocabPath)
        model.threads = p.threads
        let T = p.context ?? model.config.context
        if T < 1 || T > model.config.context {
            throw LMError.badInput("--context must be in 1...\(model.config.context) (got \(T))")
        }
        var sequences: [[Int32]] = []
        var source = ""
        if let dir = p.dataDirectory {
            let manifest = try Manifest.read(directory: dir)
            let fp = HexFingerprint.hex(manifest.vocabFingerprint)
            guard fp == tokenizer.vocabulary.fingerprint else {
                throw LMError.mismatch(file: dir, "the shards were made with another vocab (fingerprint \(fp), the model's vocab \(tokenizer.vocabulary.fingerprint))",
                                       fix: "pass --vocab with the shards' vocab, or evaluate on a --text-file")
            }
            var entries = manifest.val
            source = dir + " (val)"
            if entries.isEmpty {
                entries = manifest.train
                source = dir + " (train: no val split)"
            }
            for e in entries {
                let r = try ShardReader(path: (dir as NSString).appendingPathComponent(e.file))
                sequences.append(try r.readAll().map { Int32(bitPattern: $0) })
            }
        } else if let file = p.textFile {
            let text = try FileIO.readText(file)
            sequences = [tokenizer.encodeOrdinary(text).map { Int32($0) }]
            source = file
        }
        let byteLengths = tokenBytes(tokenizer.vocabulary, limit: model.config.vocabSize)
        for s in sequences {
            if let bad = s.first(where: { Int($0) >= model.config.vocabSize || $0 < 0 }) {
                throw LMError.mismatch(file: source, "token id \(bad) is outside the model's vocabulary (\(model.config.vocabSize))",
                                       fix: "evaluate with the vocab the model was trained with")
            }
        }
        var lossSum = 0.0, tokens = 0, bytes = 0
        let progress = ProgressReporter(label: "eval", total: Int64(sequences.map { max(0, $0.count - 1) }.reduce(0, +)),
                                        unit: .tokens, quiet: p.quiet)
        for s in sequences where s.count >= 2 {
            let full = (s.count - 1) / T
            var w = 0
            while w < full {
                let rows = min(p.batchSize, full - w)
                var x: [Int32] = [], y: [Int32] = []
                x.reserveCapacity(rows * T); y.reserveCapacity(rows * T)
                for r in 0..<rows {
                    let o = (w + r) * T
                    x += s[o..<(o + T)]; y += s[(o + 1)..<(o + T + 1)]
                }
                let loss = model.forward(inputs: x, targets: y, batch: rows, time: T)
                lossSum += Double(loss) * Double(rows * T)
                tokens += rows * T
                for id in y { bytes += byteLengths[Int(id)] }
                progress.advance(by: Int64(rows * T))
                w += rows
            }
            let tail = (s.count - 1) - full * T
            if tail > 0 {
                let o = full * T
                let x = Array(s[o..<(o + tail)]), y = Array(s[(o + 1)..<(o + tail + 1)])
                let loss = model.forward(inputs: x, targets: y, batch: 1, time: tail)
                lossSum += Double(loss) * Double(tail)
                tokens += tail
                for id in y { bytes += byteLengths[Int(id)] }
                progress.advance(by: Int64(tail))
            }
        }
        progress.finish()
        guard tokens > 0 else {
            throw LMError.badInput(file: source, "has fewer than 2 tokens to score", fix: "evaluate a longer text")
        }
        let loss = lossSum / Double(tokens)
        guard loss.isFinite else {
            throw LMError(.numeric, file: p.checkpoint, "the loss is \(loss)", fix: "the checkpoint's weights are not finite")
        }
        return EvaluationResult(source: source, tokens: tokens, bytes: bytes, loss: loss,
                                bitsPerByte: bytes > 0 ? loss / log(2) * Double(tokens) / Double(bytes) : .nan,
                                perplexity: exp(loss))
    }

    /// UTF-8 length of every id below `limit` (special tokens and unused ids: 0).
    static func tokenBytes(_ v: Vocabulary, limit: Int) -> [Int] {
        var out = [Int](repeating: 0, count: max(limit, v.idLimit))
        for (id, t) in v.tokens.enumerated() { out[id] = t.count }
        return out
    }
}

import ArgumentParser
import Foundation
import LMCorpus
import LMData
import LMSupport
import LMTokenizer

/// `lmkit shard`: text corpora → token shards (`.lmshard` + `manifest.json`) for pretraining.
struct ShardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shard",
        abstract: "Tokenize corpora into zstd-compressed, checksummed token shards for training.",
        discussion: """
            Inputs: .txt (documents separated by lines holding only <|endoftext|>, or one file = one document with --doc-separator file), .jsonl/.json (--text-field), directories (recursive), each plain or .zst/.gz. Every document is encoded (special-token text as ordinary text) and ends with the vocabulary's <|endoftext|> id. Re-running the same command resumes: finished shards are verified and kept. Format: docs/SHARD_FORMAT.md.

              lmkit shard --vocab Vocab/gpt2.vocab --input corpus.txt.zst --output shards/ --val-fraction 0.01
            """)

    @Option(name: .long, help: "Vocabulary (.vocab, or any importable file: .tiktoken, encoder.json, tokenizer.json).")
    var vocab: String

    @Option(name: .long, parsing: .upToNextOption, help: "Input files or directories (repeatable).")
    var input: [String]

    @Option(name: .long, help: "Output directory (created; an existing one made by the same command is resumed).")
    var output: String

    @Option(name: .long, help: "JSON field holding the text in .jsonl/.json records.")
    var textField: String = "text"

    @Option(name: .long, help: "How .txt files are cut into documents: eot (lines holding only <|endoftext|>) or file (one file = one document).")
    var docSeparator: String = "eot"

    @Option(name: .long, help: "Close a shard at the first document end after this many tokens.")
    var shardTokens: Int = 1 << 24

    @Option(name: .long, help: "Fraction of documents (0 ≤ F < 1) that go to the validation split.")
    var valFraction: Double = 0

    @Option(name: .long, help: "Seed of the train/validation split by document.")
    var splitSeed: UInt64 = 0

    @Option(name: .long, help: "zstd compression level (1-19; 1 is fastest, 3 ~5% smaller, 19 ~27% smaller and ~100x slower).")
    var level: Int = ShardFormat.defaultLevel

    @Option(name: .long, help: "Tokens per zstd frame (the unit of random access and checksums).")
    var frameTokens: Int = ShardFormat.defaultFrameTokens

    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard docSeparator == "eot" || docSeparator == "file" else {
            throw ValidationError("--doc-separator must be eot or file (got \(docSeparator)).")
        }
        guard shardTokens >= 1 else { throw ValidationError("--shard-tokens must be at least 1.") }
        guard frameTokens >= 1 && frameTokens <= 1 << 24 else { throw ValidationError("--frame-tokens must be in 1...16777216.") }
        guard valFraction >= 0 && valFraction < 1 else { throw ValidationError("--val-fraction must be in [0, 1) (got \(valFraction)).") }
        guard (1...19).contains(level) else { throw ValidationError("--level must be in 1...19 (got \(level)).") }
        guard !input.isEmpty else { throw ValidationError("pass at least one --input.") }
    }

    func run() throws {
        // Build the tokenizer's lazy tables while the vocabulary loads (not inside the first encode).
        Thread.detachNewThread { TokenizerWarmup.prepare() }
        let vocabulary = try VocabularyImport(input: vocab).run()
        guard let eot = vocabulary.specialID(endOfTextSeparator) else {
            throw LMError.badInput(file: vocab, "the vocabulary has no \(endOfTextSeparator) special token",
                                   fix: "use a vocabulary with one (lmkit vocab train adds it)")
        }
        let tokenizer = try BPETokenizer(vocabulary)
        let options = CorpusOptions(textField: textField, splitAtEndOfText: docSeparator == "eot")
        let files = try CorpusInputs.resolve(input)
        var p = Sharder.Parameters(output: output, vocabSize: vocabulary.idLimit,
                                   vocabFingerprint: UInt64(vocabulary.fingerprint, radix: 16) ?? 0,
                                   endOfTextID: UInt32(eot))
        p.shardTokens = shardTokens
        p.frameTokens = frameTokens
        p.valFraction = valFraction
        p.splitSeed = splitSeed
        p.level = level
        p.threads = common.resolvedThreads
        p.quiet = common.quiet
        p.command = CommandLine.arguments.joined(separator: " ")
        p.config = ["inputs": files.map { "\($0.path) (\($0.sizeOnDisk) bytes)" }.joined(separator: "\n"),
                    "textField": textField, "docSeparator": docSeparator]
        let source = CorpusDocuments(files: files, options: options)
        // LMCorpus documents are valid UTF-8 (it refuses invalid input with the byte offset), so
        // the encoder's validation pass is skipped; ids equal `lmkit tokenize --special-as-text`.
        let s = try Sharder.run(p, source: source, encode: { bytes in
            var out: [UInt32] = []
            out.reserveCapacity(bytes.count / 3 + 16)
            bytes.withUnsafeBytes { tokenizer.encodeValidUTF8($0, appendingTo: &out) }
            return out
        })
        if !common.quiet && !s.stageCPUSeconds.isEmpty {
            let stages = ["read", "encode", "compress", "write"].map { "\($0) \(String(format: "%.2f", s.stageCPUSeconds[$0] ?? 0))" }
            printError("shard: CPU seconds by stage: \(stages.joined(separator: ", ")) (\(String(format: "%.2f", s.seconds)) s wall)")
        }
        print("\(output): \(s.documents) documents, train \(s.trainTokens) tokens, val \(s.valTokens) tokens, "
              + "\(s.bytesOnDisk) bytes on disk (\(s.shardsMade) shards made, \(s.shardsKept) kept)")
    }
}

/// LMCorpus documents as the sharder's `DocumentSource`.
struct CorpusDocuments: DocumentSource {
    var files: [CorpusFile]
    var options: CorpusOptions
    var totalBytes: Int64? { CorpusSize.estimate(files) }
    func forEachDocument(_ body: ([UInt8]) throws -> Void) throws {
        let reader = CorpusDocumentReader(files: files, options: options)
        while let d = try reader.next() { try body(d.bytes) }
    }
}

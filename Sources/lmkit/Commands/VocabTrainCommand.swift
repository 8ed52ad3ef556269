import ArgumentParser
import Foundation
import LMCorpus
import LMSupport
import LMTokenizer

/// `lmkit vocab train`: trains a byte-level BPE vocabulary on a corpus.
///
/// The command only validates options and connects the corpus reader (LMCorpus) to the trainer
/// (LMTokenizer), which know nothing of each other.
struct VocabTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a byte-level BPE vocabulary (GPT-2/GPT-4 style) on text files.",
        discussion: """
            Inputs are files or directories (walked recursively, in sorted order) of .txt, .jsonl \
            (one JSON object per line, text in --text-field) or .json (an array of objects), each \
            optionally compressed as .zst or .gz. The corpus is streamed, never loaded whole.

            Ties between equally frequent pairs go to the smallest (left id, right id), as in \
            rustbpe; the same input always gives the same vocabulary, whatever --threads is.

            Examples:
              lmkit vocab train --input Corpora/tinyshakespeare.txt --vocab-size 4096 --output Vocab/shakespeare-4k.vocab
              lmkit vocab train --input books/ --split-documents --vocab-size 32768 --special '<|endoftext|>' --output books.vocab
            """)

    @Option(name: .long, parsing: .upToNextOption,
            help: "Corpus files or directories (.txt, .jsonl, .json; plain, .zst or .gz).")
    var input: [String] = []

    @Option(name: .long, help: "Total ids: 256 byte tokens + merges + special tokens.")
    var vocabSize: Int

    @Option(name: .long, help: ArgumentHelp(
        "Split pattern: gpt4 (cl100k, default), gpt2 (r50k), o200k, or any other regex.",
        discussion: "A regex other than the three built-in ones runs on the regex engine (NSRegularExpression, ~10 MB/s per core instead of ~300) and is stored in the .vocab, so that encoding with it splits the same way. Long inputs are cut into chunks after a newline that is followed by an ASCII letter; a custom regex whose matches can run across such a point counts the pieces there as if the text were cut."))
    var pattern: String = "gpt4"

    @Option(name: .long, parsing: .singleValue,
            help: "A special token (e.g. '<|endoftext|>'); repeatable. Ids follow the merges, in order; its text is not trained on.")
    var special: [String] = []

    @Option(name: .long, help: "JSON field holding the text in .jsonl/.json inputs.")
    var textField: String = "text"

    @Flag(name: .long, help: "In .txt inputs, end a document at each line holding only <|endoftext|> (default: one document per file).")
    var splitDocuments = false

    @Option(name: .long, help: "Where to write the vocabulary (default: <first input name>-<vocab size>.vocab).")
    var output: String?

    @OptionGroup var common: CommonOptions

    @Flag(name: .long, help: "Print a JSON summary on stdout (output path, sizes, timings).")
    var json = false

    func validate() throws {
        if input.isEmpty { throw ValidationError("Give at least one --input file or directory.") }
        if vocabSize < 1 { throw ValidationError("--vocab-size must be positive (got \(vocabSize)).") }
        if pattern.isEmpty { throw ValidationError("--pattern must not be empty (gpt4, gpt2, o200k or a regex).") }
        let split = SplitPattern(name: pattern)
        if case .custom = split, (try? RegexPreTokenizer(pattern: split)) == nil {
            throw ValidationError("--pattern \(pattern) does not compile as a regex: fix it, or use gpt4, gpt2 or o200k.")
        }
        if textField.isEmpty { throw ValidationError("--text-field must not be empty.") }
    }

    /// The output path: `--output`, or `<stem of the first input>-<vocab size>.vocab`.
    var outputPath: String {
        if let output { return output }
        var stem = ((input[0] as NSString).lastPathComponent as NSString)
        while stem.pathExtension != "" { stem = stem.deletingPathExtension as NSString }
        return "\(stem)-\(vocabSize).vocab"
    }

    func run() throws {
        let trainer = try BPETrainer(.init(vocabSize: vocabSize, pattern: SplitPattern(name: pattern),
                                           specialTokens: special, threads: common.resolvedThreads,
                                           quiet: common.quiet))
        if case .custom = trainer.parameters.pattern, !common.quiet {
            printError("vocab train: --pattern is a custom regex: it runs on the regex engine (~10 MB/s per core; the built-in gpt4, gpt2 and o200k run ~30× faster)")
        }
        let path = outputPath
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty && !FileIO.isDirectory(dir) {  // fail before training, not after
            throw LMError.io(file: path, "the directory \(dir) does not exist", fix: "create it first or choose another --output")
        }
        let reader = try CorpusChunkReader(inputs: input, options: .init(textField: textField,
                                                                          splitAtEndOfText: splitDocuments))
        let result = try trainer.train(totalBytes: reader.totalInputBytes) {
            try reader.next().map { BPETrainer.TextChunk($0.bytes, documentStarts: $0.documentStarts) }
        }
        try VocabularyFile.write(result.vocabulary, to: path)  // atomic: temp file + rename
        let s = result.statistics
        if json {
            let summary = VocabTrainSummary(
                output: path, vocabSize: result.vocabulary.idLimit, ranks: result.vocabulary.rankCount,
                specialTokens: special, inputFiles: reader.files.count, inputBytes: s.inputBytes,
                pieces: s.pieces, uniquePieces: s.uniquePieces, merges: s.merges,
                countingSeconds: s.countingSeconds, mergingSeconds: s.mergingSeconds,
                countingMBPerSecond: s.bytesPerSecond / 1e6, mergesPerSecond: s.mergesPerSecond)
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys]
            StandardOutput.shared.write(String(decoding: try enc.encode(summary), as: UTF8.self) + "\n")
        } else if !common.quiet {
            printError("vocab train: wrote \(path): \(result.vocabulary.idLimit) ids (\(s.merges) merges, \(special.count) special) from \(ProgressReporter.bytes(Double(s.inputBytes))) in \(String(format: "%.1f", s.countingSeconds + s.mergingSeconds)) s")
        }
        if result.vocabulary.idLimit < vocabSize {
            printError("vocab train: warning: the corpus ran out of pairs after \(s.merges) merges; the vocabulary has \(result.vocabulary.idLimit) ids, not \(vocabSize)")
        }
    }
}

/// The `--json` summary of `vocab train`.
struct VocabTrainSummary: Codable {
    var output: String
    var vocabSize: Int
    var ranks: Int
    var specialTokens: [String]
    var inputFiles: Int
    var inputBytes: Int64
    var pieces: Int64
    var uniquePieces: Int
    var merges: Int
    var countingSeconds: Double
    var mergingSeconds: Double
    var countingMBPerSecond: Double
    var mergesPerSecond: Double
}

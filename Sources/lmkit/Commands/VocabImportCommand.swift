import ArgumentParser
import Foundation
import LMSupport
import LMTokenizer

/// `lmkit vocab import`: tiktoken / GPT-2 / tokenizer.json → native `.vocab`.
struct VocabImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Convert a tiktoken, GPT-2 or tokenizer.json vocabulary to a native .vocab file.",
        discussion: """
            tiktoken rank files carry no pattern or special tokens: for r50k_base / cl100k_base they come from tiktoken's definitions (guessed from the file name, or --encoding); otherwise pass --pattern and --special.

              lmkit vocab import r50k_base.tiktoken -o Vocab/gpt2.vocab
              lmkit vocab import gpt2-encoder.json --merges gpt2-vocab.bpe \\
                  -o gpt2.vocab
              lmkit vocab import tokenizer.json -o my.vocab
              lmkit vocab import ranks.tiktoken --pattern gpt4 \\
                  --special '<|endoftext|>=100257' -o my.vocab
            """)

    @Argument(help: "The file to import (for GPT-2 files: encoder.json).")
    var input: String

    @Option(name: .long, help: "Input format: tiktoken, gpt2, hf or lmkit (default: from the file name).")
    var format: String?

    @Option(name: .long, help: "GPT-2 merges file vocab.bpe (default: vocab.bpe or NAME-vocab.bpe beside encoder.json).")
    var merges: String?

    @Option(name: .long, help: "tiktoken encoding that supplies pattern and special tokens: r50k or cl100k (default: from the file name).")
    var encoding: String?

    @Option(name: .long, help: "Split pattern: gpt2, gpt4 or o200k, or a regex (overrides the file's or the encoding's).")
    var pattern: String?

    @Option(name: .long, parsing: .singleValue, help: "Special token TEXT=ID (repeatable; replaces the file's or the encoding's specials).")
    var special: [String] = []

    @Option(name: [.short, .long], help: "Output .vocab path.")
    var output: String

    func run() throws {
        var encodingValue: KnownEncoding?
        if let e = encoding {
            guard let k = KnownEncoding(name: e) else { throw ValidationError("--encoding must be r50k or cl100k (got \(e)).") }
            encodingValue = k
        }
        let params = VocabularyImport(input: input, format: try parseVocabFormat(format), merges: merges,
                                      pattern: pattern.map(SplitPattern.init(name:)),
                                      specialTokens: try parseSpecialTokens(special), encoding: encodingValue)
        let v = try params.run()
        try VocabularyFile.write(v, to: output)
        printError("vocab import: \(v.tokens.count) ranks, \(v.specialTokens.count) special tokens, pattern \(v.pattern.name.count > 12 ? "custom" : v.pattern.name) → \(output)")
    }
}

import ArgumentParser
import Foundation
import LMSupport
import LMTokenizer

/// `lmkit vocab export`: native `.vocab` → tiktoken rank file or tokenizer.json.
struct VocabExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a .vocab as a tiktoken rank file, a Hugging Face tokenizer.json or GPT-2's encoder.json + vocab.bpe.",
        discussion: """
            tiktoken files hold only the ranks (pattern and specials are printed for your tiktoken.Encoding). tokenizer.json loads with tokenizers.Tokenizer.from_file and encodes like lmkit (added tokens are always matched, as with lmkit's --allow-special all).

              lmkit vocab export --vocab Vocab/gpt2.vocab --format hf \\
                  -o tokenizer.json
              lmkit vocab export --vocab my.vocab --format tiktoken -o my.tiktoken
              lmkit vocab export --vocab my.vocab --format gpt2 -o out/my-encoder.json   # + out/my-vocab.bpe

            GPT-2 files need ranks 0-255 to be the single bytes and every other token to be the merge of two lower-ranked ones (true of trained vocabularies and of GPT-2's); they carry no split pattern. tiktoken's GPT-2 loader (data_gym_to_mergeable_bpe_ranks) also requires GPT-2's order of the byte tokens.
            """)

    @Option(name: .long, help: "The .vocab file to export.")
    var vocab: String

    @Option(name: .long, help: "Output format: tiktoken, hf (tokenizer.json) or gpt2 (encoder.json + vocab.bpe beside it); lmkit rewrites a .vocab.")
    var format: String

    @Option(name: [.short, .long], help: "Output path.")
    var output: String

    func run() throws {
        guard let f = try parseVocabFormat(format) else { return }
        let v = try VocabularyFile.read(vocab)
        try VocabularyExport(vocabulary: v, format: f, output: output).run()
        let also = f == .gpt2 ? GPT2Files.mergesPath(forEncoder: output).map { " + \($0)" } ?? "" : ""
        printError("vocab export: \(v.tokens.count) ranks → \(output)\(also) (\(f.rawValue))")
        if f == .gpt2 && v.pattern != .gpt2 {
            printError("  note: GPT-2 files carry no split pattern and readers assume GPT-2's; this vocabulary uses \(v.pattern.name.count > 12 ? "a custom" : v.pattern.name) (import with --pattern)")
        }
        if f == .tiktoken {
            printError("  tiktoken.Encoding needs pat_str = the \(v.pattern.name.count > 12 ? "custom" : v.pattern.name) regex and special_tokens = {\(v.specialTokens.map { "\"\($0.text)\": \($0.id)" }.joined(separator: ", "))}")
        }
    }
}

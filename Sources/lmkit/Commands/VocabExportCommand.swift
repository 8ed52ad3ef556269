import ArgumentParser
import Foundation
import LMSupport
import LMTokenizer

/// `lmkit vocab export`: native `.vocab` → tiktoken rank file or tokenizer.json.
struct VocabExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a .vocab as a tiktoken rank file or a Hugging Face tokenizer.json.",
        discussion: """
            tiktoken files hold only the ranks (pattern and specials are printed for your tiktoken.Encoding). tokenizer.json loads with tokenizers.Tokenizer.from_file and encodes like lmkit (added tokens are always matched, as with lmkit's --allow-special all).

              lmkit vocab export --vocab Vocab/gpt2.vocab --format hf \\
                  -o tokenizer.json
              lmkit vocab export --vocab my.vocab --format tiktoken -o my.tiktoken
            """)

    @Option(name: .long, help: "The .vocab file to export.")
    var vocab: String

    @Option(name: .long, help: "Output format: tiktoken or hf (tokenizer.json); lmkit rewrites a .vocab.")
    var format: String

    @Option(name: [.short, .long], help: "Output path.")
    var output: String

    func run() throws {
        guard let f = try parseVocabFormat(format) else { return }
        let v = try VocabularyFile.read(vocab)
        try VocabularyExport(vocabulary: v, format: f, output: output).run()
        printError("vocab export: \(v.tokens.count) ranks → \(output) (\(f.rawValue))")
        if f == .tiktoken {
            printError("  tiktoken.Encoding needs pat_str = the \(v.pattern.name.count > 12 ? "custom" : v.pattern.name) regex and special_tokens = {\(v.specialTokens.map { "\"\($0.text)\": \($0.id)" }.joined(separator: ", "))}")
        }
    }
}

import ArgumentParser
import Foundation
import LMSupport
import LMTokenizer

/// `lmkit detokenize`: token ids → the exact bytes.
struct DetokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detokenize",
        abstract: "Decode token ids (arguments or stdin) to the exact bytes on stdout.",
        discussion: """
            Ids are decimal, separated by spaces, newlines or commas (brackets are ignored), so the output of `lmkit tokenize --format ids` or a JSON array both work. Nothing is added: no trailing newline, no replacement of invalid UTF-8.

              lmkit tokenize --vocab V --format ids "hi there" \\
                  | lmkit detokenize --vocab V
            """)

    @Option(name: .long, help: "Vocabulary (.vocab, or any importable file).")
    var vocab: String

    @Argument(help: "Token ids (omit to read them from stdin).")
    var ids: [String] = []

    func run() throws {
        let tokenizer = try BPETokenizer(VocabularyImport(input: vocab).run())
        let text: [UInt8] = ids.isEmpty ? [UInt8](FileHandle.standardInput.readDataToEndOfFile())
                                        : Array(ids.joined(separator: " ").utf8)
        let request = DetokenizeRequest(idText: text, source: ids.isEmpty ? "stdin" : "arguments")
        StandardOutput.shared.write(try request.run(with: tokenizer))
    }
}

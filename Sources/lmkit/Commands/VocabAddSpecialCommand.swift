import ArgumentParser
import Foundation
import LMSupport
import LMTokenizer
import LMTraining

/// `lmkit vocab add-special`: add special tokens (by default the chat set) keeping every id.
struct VocabAddSpecialCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add-special",
        abstract: "Add special tokens to a vocab without changing any existing id (default: the chat tokens).",
        discussion: """
            New tokens get the next free ids, in the order given; tokens the vocab already has are
            kept where they are. Default set: <|bos|> <|system|> <|user|> <|assistant|> <|end|>.
              lmkit vocab add-special --vocab run/vocab.vocab --output chat.vocab
              lmkit vocab add-special --vocab Vocab/gpt2.vocab --output gpt2-chat.vocab '<|user|>' '<|end|>'
            """)

    @Option(help: "Vocabulary to extend (.vocab or any importable format).") var vocab: String
    @Option(help: "Where to write the extended .vocab (written atomically).") var output: String
    @Argument(help: "Special tokens to add (default: the chat tokens).") var tokens: [String] = []
    @Flag(help: "Print nothing.") var quiet = false

    func run() throws {
        let base = try VocabularyImport(input: vocab).run()
        let (extended, added) = try base.adding(specialTokens: tokens.isEmpty ? ChatTemplate.specialTokens : tokens)
        try VocabularyFile.write(extended, to: output)
        if !quiet {
            let list = added.map { "\($0.text)=\($0.id)" }.joined(separator: " ")
            print("\(output): \(added.isEmpty ? "no new tokens (all present)" : "added " + list); ids 0..<\(base.idLimit) unchanged, id limit \(extended.idLimit)")
        }
    }
}

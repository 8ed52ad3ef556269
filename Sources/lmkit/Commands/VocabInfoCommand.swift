import ArgumentParser
import Foundation
import LMSupport
import LMTokenizer

/// `lmkit vocab info`: what a vocabulary holds.
struct VocabInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show a vocabulary's pattern, size, special tokens and fingerprint.")

    @Option(name: .long, help: "The vocabulary (.vocab, or any importable file: .tiktoken, encoder.json, tokenizer.json).")
    var vocab: String

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        let v = try VocabularyImport(input: vocab).run()
        let info = VocabularyInfo(v)
        StandardOutput.shared.write(json ? info.json : info.text)
    }
}

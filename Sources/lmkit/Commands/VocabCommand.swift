import ArgumentParser
import Foundation
import LMSupport
import LMTokenizer

/// `lmkit vocab …`: vocabulary files — import, export, info (and `train`, in VocabTrainCommand.swift).
struct VocabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vocab",
        abstract: "Byte-level BPE vocabularies: import, export, inspect (and train).",
        discussion: """
            Native files are `.vocab` (docs/VOCAB_FORMAT.md). Import converts tiktoken rank files, GPT-2 encoder.json + vocab.bpe and Hugging Face tokenizer.json; export writes tiktoken and tokenizer.json files that tiktoken / HF tokenizers load and encode identically.

              lmkit vocab import r50k_base.tiktoken -o Vocab/gpt2.vocab
              lmkit vocab export --vocab Vocab/gpt2.vocab --format hf \\
                  -o tokenizer.json
              lmkit vocab info --vocab Vocab/gpt2.vocab
            """,
        subcommands: VocabCommand.subcommands
    )

    /// The group's subcommands (the trainer adds `VocabTrainCommand` here).
    static let subcommands: [ParsableCommand.Type] = [
        VocabTrainCommand.self,
        VocabImportCommand.self,
        VocabExportCommand.self,
        VocabInfoCommand.self,
        VocabAddSpecialCommand.self,
    ]
}

/// Parses `TEXT=ID` special-token options.
func parseSpecialTokens(_ items: [String]) throws -> [SpecialToken]? {
    if items.isEmpty { return nil }
    return try items.map { item in
        guard let eq = item.lastIndex(of: "="), let id = Int(item[item.index(after: eq)...]), eq != item.startIndex else {
            throw ValidationError("--special expects TEXT=ID, e.g. '<|endoftext|>=50256' (got \(item)).")
        }
        return SpecialToken(String(item[..<eq]), id: id)
    }
}

/// Parses a `--format` value.
func parseVocabFormat(_ s: String?) throws -> VocabularyFormat? {
    guard let s else { return nil }
    guard let f = VocabularyFormat(rawValue: s.lowercased()) ?? (s.lowercased() == "tokenizer.json" ? .hf : nil) else {
        throw ValidationError("--format must be one of lmkit, tiktoken, gpt2, hf (got \(s)).")
    }
    return f
}

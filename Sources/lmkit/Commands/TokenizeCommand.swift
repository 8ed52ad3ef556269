import ArgumentParser
import Foundation
import LMSupport
import LMTokenizer
import LMTraining

/// `lmkit tokenize`: show how a vocabulary cuts text into tokens.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Encode text with a vocabulary and show the tokens (pretty), the ids, or JSON.",
        discussion: """
            Text comes from the argument, --file, or stdin. Files must be UTF-8 (invalid UTF-8 is refused with its byte offset). Special-token text (e.g. <|endoftext|>) is an error unless --allow-special names it (then it becomes its special id) or --special-as-text is given (then it is encoded as ordinary text, like tiktoken's encode_ordinary).

              lmkit tokenize --vocab Vocab/gpt2.vocab "Hello world"
              lmkit tokenize --vocab Vocab/gpt2.vocab --file corpus.txt \\
                  --format ids --special-as-text
            """)

    @Option(name: .long, help: "Vocabulary (.vocab, or any importable file: .tiktoken, encoder.json, tokenizer.json).")
    var vocab: String

    @Argument(help: "Text to tokenize (omit to use --file or stdin).")
    var text: String?

    @Option(name: .long, help: "Read the text from this UTF-8 file.")
    var file: String?

    @Option(name: .long, help: "Output: pretty (pieces, ids, summary), ids (decimal ids only) or json.")
    var format: String = "pretty"

    @Option(name: .long, parsing: .singleValue, help: "Encode this special token as its special id (repeatable; `all` for every special).")
    var allowSpecial: [String] = []

    @Flag(name: .long, help: "Encode special-token text that is not allowed as ordinary text instead of failing.")
    var specialAsText = false

    @Flag(name: .long, help: "Never use colours in pretty output.")
    var noColor = false

    @Option(name: .long, help: "Input is JSON Lines: tokenize the string field NAME of every record separately (ids: one line per record).")
    var jsonl: String?

    @Option(name: .long, help: "Threads for --jsonl input (default: all cores).")
    var threads: Int?

    @Option(name: .long, help: "Render the conversations of this SFT file (chat JSONL / Alpaca) with the chat template and show the loss mask (--format pretty or json).")
    var chat: String?

    func validate() throws {
        if text != nil && file != nil { throw ValidationError("Pass the text as an argument or with --file, not both.") }
        if TokenizeOutputFormat(rawValue: format) == nil {
            throw ValidationError("--format must be pretty, ids or json (got \(format)).")
        }
    }

    func run() throws {
        let tokenizer = try BPETokenizer(VocabularyImport(input: vocab).run())
        if let chat {  // lmkit tokenize --chat (sft helper): rendering + loss mask, see ChatRenderingReport
            var report = ChatRenderingReport(dataPath: chat)
            report.json = format == "json"
            report.color = !noColor && isatty(STDOUT_FILENO) != 0
            return StandardOutput.shared.write(try report.run(with: tokenizer, vocabFile: vocab))
        }
        let bytes: [UInt8]
        if let text {
            bytes = Array(text.utf8)
        } else if let file {
            bytes = Array(try FileIO.readText(file).utf8)
        } else {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            guard let s = String(validating: [UInt8](data), as: UTF8.self) else {
                let off = UTF8Validation.firstInvalidOffset([UInt8](data)) ?? 0
                throw LMError.badInput(file: "stdin", "invalid UTF-8 at byte offset \(off)", fix: "pass UTF-8 text")
            }
            bytes = Array(s.utf8)
        }
        let allowed: SpecialTokenSet = allowSpecial.contains("all") ? .all : (allowSpecial.isEmpty ? .none : .only(Set(allowSpecial)))
        for name in allowSpecial where name != "all" && tokenizer.vocabulary.specialID(name) == nil {
            throw LMError.badInput(file: vocab, "--allow-special \(name): no such special token",
                                   fix: "the vocabulary has: \(tokenizer.vocabulary.specialTokens.map(\.text).joined(separator: " "))")
        }
        let request = TokenizeRequest(text: bytes, allowedSpecial: allowed,
                                      disallowedSpecial: specialAsText ? .plainText : .error,
                                      format: TokenizeOutputFormat(rawValue: format)!,
                                      color: !noColor && isatty(STDOUT_FILENO) != 0)
        var req = request
        req.jsonlField = jsonl
        req.threads = Threads.resolve(threads)
        req.source = file ?? (text == nil ? "stdin" : "argument")
        StandardOutput.shared.write(try req.run(with: tokenizer))
    }
}

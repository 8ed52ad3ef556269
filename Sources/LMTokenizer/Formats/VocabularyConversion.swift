import LMSupport

/// The vocabulary file formats lmkit reads and writes.
public enum VocabularyFormat: String, CaseIterable, Sendable {
    /// lmkit's native `.vocab` (docs/VOCAB_FORMAT.md).
    case lmkit
    /// tiktoken rank file (`*.tiktoken`).
    case tiktoken
    /// GPT-2 `encoder.json` + `vocab.bpe`.
    case gpt2
    /// Hugging Face `tokenizer.json`.
    case hf

    /// Guesses the format from a file name: `.vocab`, `.tiktoken`, `encoder.json`, `.json`.
    public static func guess(_ path: String) -> VocabularyFormat? {
        let base = path.split(separator: "/").last.map(String.init)?.lowercased() ?? ""
        if base.hasSuffix(".vocab") { return .lmkit }
        if base.hasSuffix(".tiktoken") { return .tiktoken }
        if base.hasSuffix("encoder.json") || base.hasSuffix(".bpe") { return .gpt2 }
        if base.hasSuffix(".json") { return .hf }
        return nil
    }
}

/// Reading any supported vocabulary file into a `Vocabulary`: parameters for `lmkit vocab import`.
public struct VocabularyImport: Sendable {
    /// The file to read (for `gpt2`: `encoder.json`).
    public var input: String
    /// Its format; nil = guess from the file name.
    public var format: VocabularyFormat?
    /// For `gpt2`: the `vocab.bpe` merges file; nil = `vocab.bpe`/`…-vocab.bpe` beside `input`.
    public var merges: String?
    /// Split pattern override (needed for tiktoken files of unknown encodings).
    public var pattern: SplitPattern?
    /// Special tokens override (tiktoken files carry none).
    public var specialTokens: [SpecialToken]?
    /// For tiktoken files: which built-in encoding supplies pattern and specials; nil = from the file name.
    public var encoding: KnownEncoding?

    public init(input: String, format: VocabularyFormat? = nil, merges: String? = nil, pattern: SplitPattern? = nil,
                specialTokens: [SpecialToken]? = nil, encoding: KnownEncoding? = nil) {
        self.input = input; self.format = format; self.merges = merges; self.pattern = pattern
        self.specialTokens = specialTokens; self.encoding = encoding
    }

    /// Reads and validates the vocabulary. Throws `LMError` naming the file and the fix.
    public func run() throws -> Vocabulary {
        guard let format = format ?? VocabularyFormat.guess(input) else {
            throw usageError(file: input, "cannot tell the vocabulary format from the file name",
                                fix: "pass --format lmkit|tiktoken|gpt2|hf")
        }
        var v: Vocabulary
        switch format {
        case .lmkit:
            v = try VocabularyFile.read(input)
        case .tiktoken:
            let known = encoding ?? KnownEncoding(fileName: input)
            guard let p = pattern ?? known?.pattern else {
                throw usageError(file: input, "a tiktoken file does not say its split pattern",
                                    fix: "pass --encoding r50k|cl100k or --pattern gpt2|gpt4|o200k (and --special TEXT=ID)")
            }
            v = try TiktokenFile.read(input, pattern: p, specialTokens: specialTokens ?? known?.specialTokens ?? [])
        case .gpt2:
            let mergesPath = try merges ?? GPT2FilesLocator.mergesBeside(input)
            v = try GPT2Files.read(encoderJSON: input, vocabBPE: mergesPath)
        case .hf:
            v = try HFTokenizerFile.read(input)
        }
        if format != .tiktoken, pattern != nil || specialTokens != nil {
            v = try Vocabulary(pattern: pattern ?? v.pattern, tokens: v.tokens, specialTokens: specialTokens ?? v.specialTokens)
        }
        return v
    }
}

/// Writing a `Vocabulary` in another format: parameters for `lmkit vocab export`.
public struct VocabularyExport: Sendable {
    public var vocabulary: Vocabulary
    /// Any format; for `gpt2`, `output` names the `…encoder.json` and `vocab.bpe` is written
    /// beside it (`X-encoder.json` → `X-vocab.bpe`), where `lmkit vocab import` looks for it.
    public var format: VocabularyFormat
    public var output: String

    public init(vocabulary: Vocabulary, format: VocabularyFormat, output: String) {
        self.vocabulary = vocabulary; self.format = format; self.output = output
    }

    /// Writes the file atomically. Throws `LMError` for an unsupported format or an unwritable path.
    public func run() throws {
        switch format {
        case .lmkit: try VocabularyFile.write(vocabulary, to: output)
        case .tiktoken: try TiktokenFile.write(vocabulary, to: output)
        case .hf: try HFTokenizerFile.write(vocabulary, to: output)
        case .gpt2:
            guard let merges = GPT2Files.mergesPath(forEncoder: output) else {
                throw usageError(file: output, "a GPT-2 export is named by its encoder.json (the vocab.bpe goes beside it)",
                                 fix: "pass -o DIR/encoder.json or -o DIR/NAME-encoder.json")
            }
            try GPT2Files.write(vocabulary, encoderJSON: output, vocabBPE: merges)
        }
    }
}

enum GPT2FilesLocator {
    /// `vocab.bpe` next to `encoder.json`, or `X-vocab.bpe` next to `X-encoder.json`.
    static func mergesBeside(_ encoder: String) throws -> String {
        let dir = encoder.contains("/") ? String(encoder[..<encoder.lastIndex(of: "/")!]) + "/" : ""
        let base = encoder.split(separator: "/").last.map(String.init) ?? encoder
        var candidates = [dir + "vocab.bpe"]
        if base.hasSuffix("encoder.json") {
            candidates.insert(dir + base.dropLast("encoder.json".count) + "vocab.bpe", at: 0)
        }
        for c in candidates where FileIO.exists(c) { return c }
        throw usageError(file: encoder, "no vocab.bpe merges file beside it (looked for \(candidates.joined(separator: ", ")))",
                            fix: "pass --merges PATH")
    }
}

/// A wrong or missing option (`LMError.Kind.usage`).
func usageError(file: String? = nil, _ message: String, fix: String? = nil) -> LMError {
    LMError(.usage, file: file, message, fix: fix)
}

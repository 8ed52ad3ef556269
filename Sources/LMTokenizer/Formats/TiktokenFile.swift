import LMSupport

/// tiktoken rank files (`*.tiktoken`): one `BASE64 RANK` line per mergeable token, no header,
/// no special tokens and no split pattern (tiktoken keeps those in Python code).
///
///     IQ== 0
///     Ig== 1
///     …
///
/// Importing therefore needs the pattern and the special tokens from elsewhere:
/// `KnownEncoding` supplies tiktoken's own values for `r50k_base`/`gpt2` and `cl100k_base`,
/// guessed from the file name or named explicitly.
public enum TiktokenFile {
    /// Parses rank lines into a vocabulary. Ranks must be exactly `0..<N` (any order in the file).
    /// Throws `LMError.badFormat` naming `file` and the line for malformed lines, gaps or repeats.
    public static func decode(_ bytes: [UInt8], file: String, pattern: SplitPattern,
                              specialTokens: [SpecialToken]) throws -> Vocabulary {
        let (lines, _) = splitLines(bytes)
        var byRank: [[UInt8]?] = []
        byRank.reserveCapacity(lines.count)
        for (i, line) in lines.enumerated() {
            if line.isEmpty { continue }
            guard let sp = line.firstIndex(of: UInt8(ascii: " ")),
                  let tok = Base64.decode(line[line.startIndex..<sp]),
                  let rank = Int(String(decoding: line[(sp + 1)...], as: UTF8.self)), rank >= 0 else {
                throw LMError.badFormat(file: file, "line \(i + 1): expected `BASE64 RANK`",
                                        fix: "pass a tiktoken rank file (e.g. cl100k_base.tiktoken)")
            }
            if rank >= byRank.count {
                if rank > 10_000_000 {
                    throw LMError.badFormat(file: file, "line \(i + 1): rank \(rank) is implausibly large",
                                            fix: "pass a tiktoken rank file")
                }
                byRank.append(contentsOf: repeatElement(nil, count: rank + 1 - byRank.count))
            }
            if byRank[rank] != nil {
                throw LMError.badFormat(file: file, "line \(i + 1): rank \(rank) appears twice", fix: "check the file")
            }
            byRank[rank] = tok
        }
        if byRank.isEmpty {
            throw LMError.badFormat(file: file, "no rank lines", fix: "pass a tiktoken rank file (BASE64 RANK lines)")
        }
        var tokens: [[UInt8]] = []
        tokens.reserveCapacity(byRank.count)
        for (r, t) in byRank.enumerated() {
            guard let t else {
                throw LMError.badFormat(file: file, "rank \(r) is missing (ranks must be 0..<\(byRank.count) without gaps)",
                                        fix: "lmkit needs contiguous ranks; check the file")
            }
            tokens.append(t)
        }
        do {
            return try Vocabulary(pattern: pattern, tokens: tokens, specialTokens: specialTokens)
        } catch let e as LMError {
            throw LMError.badFormat(file: file, e.message, fix: e.fix)
        }
    }

    /// Reads a rank file. Throws `LMError` naming the file.
    public static func read(_ path: String, pattern: SplitPattern, specialTokens: [SpecialToken]) throws -> Vocabulary {
        try decode(FileIO.readBytes(path), file: path, pattern: pattern, specialTokens: specialTokens)
    }

    /// The rank-file bytes of `vocab` (specials and pattern are not representable and are dropped).
    public static func encode(_ vocab: Vocabulary) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(vocab.tokens.count * 14)
        for (r, t) in vocab.tokens.enumerated() {
            out.append(contentsOf: Base64.encode(t).utf8)
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: String(r).utf8)
            out.append(UInt8(ascii: "\n"))
        }
        return out
    }

    /// Writes a rank file atomically.
    public static func write(_ vocab: Vocabulary, to path: String) throws {
        try AtomicFileWriter.write(encode(vocab), to: path)
    }
}

/// tiktoken's built-in encodings whose rank files ship without their pattern and special tokens
/// (values from `tiktoken_ext/openai_public.py`, tiktoken 0.14.0).
public enum KnownEncoding: String, CaseIterable, Sendable {
    /// GPT-2 / r50k_base: gpt2 pattern, `<|endoftext|>` = 50256.
    case r50k = "r50k_base"
    /// GPT-3.5/GPT-4 cl100k_base: gpt4 pattern, five special tokens.
    case cl100k = "cl100k_base"

    /// The split pattern tiktoken uses with these ranks.
    public var pattern: SplitPattern { self == .r50k ? .gpt2 : .cl100k }

    /// tiktoken's special tokens for this encoding.
    public var specialTokens: [SpecialToken] {
        switch self {
        case .r50k: return [SpecialToken("<|endoftext|>", id: 50256)]
        case .cl100k:
            return [SpecialToken("<|endoftext|>", id: 100257), SpecialToken("<|fim_prefix|>", id: 100258),
                    SpecialToken("<|fim_middle|>", id: 100259), SpecialToken("<|fim_suffix|>", id: 100260),
                    SpecialToken("<|endofprompt|>", id: 100276)]
        }
    }

    /// Parses `r50k`, `r50k_base`, `gpt2`, `cl100k`, `cl100k_base`, `gpt4`.
    public init?(name: String) {
        switch name.lowercased() {
        case "r50k", "r50k_base", "gpt2": self = .r50k
        case "cl100k", "cl100k_base", "gpt4": self = .cl100k
        default: return nil
        }
    }

    /// Guesses the encoding from a file name (`…r50k…`/`…gpt2…` or `…cl100k…`), or nil.
    public init?(fileName path: String) {
        let base = path.split(separator: "/").last.map(String.init)?.lowercased() ?? ""
        if base.contains("cl100k") { self = .cl100k } else if base.contains("r50k") || base.contains("gpt2") { self = .r50k } else { return nil }
    }
}

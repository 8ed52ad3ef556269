/// A pre-tokenizer split pattern: the regex that cuts text into pieces before BPE runs
/// inside each piece (so no token ever crosses a piece boundary).
///
/// The built-in patterns are tiktoken's, copied verbatim from `tiktoken_ext/openai_public.py`
/// (tiktoken 0.14.0). The GPT-4 (`cl100k`) one is the default.
///
///     try PreTokenizer(pattern: .cl100k).pieces("Hello world!!")  // ["Hello", " world", "!!"]
public enum SplitPattern: Sendable, Hashable {
    /// GPT-2 / r50k_base / p50k_base.
    case gpt2
    /// GPT-4 / cl100k_base (default).
    case cl100k
    /// GPT-4o / o200k_base.
    case o200k
    /// Any other regex, run by the (slower) regex engine.
    case custom(String)

    /// tiktoken's r50k/p50k pattern.
    public static let gpt2Regex =
        #"'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"#
    /// tiktoken's cl100k_base pattern.
    public static let cl100kRegex =
        #"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"#
    /// tiktoken's o200k_base pattern.
    public static let o200kRegex = [
        #"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"#,
        #"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"#,
        #"\p{N}{1,3}"#,
        #" ?[^\s\p{L}\p{N}]+[\r\n/]*"#,
        #"\s*[\r\n]+"#,
        #"\s+(?!\S)"#,
        #"\s+"#,
    ].joined(separator: "|")

    /// The regex source text of this pattern.
    public var regex: String {
        switch self {
        case .gpt2: return SplitPattern.gpt2Regex
        case .cl100k: return SplitPattern.cl100kRegex
        case .o200k: return SplitPattern.o200kRegex
        case .custom(let r): return r
        }
    }

    /// Short name used on the command line and in vocab files: `gpt2`, `gpt4`, `o200k`, or the regex.
    public var name: String {
        switch self {
        case .gpt2: return "gpt2"
        case .cl100k: return "gpt4"
        case .o200k: return "o200k"
        case .custom(let r): return r
        }
    }

    /// Parses a CLI/vocab-file name: `gpt2`|`r50k`, `gpt4`|`cl100k`, `o200k`|`gpt4o`; anything
    /// else that equals a built-in regex maps to it; otherwise a custom regex.
    public init(name: String) {
        switch name {
        case "gpt2", "r50k", "r50k_base", "p50k", "p50k_base", SplitPattern.gpt2Regex: self = .gpt2
        case "gpt4", "cl100k", "cl100k_base", SplitPattern.cl100kRegex: self = .cl100k
        case "o200k", "o200k_base", "gpt4o", SplitPattern.o200kRegex: self = .o200k
        default: self = .custom(name)
        }
    }
}

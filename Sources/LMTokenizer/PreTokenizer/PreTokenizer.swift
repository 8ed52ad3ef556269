/// The pre-tokenizer stage: cuts UTF-8 text into pieces with a split pattern.
///
/// Built-in patterns (`gpt2`, `cl100k`, `o200k`) dispatch to hand-written byte scanners
/// with an ASCII fast path; custom patterns run on `RegexPreTokenizer`.
///
///     let pre = try PreTokenizer(pattern: .cl100k)
///     pre.pieces("I'm 12345 ok")   // ["I", "'m", " ", "123", "45", " ok"]
public struct PreTokenizer: Sendable {
    public let pattern: SplitPattern
    private let reference: RegexPreTokenizer

    /// Throws `LMError.badInput` for a custom regex that does not compile.
    public init(pattern: SplitPattern = .cl100k) throws {
        self.pattern = pattern
        self.reference = try RegexPreTokenizer(pattern: pattern)
    }

    /// Calls `body` with the byte range of each piece of valid UTF-8 `text`, in order; the
    /// ranges tile the input exactly. O(n).
    public func forEachPiece(in text: UnsafeRawBufferPointer, _ body: (Range<Int>) -> Void) {
        // TODO(pre-tokenizer scanners): dispatch built-in patterns to the fast scanners.
        reference.forEachPiece(in: text, body)
    }

    /// Convenience: the pieces of `text` as strings.
    public func pieces(_ text: String) -> [String] {
        var out: [String] = []
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { raw in
            forEachPiece(in: raw) { r in
                out.append(String(decoding: UnsafeRawBufferPointer(rebasing: raw[r]), as: UTF8.self))
            }
        }
        return out
    }
}

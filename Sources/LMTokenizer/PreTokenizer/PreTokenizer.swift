/// The pre-tokenizer stage: cuts UTF-8 text into pieces with a split pattern.
///
/// Built-in patterns (`gpt2`, `cl100k`, `o200k`) dispatch to hand-written byte scanners
/// (`ScannerGPT2.swift`, `ScannerCL100k.swift`, `ScannerO200k.swift`) that give exactly the pieces
/// tiktoken's regexes give (checked piece for piece against Python `regex` fixtures and against
/// `RegexPreTokenizer`); custom patterns run on `RegexPreTokenizer` (NSRegularExpression).
///
///     let pre = try PreTokenizer(pattern: .cl100k)
///     pre.pieces("I'm 12345 ok")   // ["I", "'m", " ", "123", "45", " ok"]
///
/// Exactness: the scanners reproduce the backtracking semantics of the regexes (possessive
/// quantifiers, `\s+(?!\S)`, `\s++$`, `\s*[\r\n]`, case-insensitive contractions including `'ſ`,
/// o200k's non-possessive case classes), checked piece for piece against Python `regex` on the
/// fixtures and on all of `../shared/corpora` (124 MB), where tiktoken itself splits identically.
///
/// Unicode version: character classes come from the Swift standard library's tables
/// (Unicode 17.0 in Swift 6.3). tiktoken 0.14's Rust engine uses older tables (≤ 16.0), Python
/// `regex` 2026.11.19 newer ones. So for scalars added in Unicode 17.0 (e.g. U+32400, CJK
/// Extension J) the scanners agree with Python `regex` but not with tiktoken, and for the 12,860
/// scalars newer than 17.0 that `regex` classifies (U+0558, U+3D000…, listed by
/// `PreTokenizerFixtureTests.unicodeClassesMatchPythonRegex`) they treat them as "other", like
/// tiktoken and unlike `regex`. None of this changes a single split in the shared corpora.
///
/// Performance notes (release, thread CPU time, loaded 2-core dev machine; `lmkit-bench pretok`):
/// gpt2 ~315, cl100k ~295, o200k ~265 MB/s on Tiny Shakespeare; ~320-340 MB/s on the UDHR
/// sample (mostly non-ASCII); NSRegularExpression on the same work ~10 MB/s (≈ 30× slower).
/// - Work on raw bytes (`ClassifiedText`): no `String`, no `Character`, no allocation per piece;
///   `body` receives byte ranges.
/// - ASCII is classified by a 128-entry table; non-ASCII scalars are decoded and looked up in a
///   lazily built two-level table (`UnicodeClassTable`, ~40 KB) — calling
///   `Unicode.Scalar.Properties` per scalar instead runs at ~20 MB/s.
/// - Every class is one bit, so each regex character class is a single mask test; the
///   backtracking of `\s+(?!\S)`, `\s*[\r\n]` and o200k's non-possessive letter classes is
///   resolved in one forward pass over the run (see each scanner's comment), never by retrying.
/// - The three scan loops are written out once each (no generic closure per piece) so each
///   pattern's piece function inlines into its loop.
/// - Tried: inlining the multi-byte decoder everywhere (`@inline(__always)`) was 10-20% slower
///   on ASCII *and* on UDHR than keeping it out of line (register pressure in the ASCII loops).
public struct PreTokenizer: Sendable {
    public let pattern: SplitPattern
    /// The regex engine, only for custom patterns.
    private let reference: RegexPreTokenizer?

    /// Throws `LMError.badInput` for a custom regex that does not compile.
    public init(pattern: SplitPattern = .cl100k) throws {
        self.pattern = pattern
        switch pattern {
        case .gpt2, .cl100k, .o200k: reference = nil
        case .custom: reference = try RegexPreTokenizer(pattern: pattern)
        }
    }

    /// Calls `body` with the byte range of each piece of valid UTF-8 `text`, in order; the
    /// ranges tile the input exactly (no gaps, no overlaps, none empty). O(n) for the built-in
    /// patterns. Invalid UTF-8 does not crash: for built-in patterns each bad byte is one
    /// "other" (punctuation-like) character.
    public func forEachPiece(in text: UnsafeRawBufferPointer, _ body: (Range<Int>) -> Void) {
        guard let base = text.baseAddress, text.count > 0 else { return }
        let t = ClassifiedText(base.assumingMemoryBound(to: UInt8.self), count: text.count)
        let n = t.count
        var i = 0
        switch pattern {
        case .gpt2:
            while i < n { let e = t.gpt2PieceEnd(at: i); body(i..<e); i = e }
        case .cl100k:
            while i < n { let e = t.cl100kPieceEnd(at: i); body(i..<e); i = e }
        case .o200k:
            while i < n { let e = t.o200kPieceEnd(at: i); body(i..<e); i = e }
        case .custom:
            reference!.forEachPiece(in: text, body)
        }
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

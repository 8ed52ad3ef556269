import LMSupport

/// A special token: a literal string (e.g. `<|endoftext|>`) mapped to an id outside the BPE ranks.
public struct SpecialToken: Sendable, Hashable, Codable {
    /// The literal text, e.g. `<|endoftext|>`.
    public var text: String
    /// Its id; never equal to a BPE rank.
    public var id: Int
    public init(_ text: String, id: Int) { self.text = text; self.id = id }
}

/// A byte-level BPE vocabulary: the split pattern, the mergeable tokens by rank, and special tokens.
///
/// This is the model every other part of the tokenizer shares: the trainer produces one, the
/// file formats read and write one, the encoder runs one. As in tiktoken, a token's id *is* its
/// rank (merge priority): `tokens[r]` are the bytes of rank `r`, ranks are `0..<tokens.count`
/// with no gaps, and the 256 single bytes are among them. Special tokens have ids outside
/// `0..<tokens.count` (gaps allowed: cl100k has `<|endoftext|>` = 100257 with no 100256).
///
///     // A 258-token vocab: 256 bytes, then "ab" (rank 256), then "abc" (rank 257).
///     var tokens = (0..<256).map { [UInt8($0)] }
///     tokens.append(Array("ab".utf8)); tokens.append(Array("abc".utf8))
///     let v = try Vocabulary(pattern: .cl100k, tokens: tokens,
///                            specialTokens: [SpecialToken("<|endoftext|>", id: 258)])
public struct Vocabulary: Sendable {
    /// How text is cut into pieces before BPE.
    public var pattern: SplitPattern
    /// Token bytes by rank (= id). Every byte string appears at most once.
    public var tokens: [[UInt8]]
    /// Special tokens, in the order they were declared.
    public var specialTokens: [SpecialToken]

    /// Validates and builds a vocabulary. Throws `LMError.badFormat` if a token repeats, a
    /// single byte is missing, a token is empty, or a special id collides with a rank or another special.
    public init(pattern: SplitPattern, tokens: [[UInt8]], specialTokens: [SpecialToken] = []) throws {
        var seen = Set<[UInt8]>()
        seen.reserveCapacity(tokens.count)
        var singleBytes = 0
        for (rank, t) in tokens.enumerated() {
            if t.isEmpty { throw LMError.badFormat("token of rank \(rank) is empty", fix: "regenerate the vocabulary") }
            if !seen.insert(t).inserted {
                throw LMError.badFormat("token of rank \(rank) repeats an earlier token", fix: "regenerate the vocabulary")
            }
            if t.count == 1 { singleBytes += 1 }
        }
        if singleBytes != 256 {
            throw LMError.badFormat("only \(singleBytes) of the 256 single-byte tokens are present",
                                    fix: "a byte-level BPE vocabulary needs all 256 bytes as tokens")
        }
        var specialIDs = Set<Int>(), specialTexts = Set<String>()
        for s in specialTokens {
            if s.id >= 0 && s.id < tokens.count {
                throw LMError.badFormat("special token \(s.text) has id \(s.id), which is a BPE rank",
                                        fix: "give special tokens ids of \(tokens.count) or more")
            }
            if s.id < 0 || !specialIDs.insert(s.id).inserted || !specialTexts.insert(s.text).inserted || s.text.isEmpty {
                throw LMError.badFormat("special token \(s.text) (id \(s.id)) is empty, negative or repeated",
                                        fix: "give each special token its own text and id")
            }
        }
        self.pattern = pattern
        self.tokens = tokens
        self.specialTokens = specialTokens
    }

    /// Number of BPE ranks (mergeable tokens), `tokens.count`.
    public var rankCount: Int { tokens.count }

    /// One more than the largest id in use (ranks and specials): the size an embedding table needs.
    public var idLimit: Int { max(tokens.count, (specialTokens.map(\.id).max() ?? -1) + 1) }

    /// The id of a special token by its text, or nil.
    public func specialID(_ text: String) -> Int? { specialTokens.first { $0.text == text }?.id }
}

extension Vocabulary: Equatable {
    /// Same pattern, same tokens in the same rank order, same special tokens in the same order.
    public static func == (a: Vocabulary, b: Vocabulary) -> Bool {
        a.pattern == b.pattern && a.tokens == b.tokens && a.specialTokens == b.specialTokens
    }
}

extension Vocabulary {
    /// A stable identity of the vocabulary (16 hex digits, FNV-1a 64 over the pattern, every
    /// special token and every rank): shards and checkpoints record it to detect a vocab mismatch.
    /// Independent of the file format the vocabulary was read from.
    public var fingerprint: String {
        var h = FNV1a64()
        h.update(Array("lmkit-vocab-fingerprint 1\n\(pattern.regex)\n".utf8))
        for s in specialTokens {
            h.update(integer: Int64(s.id)); h.update(integer: Int64(s.text.utf8.count)); h.update(Array(s.text.utf8))
        }
        h.update(integer: Int64(tokens.count))
        for t in tokens { h.update(integer: UInt32(t.count)); h.update(t) }
        return h.hex
    }

    /// The special token with id `id`, or nil.
    public func specialToken(id: Int) -> SpecialToken? { specialTokens.first { $0.id == id } }
}

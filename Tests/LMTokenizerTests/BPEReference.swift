@testable import LMTokenizer

/// The naive twin of the encoder: tiktoken's `_byte_pair_merge` transcribed literally (byte
/// offsets, `ranks.get(piece[a..<c])` on a dictionary of byte arrays, linear minimum search).
/// Slow and obviously right; the fast encoder must agree with it on every piece.
struct ReferenceBPE {
    let ranks: [[UInt8]: UInt32]

    init(_ v: Vocabulary) {
        var d: [[UInt8]: UInt32] = [:]
        for (r, t) in v.tokens.enumerated() { d[t] = UInt32(r) }
        ranks = d
    }

    /// tiktoken `byte_pair_encode(piece, ranks)`.
    func encodePiece(_ piece: [UInt8]) -> [UInt32] {
        if let r = ranks[piece] { return [r] }
        // parts: (start offset, rank of piece[start ..< parts[i+2].start])
        var parts: [(start: Int, rank: UInt32)] = []
        func rankAt(_ i: Int) -> UInt32 {
            if i + 2 < parts.count {
                return ranks[Array(piece[parts[i].start..<parts[i + 2].start])] ?? .max
            }
            return .max
        }
        for i in 0...piece.count { parts.append((i, .max)) }
        for i in 0..<(parts.count - 2) { parts[i].rank = rankAt(i) }
        while parts.count > 1 {
            var minRank = UInt32.max, at = 0
            for i in 0..<(parts.count - 1) where parts[i].rank < minRank { minRank = parts[i].rank; at = i }
            if minRank == .max { break }
            parts.remove(at: at + 1)
            parts[at].rank = rankAt(at)
            if at > 0 { parts[at - 1].rank = rankAt(at - 1) }
        }
        return (0..<(parts.count - 1)).map { ranks[Array(piece[parts[$0].start..<parts[$0 + 1].start])]! }
    }

    /// `encode_ordinary` with the regex pre-tokenizer.
    func encodeOrdinary(_ text: String, pattern: SplitPattern) throws -> [UInt32] {
        let pre = try RegexPreTokenizer(pattern: pattern)
        var out: [UInt32] = []
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { raw in
            pre.forEachPiece(in: raw) { r in out += encodePiece(Array(bytes[r])) }
        }
        return out
    }
}

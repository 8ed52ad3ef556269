import Foundation
import Testing
import LMSupport
import LMTestSupport
@testable import LMTokenizer

/// A random vocabulary of `merges` tokens built by merging random adjacent pairs of a random
/// corpus (a toy trainer), so that long pieces have deep merge trees.
func randomVocabulary(seed: UInt64, merges: Int, alphabet: [UInt8]) throws -> Vocabulary {
    var rng = SeededRNG(seed: seed)
    var tokens = (0..<256).map { [UInt8($0)] }.shuffled(using: &rng)   // bytes not at rank == byte
    var seen = Set(tokens)
    var corpus: [[[UInt8]]] = []
    for _ in 0..<400 {
        let n = 1 + rng.next(below: 12)
        var word: [[UInt8]] = []
        for _ in 0..<n { word.append([alphabet[rng.next(below: alphabet.count)]]) }
        corpus.append(word)
    }
    var attempts = 0
    while tokens.count < 256 + merges && attempts < merges * 50 {
        attempts += 1
        let w = rng.next(below: corpus.count)
        if corpus[w].count < 2 { continue }
        let i = rng.next(below: corpus[w].count - 1)
        let t = corpus[w][i] + corpus[w][i + 1]
        if seen.insert(t).inserted { tokens.append(t) }
        corpus[w].replaceSubrange(i...(i + 1), with: [t])
    }
    return try Vocabulary(pattern: .gpt2, tokens: tokens)
}

@Suite struct BPETokenizerTests {
    /// The worked example in BPETokenizer's doc comment.
    @Test func handWorkedExample() throws {
        let tok = try BPETokenizer(try tinyVocabulary())
        // "abcab": a b c a b → [ab] c a b → [ab] c [ab] → [abc] [ab]
        var out: [UInt32] = []
        let ws = BPEWorkspace()
        Array("abcab".utf8).withUnsafeBufferPointer { tok.tables.mergePiece($0.baseAddress!, 5, ws, into: &out) }
        #expect(out == [257, 256])
        // Same piece through the heap path.
        out = []
        Array("abcab".utf8).withUnsafeBufferPointer { tok.tables.mergeLong($0.baseAddress!, 5, ws, into: &out) }
        #expect(out == [257, 256])
        // Through the public API (cl100k splits "abcab" as one letter piece).
        #expect(tok.encodeOrdinary("abcab") == [257, 256])
        #expect(tok.encodeOrdinary("ab abc") == [256, 32, 257])   // " abc" is not a token: ' ' + abc
        #expect(try tok.decode([257, 256]) == Array("abcab".utf8))
    }

    /// Ties merge leftmost first: "aaa" with only "aa" → [aa][a], not [a][aa].
    @Test func tiesMergeLeftmost() throws {
        var tokens = (0..<256).map { [UInt8($0)] }
        tokens.append(Array("aa".utf8))
        let tok = try BPETokenizer(try Vocabulary(pattern: .cl100k, tokens: tokens))
        #expect(tok.encodeOrdinary("aaa") == [256, UInt32(UInt8(ascii: "a"))])
        #expect(tok.encodeOrdinary("aaaaa") == [256, 256, UInt32(UInt8(ascii: "a"))])
        let long = String(repeating: "a", count: 201)   // heap path
        #expect(tok.encodeOrdinary(long) == Array(repeating: 256, count: 100) + [UInt32(UInt8(ascii: "a"))])
    }

    /// Fast merge (scan and heap) equals the literal tiktoken transcription on random pieces
    /// of random vocabularies, short and long.
    @Test(arguments: [1, 2, 3])
    func mergeMatchesReference(seed: UInt64) throws {
        let alphabet = Array("abcde ".utf8)
        let v = try randomVocabulary(seed: seed, merges: 300, alphabet: alphabet)
        let tok = try BPETokenizer(v)
        let ref = ReferenceBPE(v)
        var rng = SeededRNG(seed: seed &+ 100)
        let ws = BPEWorkspace()
        for trial in 0..<400 {
            let n = trial < 300 ? 2 + rng.next(below: 40) : 64 + rng.next(below: 300)
            let piece = (0..<n).map { _ in alphabet[rng.next(below: alphabet.count)] }
            let expected = ref.encodePiece(piece)
            var scan: [UInt32] = [], heap: [UInt32] = []
            piece.withUnsafeBufferPointer { p in
                let m = tok.tables.mergeShort(p.baseAddress!, n, { ws.reserve(n); return ws }())
                scan = Array(UnsafeBufferPointer(start: ws.ids, count: m))
                tok.tables.mergeLong(p.baseAddress!, n, ws, into: &heap)
            }
            #expect(scan == expected, "piece \(String(decoding: piece, as: UTF8.self))")
            #expect(heap == expected, "piece \(String(decoding: piece, as: UTF8.self))")
        }
    }

    /// Whole texts: fast encoder (cache, direct lookup, pre-tokenizer) equals the reference.
    @Test func encodeMatchesReferenceOnText() throws {
        let alphabet = Array("abcde ".utf8)
        let v = try randomVocabulary(seed: 9, merges: 400, alphabet: alphabet)
        let tok = try BPETokenizer(v)
        let ref = ReferenceBPE(v)
        var rng = SeededRNG(seed: 10)
        for _ in 0..<50 {
            let text = String(decoding: (0..<(rng.next(below: 500))).map { _ in alphabet[rng.next(below: alphabet.count)] }, as: UTF8.self)
            #expect(tok.encodeOrdinary(text) == (try ref.encodeOrdinary(text, pattern: .gpt2)))
            #expect(tok.encodeOrdinary(text) == tok.encodeOrdinary(text))   // second run: from the cache
        }
    }

    /// The direct table of two-byte tokens answers exactly what the pair table does for every
    /// pair of bytes (the first probes of each merge), with bytes at shuffled ranks and on GPT-2's.
    @Test func bytePairTableEqualsPairTable() throws {
        let random = try randomVocabulary(seed: 21, merges: 600, alphabet: Array("abcdef \u{e9}".utf8))
        let gpt2 = try VocabularyFile.read(TestData.repoPath("Vocab/gpt2.vocab"))
        for v in [random, gpt2] {
            let t = RankTables(tokens: v.tokens)
            var found = 0
            for a in 0..<256 {
                for b in 0..<256 {
                    let direct = t.bytePairRank[a << 8 | b]
                    #expect(direct == t.pairRank(t.byteRank[a], t.byteRank[b]), "bytes \(a) \(b)")
                    if direct != RankTables.none { found += 1 }
                }
            }
            #expect(found == v.tokens.filter { $0.count == 2 }.count)
        }
    }

    /// Both cache sizes (with and without huge pages) give back what was stored, and a clear
    /// forgets it.
    @Test(arguments: [PieceCache.slotsWithoutHugePages, PieceCache.slotsWithHugePages])
    func pieceCacheStoresAndClears(slots: Int) {
        let cache = PieceCache(slots: slots)
        let piece = Array(" naïve".utf8), ids: [UInt32] = [7, 8, 9]
        let pre = RankTables.prefix(piece, piece.count, available: piece.count)
        let h = RankTables.hash(prefix: pre, piece, piece.count)
        var out = [UInt32](repeating: 0, count: 8)
        #expect(cache.lookup(piece, piece.count, prefix: pre, hash: h, to: &out) == 0)
        cache.store(piece, piece.count, hash: h, ids: ids, count: ids.count)
        #expect(cache.lookup(piece, piece.count, prefix: pre, hash: h, to: &out) == 3)
        #expect(Array(out[0..<3]) == ids)
        cache.clear()
        #expect(cache.lookup(piece, piece.count, prefix: pre, hash: h, to: &out) == 0)
    }

    /// Any byte string round-trips, including invalid UTF-8.
    @Test func randomBytesRoundTrip() throws {
        let v = try randomVocabulary(seed: 4, merges: 300, alphabet: Array("ab \u{e9}\n".utf8) + [0xFF, 0xC3, 0x80])
        let tok = try BPETokenizer(v)
        var rng = SeededRNG(seed: 5)
        for trial in 0..<300 {
            let n = rng.next(below: 600)
            let bytes: [UInt8] = (0..<n).map { _ in
                trial % 2 == 0 ? UInt8(rng.next(below: 256)) : Array("ab \n\u{e9}".utf8 + [0xFF, 0xC3, 0x80])[rng.next(below: 9)]
            }
            #expect(try tok.decode(tok.encodeOrdinary(bytes: bytes)) == bytes)
        }
    }

    /// Invalid bytes are their own pieces; the valid runs around them encode as on their own.
    @Test func invalidUTF8Behaviour() throws {
        let tok = try BPETokenizer(try tinyVocabulary())
        let bytes = Array("abc".utf8) + [0xFF] + Array("ab".utf8)
        #expect(tok.encodeOrdinary(bytes: bytes) == [257, 0xFF, 256])
    }

    @Test func specialTokenPolicies() throws {
        let tok = try BPETokenizer(try tinyVocabulary())
        let text = "ab<|endoftext|>abc"
        #expect(try tok.encode(text, allowedSpecial: .all) == [256, 258, 257])
        #expect(try tok.encode(text, allowedSpecial: .only(["<|endoftext|>"])) == [256, 258, 257])
        #expect(try tok.encode(text, disallowedSpecial: .plainText) == tok.encodeOrdinary(text))
        #expect(!tok.encodeOrdinary(text).contains(258))
        #expect { try tok.encode(text) } throws: { e in
            "\(e)".contains("<|endoftext|>") && "\(e)".contains("byte offset 2")
        }
        #expect(try tok.decode(tok.encode(text, allowedSpecial: .all)) == Array(text.utf8))
        #expect(try tok.encode("no specials here") == tok.encodeOrdinary("no specials here"))
    }

    @Test func unknownIDIsAnError() throws {
        let tok = try BPETokenizer(try tinyVocabulary())
        #expect { try tok.decode([1, 259]) } throws: { e in "\(e)".contains("token id 259") }
        #expect(throws: LMError.self) { try tok.decode([-1]) }
        #expect(try tok.decode([258]) == Array("<|endoftext|>".utf8))
    }

    @Test func batchEqualsSequential() throws {
        let v = try randomVocabulary(seed: 11, merges: 300, alphabet: Array("abc d\n".utf8))
        let tok = try BPETokenizer(v)
        var rng = SeededRNG(seed: 12)
        let texts = (0..<64).map { _ in String(decoding: (0..<rng.next(below: 300)).map { _ in Array("abc d\n".utf8)[rng.next(below: 6)] }, as: UTF8.self) }
        #expect(tok.encodeOrdinaryBatch(texts, threads: 2) == texts.map { tok.encodeOrdinary($0) })
        #expect(try tok.encodeBatch(texts, threads: 2) == texts.map { tok.encodeOrdinary($0) })
    }
}

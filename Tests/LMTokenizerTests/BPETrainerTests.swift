import Foundation
import LMSupport
import LMTestSupport
import Testing
@testable import LMTokenizer

/// Merged tokens (rank 256 upwards) as strings, for readable expectations.
private func mergedStrings(_ v: Vocabulary) -> [String] {
    v.tokens[256...].map { String(decoding: $0, as: UTF8.self) }
}

/// The merged tokens of a rustbpe fixture in Tests/LMTokenizerTests/Fixtures/trainer (one token a
/// line, its bytes in hex, rank 256 upwards).
private func rustbpeFixture(_ name: String) throws -> [[UInt8]] {
    let text = try FileIO.readText(TestData.repoPath("Tests/LMTokenizerTests/Fixtures/trainer/" + name))
    return text.split(separator: "\n").map { hex -> [UInt8] in
        var bytes: [UInt8] = []
        var it = hex.makeIterator()
        while let h = it.next(), let l = it.next() { bytes.append(UInt8(String([h, l]), radix: 16)!) }
        return bytes
    }
}

/// A naive twin of the trainer (minbpe style): recount every pair from scratch before each
/// merge, pick the largest count, ties to the smallest (left, right).
private func naiveTrain(pieces: [String: Int], merges: Int) -> [[UInt8]] {
    var words: [([Int], Int)] = pieces.sorted { $0.key < $1.key }.map { (Array($0.key.utf8).map(Int.init), $0.value) }
    var tokens: [[UInt8]] = (0..<256).map { [UInt8($0)] }
    for _ in 0..<merges {
        var counts: [Pair: Int] = [:]
        for (w, c) in words where w.count >= 2 {
            for k in 0..<(w.count - 1) { counts[Pair(a: w[k], b: w[k + 1]), default: 0] += c }
        }
        guard let best = counts.filter({ $0.value > 0 }).max(by: { x, y in
            x.value != y.value ? x.value < y.value : (x.key.a, x.key.b) > (y.key.a, y.key.b)
        }) else { break }
        let n = tokens.count
        tokens.append(tokens[best.key.a] + tokens[best.key.b])
        words = words.map { (w, c) in
            var out: [Int] = []
            var i = 0
            while i < w.count {
                if i + 1 < w.count && w[i] == best.key.a && w[i + 1] == best.key.b { out.append(n); i += 2 }
                else { out.append(w[i]); i += 1 }
            }
            return (out, c)
        }
    }
    return tokens
}

private struct Pair: Hashable { var a: Int; var b: Int }

@Suite struct BPETrainerTests {
    /// minbpe's example, worked by hand in BPETrainer+Merging.swift: aa, then the tie
    /// (256,97) vs (97,98) goes to (97,98) = "ab", then (256,257) = "aaab".
    @Test func handWorkedMinbpeExample() throws {
        let trainer = try BPETrainer(.init(vocabSize: 259))
        let result = try trainer.train(texts: ["aaabdaaabac"])
        #expect(mergedStrings(result.vocabulary) == ["aa", "ab", "aaab"])
        #expect(result.merges.map { [$0.left, $0.right] } == [[97, 97], [97, 98], [256, 257]])
        #expect(result.statistics.inputBytes == 11)
    }

    /// Identical ranks to rustbpe on 200 kB of Shakespeare (fixture made by scripts/fixtures/trainer_rustbpe.py).
    @Test func matchesRustbpeFixture() throws {
        let text = try FileIO.readBytes(TestData.repoPath("Corpora/tinyshakespeare.txt"))
        let expected = try rustbpeFixture("rustbpe-shakespeare200k-512.txt")
        let trainer = try BPETrainer(.init(vocabSize: 512, threads: 2))
        let chunk = Array(text[0..<200_000])
        var given = false
        let result = try trainer.train { defer { given = true }; return given ? nil : .init(chunk) }
        #expect(expected.count == 256)
        #expect(Array(result.vocabulary.tokens[256...]) == expected)
    }

    /// A custom split regex (cl100k with every digit its own piece) runs on the regex engine and
    /// still gives rustbpe's ranks exactly (fixture made by scripts/fixtures/trainer_rustbpe_custom.py
    /// from 200 kB of code and prose with many numbers).
    @Test func customPatternMatchesRustbpeFixture() throws {
        let digits = #"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"#
        let text = try FileIO.readBytes(TestData.repoPath("Corpora/sft/code_alpaca_2k.json"))
        let expected = try rustbpeFixture("rustbpe-codealpaca200k-1024-digits.txt")
        let pattern = SplitPattern(name: digits)
        #expect(pattern == .custom(digits))
        let trainer = try BPETrainer(.init(vocabSize: 1024, pattern: pattern, threads: 2))
        let chunk = Array(text[0..<200_000])
        var given = false
        let result = try trainer.train { defer { given = true }; return given ? nil : .init(chunk) }
        #expect(expected.count == 768)
        #expect(Array(result.vocabulary.tokens[256...]) == expected)
        #expect(result.vocabulary.pattern == pattern)
        // The digits rule held: no merged token contains a digit.
        #expect(!result.vocabulary.tokens[256...].contains { $0.contains { $0 >= 0x30 && $0 <= 0x39 } })
    }

    @Test func customPatternThatDoesNotCompileIsBadInput() {
        #expect(throws: LMError.self) { try BPETrainer(.init(vocabSize: 300, pattern: .custom("(unclosed"))) }
    }

    /// Same merges as the naive recount-everything twin on a slice of Shakespeare.
    @Test func matchesNaiveTwin() throws {
        let text = try FileIO.readBytes(TestData.repoPath("Corpora/tinyshakespeare.txt"))
        let slice = String(decoding: text[0..<30_000], as: UTF8.self)
        let pre = try PreTokenizer(pattern: .cl100k)
        var pieces: [String: Int] = [:]
        for p in pre.pieces(slice) { pieces[p, default: 0] += 1 }
        let naive = naiveTrain(pieces: pieces, merges: 150)
        let result = try BPETrainer(.init(vocabSize: 256 + 150)).train(texts: [slice])
        #expect(result.vocabulary.tokens == naive)
    }

    @Test func deterministicAcrossThreadCounts() throws {
        let text = try FileIO.readBytes(TestData.repoPath("Corpora/tinyshakespeare.txt"))
        // Many chunks, cut after "\n" + letter (where the split pattern always splits).
        var chunks: [[UInt8]] = []
        var lo = 0
        for i in 1..<120_000 where text[i - 1] == 10 && (65...90).contains(text[i]) && i - lo > 5_000 {
            chunks.append(Array(text[lo..<i])); lo = i
        }
        chunks.append(Array(text[lo..<120_000]))
        func run(_ threads: Int) throws -> [UInt8] {
            var k = 0
            let v = try BPETrainer(.init(vocabSize: 400, specialTokens: ["<|endoftext|>"], threads: threads)).train {
                defer { k += 1 }
                return k < chunks.count ? .init(chunks[k]) : nil
            }.vocabulary
            #expect(v.idLimit == 400)
            return VocabularyFile.encode(v)  // the bytes `vocab train` writes
        }
        let one = try run(1)
        #expect(try run(1) == one)
        #expect(try run(2) == one)
        #expect(try run(3) == one)
    }

    /// Cutting chunks after "\n" + ASCII letter gives the same vocabulary as one whole chunk.
    @Test func chunkingAtNewlineLetterDoesNotChangeResult() throws {
        let text = try FileIO.readBytes(TestData.repoPath("Corpora/tinyshakespeare.txt"))
        let whole = Array(text[0..<60_000])
        var chunks: [String] = []
        var lo = 0
        for i in 1..<whole.count where whole[i - 1] == 10 && (65...122).contains(whole[i]) && i - lo > 700 {
            chunks.append(String(decoding: whole[lo..<i], as: UTF8.self)); lo = i
        }
        chunks.append(String(decoding: whole[lo...], as: UTF8.self))
        #expect(chunks.count > 50)
        let a = try BPETrainer(.init(vocabSize: 350)).train(texts: [String(decoding: whole, as: UTF8.self)]).vocabulary.tokens
        let b = try BPETrainer(.init(vocabSize: 350)).train(texts: chunks).vocabulary.tokens
        #expect(a == b)
    }

    @Test func wholeShakespeareTo512() throws {
        let text = try FileIO.readBytes(TestData.repoPath("Corpora/tinyshakespeare.txt"))
        var given = false
        let result = try BPETrainer(.init(vocabSize: 512, specialTokens: ["<|endoftext|>"], threads: 2)).train {
            defer { given = true }
            return given ? nil : .init(text)
        }
        let v = result.vocabulary
        #expect(v.rankCount == 511)
        #expect(v.specialTokens == [SpecialToken("<|endoftext|>", id: 511)])
        #expect(result.statistics.inputBytes == Int64(text.count))
        #expect(result.statistics.merges == 255)
        // Every merged token is the concatenation of its two parents, parents earlier.
        for (k, m) in result.merges.enumerated() {
            #expect(m.left < 256 + k && m.right < 256 + k)
            #expect(v.tokens[256 + k] == v.tokens[m.left] + v.tokens[m.right])
        }
    }

    /// Pieces never cross a document start inside a chunk.
    @Test func documentStartsSplitPieces() throws {
        let bytes = Array("abcabc".utf8)
        var given = false
        let v = try BPETrainer(.init(vocabSize: 300)).train {
            defer { given = true }
            return given ? nil : .init(bytes, documentStarts: [3])
        }.vocabulary
        #expect(mergedStrings(v) == ["ab", "abc"])  // "abcabc" as one piece would also learn "abcabc"
    }

    @Test func specialTokensAreNotTrainedOn() throws {
        let text = String(repeating: "<|endoftext|>hi ", count: 50)
        let v = try BPETrainer(.init(vocabSize: 270, specialTokens: ["<|endoftext|>"])).train(texts: [text]).vocabulary
        #expect(!v.tokens.contains(Array("<|".utf8)))
        #expect(v.tokens.contains(Array("hi".utf8)))
        #expect(v.specialTokens.first?.id == v.rankCount)
    }

    @Test func stopsWhenNoPairsAreLeft() throws {
        let v = try BPETrainer(.init(vocabSize: 1000)).train(texts: ["abab"]).vocabulary
        #expect(mergedStrings(v) == ["ab", "abab"])
    }

    @Test func vocabSizeTooSmallIsAClearError() {
        #expect {
            _ = try BPETrainer(.init(vocabSize: 256, specialTokens: ["<|endoftext|>"]))
        } throws: { error in
            (error as? LMError)?.description.contains("at least 257") == true
        }
    }

    @Test func emptyTextIsAClearError() throws {
        let trainer = try BPETrainer(.init(vocabSize: 300))
        #expect(throws: LMError.self) { _ = try trainer.train(texts: []) }
        #expect(throws: LMError.self) { _ = try trainer.train(texts: [""]) }
    }

    @Test func invalidUTF8ChunkIsAClearError() throws {
        let trainer = try BPETrainer(.init(vocabSize: 300))
        var given = false
        #expect {
            _ = try trainer.train { defer { given = true }; return given ? nil : .init([0x61, 0x62, 0xFF, 0x63]) }
        } throws: { error in
            (error as? LMError)?.description.contains("byte offset 2") == true
        }
    }

    @Test func pieceCounterCountsDistinctPieces() {
        var c = PieceCounter(capacity: 16)
        var words: [String] = []
        for i in 0..<1000 { words.append("w\(i % 300)") }
        for w in words { Array(w.utf8).withUnsafeBytes { c.add($0) } }
        #expect(c.uniqueCount == 300)
        var total: UInt64 = 0
        c.forEach { _, n in total += n }
        #expect(total == 1000)
    }

    /// Every binary string of length 1…12 is distinct: packed short keys and hashed long keys
    /// never merge two different pieces.
    @Test func pieceCounterKeepsSimilarPiecesApart() {
        var c = PieceCounter(capacity: 16)
        var expected = 0
        for n in 1...12 {
            for bits in 0..<(1 << n) {
                let piece = (0..<n).map { (bits >> $0) & 1 == 1 ? UInt8(ascii: "b") : UInt8(ascii: "a") }
                piece.withUnsafeBytes { c.add($0, count: UInt64(n)) }
                expected += 1
            }
        }
        #expect(c.uniqueCount == expected)
        var ok = true
        c.forEach { bytes, count in ok = ok && count == UInt64(bytes.count) }
        #expect(ok)
    }

    @Test func mergeQueueOrdersByCountThenSmallestPair() {
        var q = MergeQueue()
        q.push(.init(count: 3, pair: PairTable.pack(97, 98), index: 0))
        q.push(.init(count: 3, pair: PairTable.pack(97, 97), index: 1))
        q.push(.init(count: 5, pair: PairTable.pack(300, 2), index: 2))
        q.push(.init(count: 1, pair: PairTable.pack(0, 0), index: 3))
        #expect([q.pop()?.index, q.pop()?.index, q.pop()?.index, q.pop()?.index, q.pop()?.index] == [2, 1, 0, 3, nil])
    }
}

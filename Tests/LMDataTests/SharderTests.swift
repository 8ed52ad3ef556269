import Foundation
import LMData
import LMSupport
import LMTestSupport
import Testing

/// Byte-level "tokenizer" for unit tests: id = byte, end-of-text = 256.
let byteEncode: @Sendable ([UInt8]) -> [UInt32] = { $0.map(UInt32.init) }
let byteEOT: UInt32 = 256

/// Decodes a byte-level shard directory back to documents.
func byteDocuments(_ dir: String, _ split: Split) throws -> [[UInt8]] {
    let m = try Manifest.read(directory: dir)
    var docs: [[UInt8]] = []
    for e in m.entries(split) {
        let r = try ShardReader(path: dir + "/" + e.file)
        let t = try r.readAll()
        var start = 0
        for end in r.index.documentEnds {
            #expect(t[end - 1] == byteEOT)
            docs.append(t[start..<(end - 1)].map { UInt8($0) })
            start = end
        }
    }
    return docs
}

func sampleDocuments(_ count: Int, seed: UInt64) -> [[UInt8]] {
    var rng = SeededRNG(seed: seed)
    let words = ["the", "cat", "sat", "on", "mat", "\n", "naïve", "日本語", "😀", "  "]
    return (0..<count).map { _ in
        Array((0..<rng.next(below: 300)).map { _ in words[rng.next(below: words.count)] }.joined(separator: " ").utf8)
    }
}

func byteParameters(_ dir: String) -> Sharder.Parameters {
    var p = Sharder.Parameters(output: dir, vocabSize: 257, vocabFingerprint: 0x1234, endOfTextID: byteEOT)
    p.shardTokens = 5_000
    p.frameTokens = 512
    p.valFraction = 0.2
    p.splitSeed = 9
    p.config = ["inputs": "test"]
    p.batchBytes = 4_000
    return p
}

@Suite struct SharderTests {
    @Test func textToShardsToTextIsByteIdentical() throws {
        let docs = sampleDocuments(200, seed: 1)
        let dir = TestData.temporaryDirectory("lmdata") + "/out"
        let s = try Sharder.run(byteParameters(dir), source: DocumentArray(docs), encode: byteEncode)
        let m = try Manifest.read(directory: dir)
        #expect(m.complete && m.train.count > 2 && !m.val.isEmpty)
        let isVal = (0..<docs.count).map { Sharder.isValidation(document: $0, fraction: 0.2, seed: 9) }
        #expect(try byteDocuments(dir, .train) == docs.indices.filter { !isVal[$0] }.map { docs[$0] })
        #expect(try byteDocuments(dir, .val) == docs.indices.filter { isVal[$0] }.map { docs[$0] })
        #expect(s.trainTokens + s.valTokens == docs.reduce(0) { $0 + $1.count + 1 })
        #expect(s.documents == 200)
    }

    @Test func splitIsByDocumentDeterministicAndNearTheFraction() {
        let n = 20_000
        let val = (0..<n).filter { Sharder.isValidation(document: $0, fraction: 0.1, seed: 5) }.count
        #expect(abs(Double(val) / Double(n) - 0.1) < 0.01)
        #expect((0..<100).map { Sharder.isValidation(document: $0, fraction: 0.5, seed: 1) }
                != (0..<100).map { Sharder.isValidation(document: $0, fraction: 0.5, seed: 2) })
    }

    @Test func sameRunTwiceGivesIdenticalBytesWhateverTheThreads() throws {
        let docs = sampleDocuments(80, seed: 2)
        let a = TestData.temporaryDirectory("lmdata") + "/a", b = TestData.temporaryDirectory("lmdata") + "/b"
        var pa = byteParameters(a); pa.threads = 1
        var pb = byteParameters(b); pb.threads = 4
        try Sharder.run(pa, source: DocumentArray(docs), encode: byteEncode)
        try Sharder.run(pb, source: DocumentArray(docs), encode: byteEncode)
        let m = try Manifest.read(directory: a)
        for e in m.train + m.val {
            #expect(try FileIO.readBytes(a + "/" + e.file) == FileIO.readBytes(b + "/" + e.file))
        }
    }

    /// A source that fails after `limit` documents (an interrupted run).
    struct FailingSource: DocumentSource {
        var docs: [[UInt8]]
        var limit: Int
        var totalBytes: Int64? { nil }
        func forEachDocument(_ body: ([UInt8]) throws -> Void) throws {
            for (i, d) in docs.enumerated() {
                if i == limit { throw LMError(.interrupted, "interrupted") }
                try body(d)
            }
        }
    }

    @Test func resumeKeepsFinishedShardsAndMakesTheSameResult() throws {
        let docs = sampleDocuments(300, seed: 3)
        let ref = TestData.temporaryDirectory("lmdata") + "/ref"
        try Sharder.run(byteParameters(ref), source: DocumentArray(docs), encode: byteEncode)
        let dir = TestData.temporaryDirectory("lmdata") + "/run"
        #expect(throws: LMError.self) {
            try Sharder.run(byteParameters(dir), source: FailingSource(docs: docs, limit: 200), encode: byteEncode)
        }
        let partial = try Manifest.read(directory: dir)
        #expect(!partial.complete && !partial.train.isEmpty)
        #expect { try DataLoader(directory: dir, split: .train, batchSize: 1, context: 8, seed: 0) }
            throws: { "\($0)".contains("not finished") }
        // Corrupt the last kept training shard: it must be re-made, the ones before kept.
        let victim = dir + "/" + partial.train.last!.file
        var bytes = try FileIO.readBytes(victim)
        bytes[100] ^= 0xFF
        try AtomicFileWriter.write(bytes, to: victim)
        let encoded = Counter()
        let s = try Sharder.run(byteParameters(dir), source: DocumentArray(docs),
                                encode: { encoded.add($0.count); return byteEncode($0) })
        #expect(s.shardsKept == partial.train.count - 1 + partial.val.count)
        #expect(encoded.value < docs.reduce(0) { $0 + $1.count })     // kept shards were not re-encoded
        let m = try Manifest.read(directory: dir), r = try Manifest.read(directory: ref)
        #expect(m.train == r.train && m.val == r.val)
        for e in m.train + m.val {
            #expect(try FileIO.readBytes(dir + "/" + e.file) == FileIO.readBytes(ref + "/" + e.file))
        }
        // A complete directory re-run is a no-op.
        let again = try Sharder.run(byteParameters(dir), source: DocumentArray(docs), encode: byteEncode)
        #expect(again.shardsMade == 0)
    }

    @Test func differentVocabOrConfigIntoTheSameDirectoryIsRefused() throws {
        let dir = TestData.temporaryDirectory("lmdata") + "/x"
        let docs = sampleDocuments(20, seed: 4)
        try Sharder.run(byteParameters(dir), source: DocumentArray(docs), encode: byteEncode)
        var p = byteParameters(dir); p.vocabFingerprint = 0x9999
        #expect { try Sharder.run(p, source: DocumentArray(docs), encode: byteEncode) } throws: { e in
            (e as? LMError)?.kind == .mismatch && "\(e)".contains("vocab")
        }
        var q = byteParameters(dir); q.shardTokens = 77
        #expect { try Sharder.run(q, source: DocumentArray(docs), encode: byteEncode) } throws: { e in
            "\(e)".contains("shardTokens")
        }
    }

    @Test func badInputGivesOneClearError() throws {
        let dir = TestData.temporaryDirectory("lmdata")
        #expect { try Sharder.run(byteParameters(dir + "/e"), source: DocumentArray([]), encode: byteEncode) }
            throws: { "\($0)".contains("no documents") }
        #expect(!FileIO.exists(dir + "/e"))                // nothing left behind
        var p = byteParameters(dir + "/f"); p.valFraction = 1.5
        #expect(throws: LMError.self) { try Sharder.run(p, source: DocumentArray([[1]]), encode: byteEncode) }
        let file = dir + "/plain"
        try AtomicFileWriter.write("x", to: file)
        #expect { try Sharder.run(byteParameters(file), source: DocumentArray([[1]]), encode: byteEncode) }
            throws: { "\($0)".contains("not a directory") }
        #expect { try Sharder.run(byteParameters(dir + "/g"), source: DocumentArray([[1]]), encode: { _ in [999] }) }
            throws: { "\($0)".contains("outside the vocabulary") }
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add(_ k: Int) { lock.lock(); n += k; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}

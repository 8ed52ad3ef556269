import Foundation
import Testing
import LMSupport
import LMTestSupport
@testable import LMTokenizer

/// One sample of Fixtures/tiktoken_ids.jsonl.
struct TiktokenSample {
    var corpus: String
    var index: Int
    var text: String
    var r50k: [UInt32]
    var cl100k: [UInt32]

    static func load() throws -> [TiktokenSample] {
        let path = TestData.repoPath("Tests/LMTokenizerTests/Fixtures/tiktoken_ids.jsonl")
        let text = try FileIO.readText(path)
        return try text.split(separator: "\n").map { line in
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            return TiktokenSample(corpus: o["corpus"] as! String, index: o["index"] as! Int, text: o["text"] as! String,
                                  r50k: (o["r50k"] as! [NSNumber]).map { $0.uint32Value },
                                  cl100k: (o["cl100k"] as! [NSNumber]).map { $0.uint32Value })
        }
    }
}

/// Must-show 1 (small version): ids identical to tiktoken `encode_ordinary` on committed samples
/// of every shared corpus. The full-corpus comparison is scripts/check_tiktoken.py.
@Suite struct TiktokenEquivalenceTests {
    @Test func r50kMatchesTiktoken() throws {
        let tok = try BPETokenizer(try VocabularyFile.read(TestData.repoPath("Vocab/gpt2.vocab")))
        let samples = try TiktokenSample.load()
        #expect(Set(samples.map(\.corpus)).isSuperset(of: ["tinyshakespeare", "gutenberg", "udhr2", "emoji", "cpython"]))
        for s in samples {
            let ids = tok.encodeOrdinary(s.text)
            #expect(ids == s.r50k, "r50k \(s.corpus) #\(s.index)")
            #expect(try tok.decode(ids) == Array(s.text.utf8))
        }
        // Batch gives the same.
        #expect(tok.encodeOrdinaryBatch(samples.map(\.text)) == samples.map(\.r50k))
    }

    @Test func cl100kMatchesTiktoken() throws {
        guard let shared = TestData.sharedCorpora else { return }  // cl100k ranks live only in ../shared
        let v = try VocabularyImport(input: shared + "/vocab/cl100k_base.tiktoken").run()
        #expect(v.specialTokens.count == 5 && v.pattern == .cl100k)
        let tok = try BPETokenizer(v)
        for s in try TiktokenSample.load() {
            let ids = tok.encodeOrdinary(s.text)
            #expect(ids == s.cl100k, "cl100k \(s.corpus) #\(s.index)")
            #expect(try tok.decode(ids) == Array(s.text.utf8))
        }
    }
}

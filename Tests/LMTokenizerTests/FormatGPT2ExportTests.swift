import Foundation
import Testing
import LMSupport
import LMTestSupport
@testable import LMTokenizer

/// `lmkit vocab export --format gpt2`: encoder.json + vocab.bpe.
@Suite struct FormatGPT2ExportTests {
    /// A trained vocabulary (bytes at ranks 0..255 in byte order, cl100k pattern, a special)
    /// survives export → import unchanged.
    @Test func trainedVocabularyRoundTrips() throws {
        let text = String(decoding: try FileIO.readBytes(TestData.repoPath("Corpora/tinyshakespeare.txt")).prefix(200_000),
                          as: UTF8.self)
        let v = try BPETrainer(.init(vocabSize: 256 + 400, specialTokens: ["<|endoftext|>"])).train(texts: [text]).vocabulary
        let dir = TestData.temporaryDirectory()
        try VocabularyExport(vocabulary: v, format: .gpt2, output: dir + "/s-encoder.json").run()
        #expect(FileIO.exists(dir + "/s-vocab.bpe"))
        let back = try VocabularyImport(input: dir + "/s-encoder.json", pattern: v.pattern).run()
        #expect(back == v)
    }

    /// GPT-2's vocabulary comes out as OpenAI's files: vocab.bpe byte for byte, encoder.json with
    /// the same entries; and tiktoken's and Hugging Face's GPT-2 loaders read the export
    /// (scripts/fixtures/check_gpt2_export.py) when ../shared and ../venv are present.
    @Test func gpt2VocabularyGivesOpenAIsFiles() throws {
        let v = try VocabularyFile.read(TestData.repoPath("Vocab/gpt2.vocab"))
        let dir = TestData.temporaryDirectory()
        try VocabularyExport(vocabulary: v, format: .gpt2, output: dir + "/encoder.json").run()
        #expect(try VocabularyImport(input: dir + "/encoder.json").run() == v)
        let bpe = try FileIO.readBytes(dir + "/vocab.bpe")
        #expect(bpe.starts(with: Array("#version: 0.2\nĠ t\nĠ a\n".utf8)))
        #expect(bpe.filter { $0 == 0x0A }.count == 1 + 50_000)
        guard let shared = TestData.sharedCorpora else { return }
        #expect(bpe == (try FileIO.readBytes(shared + "/vocab/gpt2-vocab.bpe")))
        let mine = try JSONSerialization.jsonObject(with: Data(try FileIO.readBytes(dir + "/encoder.json"))) as? [String: Int]
        let theirs = try JSONSerialization.jsonObject(with: Data(try FileIO.readBytes(shared + "/vocab/gpt2-encoder.json"))) as? [String: Int]
        #expect(mine != nil && mine == theirs)
        guard let python = TestData.referencePython else { return }
        let r = try TestData.runPython(python, script: "scripts/fixtures/check_gpt2_export.py",
                                       [dir + "/encoder.json", dir + "/vocab.bpe", shared + "/vocab/r50k_base.tiktoken"])
        #expect(r.status == 0, "\(String(decoding: r.stdout, as: UTF8.self))")
    }

    /// The merge written for each rank is the last step of byte-pair encoding its own bytes.
    @Test func lastMergeFollowsTheRankOrder() {
        var tokens = (0..<256).map { [UInt8($0)] }
        for t in ["ab", "bc", "abc", "abcd"] { tokens.append(Array(t.utf8)) }   // 256 ab, 257 bc, 258 abc, 259 abcd
        let tables = RankTables(tokens: tokens)
        let a = UInt32(UInt8(ascii: "a")), c = UInt32(UInt8(ascii: "c")), d = UInt32(UInt8(ascii: "d"))
        #expect(GPT2Files.lastMerge(of: Array("abc".utf8), below: 258, tables).map { [$0.0, $0.1] } == [256, c])   // ab < bc
        #expect(GPT2Files.lastMerge(of: Array("abcd".utf8), below: 259, tables).map { [$0.0, $0.1] } == [258, d])
        #expect(GPT2Files.lastMerge(of: Array("ab".utf8), below: 256, tables).map { [$0.0, $0.1] } == [a, UInt32(UInt8(ascii: "b"))])
    }

    /// Vocabularies GPT-2's format cannot hold are refused before anything is written.
    @Test func unrepresentableVocabulariesAreRefused() throws {
        let dir = TestData.temporaryDirectory()
        // A token that no merge of two lower-ranked tokens makes: "abc" without "ab" or "bc".
        var tokens = (0..<256).map { [UInt8($0)] }
        tokens.append(Array("abc".utf8))
        let unreachable = try Vocabulary(pattern: .gpt2, tokens: tokens)
        // Bytes not at ranks 0..255.
        var moved = (0..<256).map { [UInt8($0)] }
        moved.insert(Array("ab".utf8), at: 10)
        let shifted = try Vocabulary(pattern: .gpt2, tokens: moved)
        for (v, what) in [(unreachable, "is not the merge of two lower-ranked tokens"), (shifted, "are not the 256 single bytes")] {
            #expect(throws: LMError.self) { try VocabularyExport(vocabulary: v, format: .gpt2, output: dir + "/encoder.json").run() }
            do { try VocabularyExport(vocabulary: v, format: .gpt2, output: dir + "/encoder.json").run() } catch let e as LMError {
                #expect(e.message.contains(what), "\(e.message)")
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
        }
        // The output must name the encoder.json.
        #expect(throws: LMError.self) { try VocabularyExport(vocabulary: try tinyVocabulary(), format: .gpt2, output: dir + "/x.json").run() }
    }
}

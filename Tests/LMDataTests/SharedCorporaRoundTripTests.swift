import Foundation
import LMCorpus
import LMData
import LMSupport
import LMTestSupport
import LMTokenizer
import Testing

/// Text → shards → text with real vocabularies on the shared corpora: every document comes
/// back byte-identical, its ids are the tokenizer's own (`lmkit tokenize --special-as-text`)
/// followed by `<|endoftext|>`, and train/val together give the input order back.
/// Skips when ../shared/corpora is absent. Gutenberg (114 MB) only with LMKIT_FULL_CORPORA=1
/// (`lmkit shard` + `lmkit shards cat --decode` on it is in the report / BENCHMARKS.md).
@Suite struct SharedCorporaRoundTripTests {
    static let cases: [(file: String, field: String)] = [
        ("tinyshakespeare.txt", "text"),
        ("multilingual/udhr2-multilingual-A.jsonl", "text"),
        ("multilingual/emoji-test-A.txt", "text"),
        ("multilingual/cpython311-stdlib-A.jsonl", "text"),
        ("sft/alpaca_seed_tasks.jsonl", "instruction"),
        ("sft/code_alpaca_2k.json", "output"),
        ("preference/hh-rlhf-harmless-base-test.A.jsonl", "chosen"),
    ] + (ProcessInfo.processInfo.environment["LMKIT_FULL_CORPORA"] == "1" ? [("gutenberg-en-A.txt.zst", "text")] : [])

    static let gpt2: BPETokenizer? = try? BPETokenizer(VocabularyFile.read(TestData.repoPath("Vocab/gpt2.vocab")))

    func roundTrip(_ file: String, field: String, tokenizer: BPETokenizer) throws {
        guard let root = TestData.sharedCorpora else { return }   // no shared corpora here: skip
        let path = root + "/" + file
        let reader = try CorpusDocumentReader(inputs: [path], options: .init(textField: field, splitAtEndOfText: true))
        var docs: [[UInt8]] = []
        while let d = try reader.next() { docs.append(d.bytes) }
        let eot = UInt32(tokenizer.vocabulary.specialID("<|endoftext|>")!)
        let dir = TestData.temporaryDirectory("lmdata") + "/shards"
        var p = Sharder.Parameters(output: dir, vocabSize: tokenizer.vocabulary.idLimit,
                                   vocabFingerprint: UInt64(tokenizer.vocabulary.fingerprint, radix: 16)!, endOfTextID: eot)
        p.valFraction = 0.1
        p.shardTokens = 200_000
        try Sharder.run(p, source: DocumentArray(docs), encode: { tokenizer.encodeOrdinary(bytes: $0) })
        let back = try ShardDocuments(directory: dir, split: nil)
        for (i, doc) in docs.enumerated() {
            let ids = try #require(try back.next(), "\(file): document \(i) missing")
            #expect(ids.last == eot)
            let body = Array(ids.dropLast())
            #expect(try tokenizer.decode(body) == doc, "\(file): document \(i) differs")
            #expect(body == tokenizer.encodeOrdinary(bytes: doc), "\(file): document \(i) ids differ")
        }
        #expect(try back.next() == nil)
        let m = try Manifest.read(directory: dir)
        #expect(m.tokenWidth == (tokenizer.vocabulary.idLimit <= 65_536 ? 2 : 4))
    }

    @Test(.enabled(if: TestData.sharedCorpora != nil && gpt2 != nil), arguments: cases.map(\.file))
    func gpt2RoundTrip(file: String) throws {
        try roundTrip(file, field: Self.cases.first { $0.file == file }!.field, tokenizer: Self.gpt2!)
    }

    @Test(.enabled(if: TestData.sharedCorpora != nil), arguments: ["multilingual/udhr2-multilingual-A.jsonl", "tinyshakespeare.txt"])
    func cl100kRoundTripUsesU32Tokens(file: String) throws {
        guard let root = TestData.sharedCorpora else { return }
        let tok = try BPETokenizer(VocabularyImport(input: root + "/vocab/cl100k_base.tiktoken").run())
        try roundTrip(file, field: "text", tokenizer: tok)
    }
}

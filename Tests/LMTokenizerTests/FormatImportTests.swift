import Foundation
import Testing
import LMSupport
import LMTestSupport
@testable import LMTokenizer

@Suite struct FormatImportTests {
    @Test func byteLevelMappingIsGPT2s() {
        #expect(ByteLevelMapping.encode([0x20]) == "Ġ")
        #expect(ByteLevelMapping.encode([0x0A]) == "Ċ")
        #expect(ByteLevelMapping.encode(Array("hi!".utf8)) == "hi!")
        let all = (0..<256).map { UInt8($0) }
        #expect(ByteLevelMapping.decode(ByteLevelMapping.encode(all)) == all)
        #expect(Set(ByteLevelMapping.scalarOfByte).count == 256)
        #expect(ByteLevelMapping.decode("\u{2603}") == nil)
    }

    /// The shipped Vocab/gpt2.vocab equals each of the three GPT-2 sources in ../shared.
    @Test func gpt2ThreeWaysIdentical() throws {
        let shipped = try VocabularyFile.read(TestData.repoPath("Vocab/gpt2.vocab"))
        #expect(shipped.tokens.count == 50256)
        #expect(shipped.specialTokens == [SpecialToken("<|endoftext|>", id: 50256)])
        #expect(shipped.pattern == .gpt2)
        guard let shared = TestData.sharedCorpora else { return }  // ../shared absent: only the shipped file
        let dir = shared + "/vocab"
        let fromTiktoken = try VocabularyImport(input: dir + "/r50k_base.tiktoken").run()
        let fromGPT2 = try VocabularyImport(input: dir + "/gpt2-encoder.json").run()
        let fromHF = try VocabularyImport(input: dir + "/gpt2-tokenizer.json").run()
        #expect(fromTiktoken == shipped)
        #expect(fromGPT2 == shipped)
        #expect(fromHF == shipped)
    }

    /// Export → import is the identity for every writable format.
    @Test func exportImportRoundTrip() throws {
        let dir = TestData.temporaryDirectory()
        let v = try randomVocabulary(seed: 21, merges: 200, alphabet: Array("ab\"\\ \n\u{e9}".utf8))
        let withSpecial = try Vocabulary(pattern: .cl100k, tokens: v.tokens,
                                         specialTokens: [SpecialToken("<|end\"of\\text|>", id: v.tokens.count + 3)])
        for (format, name) in [(VocabularyFormat.lmkit, "x.vocab"), (.tiktoken, "x.tiktoken"), (.hf, "x.json")] {
            let path = dir + "/" + name
            try VocabularyExport(vocabulary: withSpecial, format: format, output: path).run()
            let back = try VocabularyImport(input: path, pattern: format == .tiktoken ? .cl100k : nil,
                                            specialTokens: format == .tiktoken ? withSpecial.specialTokens : nil).run()
            #expect(back == withSpecial, "format \(format)")
        }
    }

    /// A vocab trained with a custom split regex keeps it through the lmkit and HF formats.
    @Test func customPatternSurvivesExport() throws {
        let dir = TestData.temporaryDirectory()
        let custom = SplitPattern.custom(#"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"#)
        let v = try tinyVocabulary(pattern: custom)
        for (format, name) in [(VocabularyFormat.lmkit, "c.vocab"), (.hf, "c.json")] {
            let path = dir + "/" + name
            try VocabularyExport(vocabulary: v, format: format, output: path).run()
            #expect(try VocabularyImport(input: path).run().pattern == custom, "format \(format)")
        }
    }

    /// HF tokenizers runs Oniguruma, where `X{1,3}+` is not possessive: the export rewrites it.
    @Test func exportedRegexIsOnigurumaSafe() throws {
        let v = try tinyVocabulary(pattern: .cl100k)
        let json = String(decoding: HFTokenizerFile.encode(v), as: UTF8.self)
        #expect(json.contains(#"(?>\\p{N}{1,3})"#))
        #expect(!json.contains(#"\\p{N}{1,3}+"#))
        #expect(json.contains("\"ignore_merges\": true"))
        let dir = TestData.temporaryDirectory()
        try HFTokenizerFile.write(v, to: dir + "/t.json")
        #expect(try HFTokenizerFile.read(dir + "/t.json").pattern == .cl100k)
    }

    @Test func badFilesNameTheFile() throws {
        let dir = TestData.temporaryDirectory()
        let truncatedJSON = dir + "/t.json"
        try AtomicFileWriter.write("{\"model\": {\"type\": \"BPE\", \"vocab\": {", to: truncatedJSON)
        #expect { try VocabularyImport(input: truncatedJSON).run() } throws: { e in
            "\(e)".hasPrefix(truncatedJSON + ": not valid JSON")
        }
        let unigram = dir + "/u.json"
        try AtomicFileWriter.write("{\"model\": {\"type\": \"Unigram\"}}", to: unigram)
        #expect { try VocabularyImport(input: unigram).run() } throws: { e in "\(e)".contains("not BPE") }
        #expect { try VocabularyImport(input: dir + "/missing.tiktoken", encoding: .r50k).run() } throws: { e in
            "\(e)".contains("missing.tiktoken") && "\(e)".contains("no such file")
        }
        let unknown = dir + "/ranks.tiktoken"
        try AtomicFileWriter.write("IQ== 0\n", to: unknown)
        #expect { try VocabularyImport(input: unknown).run() } throws: { e in "\(e)".contains("--encoding") }
        #expect { try VocabularyImport(input: dir + "/x.bin").run() } throws: { e in "\(e)".contains("--format") }
    }
}

import Foundation
import Testing
import LMSupport
import LMTestSupport
@testable import LMTokenizer

/// A tiny valid vocabulary: 256 bytes + "ab" + "abc", one special.
func tinyVocabulary(pattern: SplitPattern = .cl100k) throws -> Vocabulary {
    var tokens = (0..<256).map { [UInt8($0)] }
    tokens.append(Array("ab".utf8)); tokens.append(Array("abc".utf8))
    return try Vocabulary(pattern: pattern, tokens: tokens, specialTokens: [SpecialToken("<|endoftext|>", id: 258)])
}

@Suite struct VocabularyFileTests {
    @Test func base64MatchesFoundation() {
        var rng = SeededRNG(seed: 7)
        for n in 0..<40 {
            let bytes = (0..<n).map { _ in UInt8(rng.next(below: 256)) }
            let mine = Base64.encode(bytes)
            #expect(mine == Data(bytes).base64EncodedString())
            #expect(Base64.decode(ArraySlice(mine.utf8)) == bytes)
        }
        #expect(Base64.decode(ArraySlice("aGk".utf8)) == nil)
        #expect(Base64.decode(ArraySlice("a*k=".utf8)) == nil)
    }

    @Test func roundTripAllPatterns() throws {
        let dir = TestData.temporaryDirectory()
        for p in [SplitPattern.gpt2, .cl100k, .o200k, .custom(#"\p{L}+|\s+|."#)] {
            let v = try tinyVocabulary(pattern: p)
            let path = dir + "/t.vocab"
            try VocabularyFile.write(v, to: path)
            let back = try VocabularyFile.read(path)
            #expect(back == v)
            #expect(back.fingerprint == v.fingerprint)
        }
    }

    @Test func fileStartsWithMagicAndEndsWithChecksum() throws {
        let text = String(decoding: VocabularyFile.encode(try tinyVocabulary()), as: UTF8.self)
        let lines = text.split(separator: "\n")
        #expect(lines.first == "lmkit-vocab 1")
        #expect(lines[1] == "pattern gpt4")
        #expect(lines[2] == "specials 1")
        #expect(lines[4] == "ranks 258")
        #expect(lines.count == 5 + 258 + 1)
        #expect(lines.last!.hasPrefix("end "))
    }

    /// Every truncation of a valid file is rejected with an error naming the file.
    @Test func truncatedFilesAreRejected() throws {
        let bytes = VocabularyFile.encode(try tinyVocabulary())
        for cut in stride(from: 0, to: bytes.count, by: 37) {
            #expect(throws: LMError.self) { _ = try VocabularyFile.decode(Array(bytes[0..<cut]), file: "x.vocab") }
            do { _ = try VocabularyFile.decode(Array(bytes[0..<cut]), file: "x.vocab") } catch let e as LMError {
                #expect(e.file == "x.vocab")
                #expect(e.kind == .badFormat)
            }
        }
        #expect(throws: LMError.self) { _ = try VocabularyFile.decode(Array(bytes.dropLast()), file: "x.vocab") }
    }

    @Test func corruptedAndForeignFilesAreRejected() throws {
        var bytes = VocabularyFile.encode(try tinyVocabulary())
        var i = bytes.count / 2
        while bytes[i] == UInt8(ascii: "\n") { i += 1 }
        bytes[i] = bytes[i] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect { try VocabularyFile.decode(bytes, file: "x.vocab") } throws: { e in
            "\(e)".contains("x.vocab") && ("\(e)".contains("checksum") || "\(e)".contains("base64") || "\(e)".contains("repeats"))
        }
        #expect { try VocabularyFile.decode(Array("IQ== 0\n".utf8), file: "r.tiktoken") } throws: { e in
            "\(e)".contains("not an lmkit vocab file")
        }
        #expect { try VocabularyFile.decode(Array("lmkit-vocab 9\n".utf8), file: "x.vocab") } throws: { e in
            "\(e)".contains("newer")
        }
        #expect { try VocabularyFile.read("/nonexistent/dir/none.vocab") } throws: { e in
            "\(e)".contains("/nonexistent/dir/none.vocab") && "\(e)".contains("no such file")
        }
    }

    @Test func writeIntoMissingDirectoryLeavesNothing() throws {
        #expect(throws: LMError.self) { try VocabularyFile.write(try tinyVocabulary(), to: "/nonexistent-dir/x.vocab") }
    }

    @Test func tiktokenRoundTripAndErrors() throws {
        let v = try tinyVocabulary()
        let back = try TiktokenFile.decode(TiktokenFile.encode(v), file: "t.tiktoken", pattern: .cl100k,
                                           specialTokens: v.specialTokens)
        #expect(back == v)
        #expect(throws: LMError.self) {
            try TiktokenFile.decode(Array("IQ== 0\nIg== 2\n".utf8), file: "t.tiktoken", pattern: .gpt2, specialTokens: [])
        }
        #expect(throws: LMError.self) {
            try TiktokenFile.decode(Array("IQ==0\n".utf8), file: "t.tiktoken", pattern: .gpt2, specialTokens: [])
        }
    }
}

import Foundation
import LMCompression
import LMData
import LMSupport
import LMTestSupport
import Testing

@Suite struct ShardFormatTests {
    @Test func crc32MatchesTheStandardCheckValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
    }

    @Test func zstdFrameRoundTrips() throws {
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 * 7 / 3) }
        let frame = try ZstdFrame.compress(bytes, level: 3)
        #expect(frame.count < bytes.count)
        #expect(try ZstdFrame.decompress(frame, decompressedSize: bytes.count) == bytes)
        #expect(throws: LMError.self) { try ZstdFrame.decompress(frame, decompressedSize: bytes.count + 1) }
    }

    @Test(arguments: [1000, 70_000])
    func writeThenReadGivesTheSameTokens(vocab: Int) throws {
        let dir = TestData.temporaryDirectory("lmdata")
        let tokens = TestShards.tokens(1000, vocab: vocab, seed: 7)
        let path = dir + "/a.lmshard"
        let w = try ShardWriter.write(tokens: tokens, documentEnds: [10, 500, 1000], to: path,
                                      options: .init(vocabSize: vocab, vocabFingerprint: 42, frameTokens: 300))
        #expect(w.frames == 4)
        let r = try ShardReader(path: path)
        #expect(r.header.tokenWidth == (vocab <= 65_536 ? 2 : 4))
        #expect(r.header.vocabFingerprint == 42)
        #expect(r.index.documentEnds == [10, 500, 1000])
        #expect(try r.readAll() == tokens)
        #expect(try r.readFrame(3) == Array(tokens[900...]))
        try r.verify()
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as! NSNumber).intValue
        #expect(size == w.bytes)
    }

    @Test func idsOutsideTheVocabularyAreRefusedAndNothingIsWritten() throws {
        let dir = TestData.temporaryDirectory("lmdata")
        #expect(throws: LMError.self) {
            try ShardWriter.write(tokens: [1, 2, 1000], documentEnds: [3], to: dir + "/x.lmshard",
                                  options: .init(vocabSize: 1000, vocabFingerprint: 1))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }
}

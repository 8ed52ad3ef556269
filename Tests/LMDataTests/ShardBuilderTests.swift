@testable import LMData
import LMSupport
import LMTestSupport
import Testing

/// The streaming builder (frames compressed as tokens arrive) writes exactly the bytes of the
/// one-shot writer.
@Suite struct ShardBuilderTests {
    @Test(arguments: [1, 255, 256, 1000])
    func builderBytesEqualWriterBytes(pieces: Int) throws {
        let dir = TestData.temporaryDirectory("lmdata")
        let tokens = TestShards.tokens(10_000, vocab: 70_000, seed: 4)
        let opts = ShardWriter.Options(vocabSize: 70_000, vocabFingerprint: 5, frameTokens: 256)
        let b = ShardBuilder(path: dir + "/b.lmshard", options: opts)
        var ends: [Int] = []
        var k = 0
        while k < tokens.count {
            let n = min(pieces, tokens.count - k)
            b.append(Array(tokens[k..<(k + n)]))
            k += n
            b.endDocument()
            ends.append(k)
        }
        let wb = try b.finish()
        let ww = try ShardWriter.write(tokens: tokens, documentEnds: ends, to: dir + "/w.lmshard", options: opts)
        #expect(wb.bytes == ww.bytes)
        #expect(try FileIO.readBytes(dir + "/b.lmshard") == FileIO.readBytes(dir + "/w.lmshard"))
    }
}

import Foundation
import LMData
import LMSupport
import LMTestSupport
import Testing

/// llm.c and nanoGPT token files convert to shards the loader reads, with the same ids.
@Suite struct ImportTests {
    static func llmcFile(_ tokens: [UInt32], magic: Int32, path: String) throws {
        var w = ByteWriter()
        var header = [Int32](repeating: 0, count: 256)
        header[0] = magic
        header[1] = magic == 20_240_520 ? 1 : 7
        header[2] = Int32(tokens.count)
        for h in header { w.writeInteger(h) }
        for t in tokens { if magic == 20_240_520 { w.writeInteger(UInt16(t)) } else { w.writeInteger(t) } }
        try AtomicFileWriter.write(w.bytes, to: path)
    }

    @Test(arguments: [Int32(20_240_520), 20_240_801])
    func llmcShardsConvertWithTheSameIds(magic: Int32) throws {
        let dir = TestData.temporaryDirectory("lmdata")
        let vocab = magic == 20_240_520 ? 50_257 : 128_256
        var train = TestShards.tokens(5000, vocab: vocab, seed: 1)
        train[0] = 50_256; train[1234] = 50_256
        let val = TestShards.tokens(999, vocab: vocab, seed: 2)
        try Self.llmcFile(train, magic: magic, path: dir + "/fineweb_train_000001.bin")
        try Self.llmcFile(val, magic: magic, path: dir + "/fineweb_val_000000.bin")
        var p = TokenFileImport.Parameters(output: dir + "/shards", format: .llmc)
        p.shardTokens = 2000
        p.frameTokens = 256
        let s = try TokenFileImport.run(files: [dir + "/fineweb_train_000001.bin", dir + "/fineweb_val_000000.bin"], p)
        #expect(s.trainTokens == 5000 && s.valTokens == 999 && s.shards == 4)
        let m = try Manifest.read(directory: dir + "/shards")
        #expect(m.vocabSize == vocab && m.tokenWidth == (vocab <= 65_536 ? 2 : 4))
        let got = try m.train.flatMap { try ShardReader(path: dir + "/shards/" + $0.file).readAll() }
        #expect(got == train)
        #expect(try ShardReader(path: dir + "/shards/" + m.val[0].file).readAll() == val)
        if magic == 20_240_520 {
            #expect(try ShardReader(path: dir + "/shards/" + m.train[0].file).index.documentEnds == [1, 1235, 2000])
        }
        let loader = try DataLoader(directory: dir + "/shards", split: .train, batchSize: 2, context: 64, seed: 0)
        #expect(try loader.next().inputs.count == 128)
    }

    @Test func nanoGPTRawBinConverts() throws {
        let dir = TestData.temporaryDirectory("lmdata")
        let tokens = TestShards.tokens(3001, vocab: 50_257, seed: 3)
        var w = ByteWriter()
        for t in tokens { w.writeInteger(UInt16(t)) }
        try AtomicFileWriter.write(w.bytes, to: dir + "/train.bin")
        try TokenFileImport.run(files: [dir + "/train.bin"], .init(output: dir + "/s", format: .nanogpt))
        let m = try Manifest.read(directory: dir + "/s")
        #expect(m.val.isEmpty && m.train.count == 1)
        #expect(try ShardReader(path: dir + "/s/" + m.train[0].file).readAll() == tokens)
    }

    @Test func badTokenFilesGiveOneClearLine() throws {
        let dir = TestData.temporaryDirectory("lmdata")
        try AtomicFileWriter.write([UInt8](repeating: 0, count: 2048), to: dir + "/zero.bin")
        #expect { try TokenFileImport.run(files: [dir + "/zero.bin"], .init(output: dir + "/a", format: .llmc)) }
            throws: { "\($0)".contains("magic") && "\($0)".contains("zero.bin") }
        try Self.llmcFile([1, 2, 3], magic: 20_240_520, path: dir + "/short.bin")
        var bytes = try FileIO.readBytes(dir + "/short.bin")
        bytes.removeLast()
        try AtomicFileWriter.write(bytes, to: dir + "/short.bin")
        #expect { try TokenFileImport.run(files: [dir + "/short.bin"], .init(output: dir + "/b", format: .llmc)) }
            throws: { "\($0)".contains("truncated") }
        try AtomicFileWriter.write([1, 2, 3], to: dir + "/odd.bin")
        #expect(throws: LMError.self) { try TokenFileImport.run(files: [dir + "/odd.bin"], .init(output: dir + "/c", format: .nanogpt)) }
        #expect(throws: LMError.self) { try TokenFileImport.run(files: [dir + "/missing.bin"], .init(output: dir + "/d", format: .nanogpt)) }
        #expect(!FileIO.exists(dir + "/a/train-00000.lmshard"))
    }
}

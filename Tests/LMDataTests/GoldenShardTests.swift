import Foundation
import LMData
import LMSupport
import LMTestSupport
import Testing

/// Shards made by hand (`scripts/fixtures/make_golden_shard.py`, from docs/SHARD_FORMAT.md only)
/// decode with lmkit's reader; shards made by lmkit decode with the Python reader
/// (`scripts/lmshard_reader.py`, also written from the page) to the same ids.
@Suite struct GoldenShardTests {
    static let fixtures = TestData.repoPath("Tests/LMDataTests/Fixtures")

    @Test func handMadeU16ShardDecodes() throws {
        let r = try ShardReader(path: Self.fixtures + "/golden-u16.lmshard")
        #expect(r.header.tokenWidth == 2 && r.header.vocabSize == 300 && r.header.frameTokens == 4)
        #expect(r.header.vocabFingerprint == 0x0102_0304_0506_0708)
        #expect(r.index.frames.count == 3)
        #expect(r.index.documentEnds == [6, 10])
        try r.verify()
        #expect(try r.readAll() == [0, 1, 2, 255, 256, 299, 7, 7, 42, 299])
        #expect(try r.readFrame(2) == [42, 299])
    }

    @Test func handMadeU32ShardDecodes() throws {
        let r = try ShardReader(path: Self.fixtures + "/golden-u32.lmshard")
        #expect(r.header.tokenWidth == 4 && r.header.vocabSize == 100_000)
        #expect(r.index.documentEnds == [3, 5])
        #expect(try r.readAll() == [65_535, 65_536, 99_999, 0, 12_345])
    }

    /// An interpreter that has `zstandard`: $LMKIT_PYTHON, ../venv/bin/python, or python3.
    static let python: String? = {
        var candidates: [String] = []
        if let p = ProcessInfo.processInfo.environment["LMKIT_PYTHON"] { candidates.append(p) }
        candidates.append((TestData.packageRoot as NSString).deletingLastPathComponent + "/venv/bin/python")
        candidates.append("python3")
        for c in candidates where (try? run(c, ["-c", "import zstandard"]))?.status == 0 { return c }
        return nil
    }()

    static func run(_ exe: String, _ args: [String]) throws -> (status: Int32, out: String) {
        let r = try TestData.run(exe, args)
        return (r.status, String(decoding: r.stdout, as: UTF8.self))
    }

    @Test(.enabled(if: python != nil, "needs a Python with zstandard (set LMKIT_PYTHON)"),
          arguments: [1000, 70_000])
    func pythonReaderAgreesWithLmkit(vocab: Int) throws {
        let tokens = TestShards.tokens(150_000, vocab: vocab, seed: 99)
        let dir = try TestShards.directory(train: [tokens, Array(tokens[..<777])], vocab: vocab, frameTokens: 4096)
        let script = TestData.repoPath("scripts/lmshard_reader.py")
        let result = try Self.run(Self.python!, [script, dir])
        #expect(result.status == 0)
        let ids = result.out.split(separator: "\n").map { UInt32($0)! }
        #expect(ids == tokens + tokens[..<777])
        // And it refuses a corrupted shard instead of printing ids.
        let shard = dir + "/train-00001.lmshard"
        var bytes = try FileIO.readBytes(shard)
        bytes[bytes.count / 2] ^= 0x10
        try AtomicFileWriter.write(bytes, to: shard)
        #expect(try Self.run(Self.python!, [script, shard]).status != 0)
    }
}

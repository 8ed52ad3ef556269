import Foundation
import LMData
import LMSupport
import LMTestSupport

/// Helpers shared by the LMData tests: seeded token streams and small shard directories.
enum TestShards {
    /// Replaces a scratch file's bytes without fsync (corruption tests write hundreds of copies).
    static func overwrite(_ path: String, _ bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw LMError.io(file: path, "cannot write test file") }
        defer { close(fd) }
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else { throw LMError.io(file: path, "short write") }
    }

    /// `count` pseudo-random ids below `vocab` from `seed`.
    static func tokens(_ count: Int, vocab: Int, seed: UInt64) -> [UInt32] {
        var rng = SeededRNG(seed: seed)
        return (0..<count).map { _ in UInt32(rng.next(below: vocab)) }
    }

    /// Writes each token array as one training shard (and `val` as validation shards) plus a
    /// manifest; returns the directory.
    static func directory(train: [[UInt32]], val: [[UInt32]] = [], vocab: Int = 1000,
                          frameTokens: Int = 64, fingerprint: UInt64 = 0xABCD) throws -> String {
        let dir = TestData.temporaryDirectory("lmdata")
        let opts = ShardWriter.Options(vocabSize: vocab, vocabFingerprint: fingerprint, frameTokens: frameTokens)
        func entries(_ arrays: [[UInt32]], _ split: String) throws -> [Manifest.Entry] {
            try arrays.enumerated().map { i, t in
                let name = "\(split)-\(String(format: "%05d", i)).lmshard"
                let w = try ShardWriter.write(tokens: t, documentEnds: [t.count], to: dir + "/" + name, options: opts)
                return Manifest.Entry(file: name, tokens: w.tokens, documents: w.documents, frames: w.frames,
                                      bytes: w.bytes, firstDocument: i, endDocument: i + 1)
            }
        }
        let m = Manifest(vocabFingerprint: fingerprint, vocabSize: vocab, endOfTextID: nil, frameTokens: frameTokens,
                         complete: true, config: [:], command: "test",
                         train: try entries(train, "train"), val: try entries(val, "val"))
        try m.write(directory: dir)
        return dir
    }
}

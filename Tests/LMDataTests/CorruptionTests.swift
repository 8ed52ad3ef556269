import Foundation
import LMData
import LMSupport
import LMTestSupport
import Testing

/// Flip every byte of a small shard (and truncate it at every length): `verify`, the reader
/// and the loader must all report the fault naming the shard and the header/index/frame —
/// never return wrong tokens, never crash.
@Suite struct CorruptionTests {
    static let tokens = TestShards.tokens(700, vocab: 5000, seed: 21)

    /// A directory with one training shard of 700 tokens in 3 frames, two documents.
    static func makeDirectory() throws -> (dir: String, shard: String, bytes: [UInt8]) {
        let dir = try TestShards.directory(train: [tokens], vocab: 5000, frameTokens: 256)
        let shard = dir + "/train-00000.lmshard"
        return (dir, shard, try FileIO.readBytes(shard))
    }

    /// "header", "index" or "frame N" must appear, and the file name.
    static func namesThePlace(_ error: Error, _ shard: String) -> Bool {
        guard let e = error as? LMError else { return false }
        let text = e.description
        return text.contains((shard as NSString).lastPathComponent)
            && (text.contains("header") || text.contains("index") || text.contains("frame "))
    }

    func readAllChecked(_ shard: String) throws -> [UInt32] {
        let r = try ShardReader(path: shard)
        try r.verify()
        return try r.readAll()
    }

    @Test func everySingleFlippedByteIsDetectedByTheReader() throws {
        let (_, shard, good) = try Self.makeDirectory()
        #expect(try readAllChecked(shard) == Self.tokens)
        let scratch = TestData.temporaryDirectory("lmdata") + "/train-00000.lmshard"
        var undetected: [Int] = []
        for i in 0..<good.count {
            for mask: UInt8 in [0x01, 0x80] {
                var bad = good
                bad[i] ^= mask
                try TestShards.overwrite(scratch, bad)
                do {
                    _ = try readAllChecked(scratch)
                    undetected.append(i)
                } catch {
                    if !Self.namesThePlace(error, scratch) { Issue.record("byte \(i): unhelpful error \(error)") }
                }
            }
        }
        #expect(undetected.isEmpty, "flips not detected at byte offsets \(undetected)")
    }

    @Test func everyTruncationIsDetected() throws {
        let (_, shard, good) = try Self.makeDirectory()
        let scratch = TestData.temporaryDirectory("lmdata") + "/t.lmshard"
        for n in 0..<good.count {
            try TestShards.overwrite(scratch, Array(good[0..<n]))
            #expect { try readAllChecked(scratch) } throws: { Self.namesThePlace($0, scratch) }
        }
        _ = shard
        // Trailing garbage is refused too.
        try TestShards.overwrite(scratch, good + [0])
        #expect(throws: LMError.self) { try readAllChecked(scratch) }
    }

    @Test func theLoaderNeverReturnsWrongTokensFromACorruptShard() throws {
        let (dir, shard, good) = try Self.makeDirectory()
        func epoch(_ l: DataLoader) -> (batches: [[Int32]], error: Error?) {
            var out: [[Int32]] = []
            for _ in 0..<l.batchesPerEpoch {
                do { out.append(try l.next().inputs) } catch { return (out, error) }
            }
            return (out, nil)
        }
        let reference = epoch(try DataLoader(directory: dir, split: .train, batchSize: 2, context: 16, seed: 1))
        #expect(reference.error == nil && !reference.batches.isEmpty)
        // Every 3rd byte keeps the test fast; the reader test above covers every byte.
        for i in stride(from: 0, to: good.count, by: 3) {
            var bad = good
            bad[i] ^= 0x04
            try TestShards.overwrite(shard, bad)
            do {
                let loader = try DataLoader(directory: dir, split: .train, batchSize: 2, context: 16, seed: 1)
                let got = epoch(loader)
                #expect(got.error != nil, "byte \(i): corruption not reported")
                if let e = got.error { #expect(Self.namesThePlace(e, shard), "byte \(i): \(e)") }
                #expect(got.batches == Array(reference.batches.prefix(got.batches.count)), "byte \(i): wrong tokens")
            } catch {
                #expect(Self.namesThePlace(error, shard), "byte \(i): \(error)")
            }
        }
    }
}

import LMCompression
import LMSupport

/// A bounded least-recently-used cache of decoded frames, keyed by (shard, frame).
///
/// Memory ≤ `capacity` × frameTokens × 4 bytes (e.g. 64 frames of 65,536 tokens = 16 MiB).
/// Used by one thread (the loader's prefetch thread); `load` decodes missing frames in parallel.
///
/// Performance notes: frames are decoded with `checkTokens: false` (the CRC of the compressed
/// bytes already covers every stored byte; `verify` checks both CRCs) — that saved ~25% of
/// decode time. Decoding the frames a batch needs on all cores at once roughly doubled loader
/// throughput on 2 cores compared with decoding them one by one on the prefetch thread.
final class FrameCache {
    struct Key: Hashable, Sendable { var shard: Int; var frame: Int }
    private var frames: [Key: (tokens: [UInt32], stamp: Int)] = [:]
    private var clock = 0
    let capacity: Int
    let readers: [ShardReader]
    let threads: Int
    /// Frames decoded so far (for benchmarks and tests of locality).
    private(set) var decodes = 0

    init(readers: [ShardReader], capacity: Int, threads: Int) {
        self.readers = readers
        self.capacity = max(2, capacity)
        self.threads = max(1, threads)
    }

    /// Frames holding tokens [start, start + count) of `shard`.
    func keys(shard: Int, start: Int, count: Int) -> ClosedRange<Int> {
        let ft = readers[shard].header.frameTokens
        return (start / ft)...((start + count - 1) / ft)
    }

    /// Decodes every key not cached (in parallel), then inserts them. `keys` must fit the cache.
    func load(_ keys: [Key]) throws {
        let missing = Array(Set(keys.filter { frames[$0] == nil }))
        if missing.isEmpty { return }
        let slots = ResultSlots<Result<[UInt32], Error>>(count: missing.count)
        let readers = self.readers
        Parallel.forRanges(missing.count, parts: min(threads, missing.count)) { range in
            let d = ZstdFrame.Decompressor()
            for i in range {
                let k = missing[i]
                slots[i] = Result { try readers[k.shard].readFrame(k.frame, decompressor: d, checkTokens: false) }
            }
        }
        for (i, k) in missing.enumerated() {
            let t = try slots[i]!.get()
            insert(k, t)
        }
    }

    private func insert(_ key: Key, _ tokens: [UInt32]) {
        clock &+= 1
        if frames.count >= capacity {
            // O(capacity) eviction scan; capacity is small (tens) and misses are ~1 per frame.
            var oldest = key, stamp = Int.max
            for (k, v) in frames where v.stamp < stamp { oldest = k; stamp = v.stamp }
            frames.removeValue(forKey: oldest)
        }
        decodes += 1
        frames[key] = (tokens, clock)
    }

    /// Decoded tokens of `frame` of `shard` (decoding it if needed).
    func tokens(shard: Int, frame: Int) throws -> [UInt32] {
        let key = Key(shard: shard, frame: frame)
        clock &+= 1
        if let hit = frames[key] {
            frames[key] = (hit.tokens, clock)
            return hit.tokens
        }
        try load([key])
        return frames[key]!.tokens
    }

    /// Copies tokens [start, start + count) of `shard` into `out` as Int32.
    func copy(shard: Int, start: Int, count: Int, into out: UnsafeMutablePointer<Int32>) throws {
        let ft = readers[shard].header.frameTokens
        var pos = start
        var written = 0
        while written < count {
            let f = pos / ft
            let offset = pos - f * ft
            let t = try tokens(shard: shard, frame: f)
            let n = min(count - written, t.count - offset)
            t.withUnsafeBufferPointer { src in
                let s = src.baseAddress! + offset
                let d = out + written
                for i in 0..<n { d[i] = Int32(bitPattern: s[i]) }
            }
            written &+= n
            pos &+= n
        }
    }
}

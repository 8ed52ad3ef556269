import LMCompression
import LMSupport

/// A bounded least-recently-used cache of decoded frames, keyed by (shard, frame).
///
/// Memory ≤ `capacity` × frameTokens × 4 bytes (e.g. 64 frames of 65,536 tokens = 16 MiB).
/// Used by one thread (the loader's prefetch thread); not thread-safe.
final class FrameCache {
    struct Key: Hashable { var shard: Int; var frame: Int }
    private var frames: [Key: (tokens: [UInt32], stamp: Int)] = [:]
    private var clock = 0
    let capacity: Int
    let readers: [ShardReader]
    private let decompressor = ZstdFrame.Decompressor()
    /// Frames decoded so far (for benchmarks and tests of locality).
    private(set) var decodes = 0

    init(readers: [ShardReader], capacity: Int) {
        self.readers = readers
        self.capacity = max(2, capacity)
    }

    /// Decoded tokens of `frame` of `shard`, decoding (and evicting the oldest) if needed.
    func tokens(shard: Int, frame: Int) throws -> [UInt32] {
        clock &+= 1
        let key = Key(shard: shard, frame: frame)
        if let hit = frames[key] {
            frames[key] = (hit.tokens, clock)
            return hit.tokens
        }
        if frames.count >= capacity {
            // O(capacity) eviction scan; capacity is small (tens) and misses are ~1 per frame.
            var oldest = key, stamp = Int.max
            for (k, v) in frames where v.stamp < stamp { oldest = k; stamp = v.stamp }
            frames.removeValue(forKey: oldest)
        }
        let t = try readers[shard].readFrame(frame, decompressor: decompressor)
        decodes += 1
        frames[key] = (t, clock)
        return t
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

import LMSupport
import CPrefetch

// Performance notes
// - Direct-mapped, 131072 slots (8 MB per thread, in 2 MB huge pages: `HugePages`; 32768 = 2 MB
//   where the kernel gives no transparent huge pages) of exactly one cache line (64 bytes):
//   hash (8), piece length (1), id count (1), piece bytes (≤ 22), ids (≤ 8 × 4). One hash — already computed for the
//   whole-piece lookup — picks the slot; a hit touches one line. Replacement on every miss keeps
//   frequent pieces in (they come back before eviction).
// - Only pieces the whole-piece lookup missed (≥ 2 tokens) are stored; longer or many-token
//   ones go to `LongPieceCache`.
// - Per thread (inside `BPEWorkspace`), so no locks. Earlier layout (separate arrays for hashes,
//   lengths, bytes, ids) touched 4–5 lines per hit.
// - Size (session 10, with the slots prefetched a batch ahead, see BPETokenizer): 131072 slots
//   cut the merges on the Gutenberg corpus by ~30% (cache simulation over its first 40 MB: 1.74%
//   → 1.22% of pieces miss) and sped up the encode stage of `lmkit shard --threads 1` on it
//   1.07×, and UDHR batch encoding ~1.2×, but made Tiny Shakespeare batch encoding ~1.4× slower
//   (`lmkit-bench encode`, 3 interleaved rounds of 32k / 64k / 128k slots: 231–304 / 204–247 /
//   113–204 MB/s; the worker threads and their caches persist, so it is not first-touch cost;
//   plausibly TLB reach: 8 MB is 2048 pages). 32768 has no such loss; 65536 was in between.
// - Session 15 (Intel VM): with the cache and the rank tables in transparent huge pages (8 MB
//   is then 4 TLB entries), 131072 slots no longer lose on Tiny Shakespeare. `lmkit-bench
//   encode`, 4 interleaved rounds, 32768 slots in huge pages → 131072: single-thread 1.03–1.11×
//   on English and 1.07× on UDHR, the first pass (`cold-cpu`) 1.03–1.10×, Shakespeare batch
//   1.02–1.23×. Before the first store the cache is known to be all zero, so a fresh workspace
//   does not write its 8 MB again (`clear` skips it).

/// A small cache of piece bytes → token ids for one thread and one vocabulary.
final class PieceCache {
    /// Slots when huge pages back the cache (8 MB); without them 32768 (2 MB), the size that
    /// does not lose to TLB misses in 4 KB pages (see the notes above).
    static let slotsWithHugePages = 131072
    static let slotsWithoutHugePages = 32768
    static let maxPieceBytes = 22
    static let maxIDs = 8
    private static let slotBytes = 64

    /// Slots of this cache: a power of two.
    let slots: Int
    private var byteCount: Int { slots * PieceCache.slotBytes }
    private let base: UnsafeMutableRawPointer

    /// `slots` defaults by `HugePages.available`.
    init(slots: Int = HugePages.available ? PieceCache.slotsWithHugePages : PieceCache.slotsWithoutHugePages) {
        precondition(slots > 0 && slots & (slots - 1) == 0, "PieceCache: slots must be a power of two")
        self.slots = slots
        base = HugePages.allocate(byteCount: slots * PieceCache.slotBytes)   // zero-filled
    }

    deinit { HugePages.deallocate(base, byteCount: byteCount) }

    /// Empties the cache (the owner is tracked by `BPEWorkspace.useCaches`).
    func clear() {
        if !used { return }   // fresh or just cleared: already all zero (8 MB not touched again)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount)
        used = false
    }

    /// False until the first `store` after creation or `clear`.
    private var used = false

    // Slot layout: [0..<8) hash, [8] length, [9] count, [10..<32) piece bytes, [32..<64) ids.
    @inline(__always) private func slot(_ h: UInt64) -> UnsafeMutableRawPointer {
        base + (Int(truncatingIfNeeded: h >> 43) & (slots &- 1)) &* PieceCache.slotBytes
    }

    /// Prefetches the slot of hash `h` (a hint: never waits, never changes a result).
    @inline(__always) func prefetch(_ h: UInt64) { lmkit_prefetch(slot(h)) }

    /// Writes the cached ids of piece `p[0..<n]` (hash `h`) to `dst` and returns their number; 0 on a miss.
    @inline(__always)
    func lookup(_ p: UnsafePointer<UInt8>, _ n: Int, prefix pre: UInt64, hash h: UInt64,
                to dst: UnsafeMutablePointer<UInt32>) -> Int {
        let s = slot(h)
        guard s.load(as: UInt64.self) == h, Int(s.load(fromByteOffset: 8, as: UInt8.self)) == n else { return 0 }
        // Compare without libc: the first 8 bytes (masked to n) against the piece's prefix, the
        // rest with overlapping 8-byte loads that stay inside the slot and the piece.
        let stored = UnsafeRawPointer(s + 10)
        let first = stored.loadUnaligned(as: UInt64.self)
        if n < 8 {
            if first & ((1 &<< UInt64(truncatingIfNeeded: n &* 8)) &- 1) != pre { return 0 }
        } else {
            if first != pre { return 0 }
            if n > 8 && !RankTables.equalAfterPrefix(stored, UnsafeRawPointer(p), n) { return 0 }
        }
        let count = Int(s.load(fromByteOffset: 9, as: UInt8.self))
        UnsafeMutableRawPointer(dst).copyMemory(from: s + 32, byteCount: count &* 4)
        return count
    }

    /// Stores piece `p[0..<n]` → `result[0..<count]` if both fit.
    @inline(__always)
    func store(_ p: UnsafePointer<UInt8>, _ n: Int, hash h: UInt64, ids result: UnsafePointer<UInt32>, count: Int) {
        guard n <= PieceCache.maxPieceBytes, count <= PieceCache.maxIDs else { return }
        used = true
        let s = slot(h)
        s.storeBytes(of: h, as: UInt64.self)
        s.storeBytes(of: UInt8(truncatingIfNeeded: n), toByteOffset: 8, as: UInt8.self)
        s.storeBytes(of: UInt8(truncatingIfNeeded: count), toByteOffset: 9, as: UInt8.self)
        (s + 10).copyMemory(from: p, byteCount: n)
        (s + 32).copyMemory(from: result, byteCount: count &* 4)
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

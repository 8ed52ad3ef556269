// Performance notes
// - The second cache level, for the pieces `PieceCache` cannot hold (> 22 bytes or > 8 ids):
//   long words of non-Latin scripts (a 10-letter Russian word is 20 bytes and ~10 r50k tokens),
//   which are the most expensive pieces to merge. UDHR, one pass (tiktoken's split): 9.1% of
//   the bytes (r50k) and 1.7% (cl100k) are repeats of such pieces.
// - Direct-mapped index of 16,384 slots × 16 bytes (hash, arena offset, length, id count) over
//   a 1 MB arena holding each entry's piece bytes and ids back to back; when the arena is full the
//   whole cache is emptied (the index is cleared, the arena restarts), so memory stays bounded
//   (1.25 MB per thread) and there is no per-entry bookkeeping. A hit touches the index line and
//   one or two arena lines.

/// Piece bytes → token ids for long or many-token pieces, for one thread and one vocabulary.
final class LongPieceCache {
    static let slots = 16384
    /// Longest piece stored, in bytes (longer pieces are rare and would flush the arena).
    static let maxPieceBytes = 256
    static let arenaBytes = 1 << 20
    private static let slotBytes = 16

    private let index: UnsafeMutableRawPointer
    private let arena: UnsafeMutableRawPointer
    /// Bytes of `arena` in use.
    private var used = 0

    init() {
        index = .allocate(byteCount: LongPieceCache.slots * LongPieceCache.slotBytes, alignment: 64)
        arena = .allocate(byteCount: LongPieceCache.arenaBytes, alignment: 64)
        clear()
    }

    deinit { index.deallocate(); arena.deallocate() }

    /// Forgets every entry.
    func clear() {
        index.initializeMemory(as: UInt8.self, repeating: 0, count: LongPieceCache.slots * LongPieceCache.slotBytes)
        used = 0
    }

    // Slot layout: [0..<8) hash, [8..<12) arena offset, [12..<14) piece length (0 = empty), [14..<16) id count.
    // Entry layout in the arena: piece bytes, padded to 4, then the ids.
    @inline(__always) private func slot(_ h: UInt64) -> UnsafeMutableRawPointer {
        index + (Int(truncatingIfNeeded: h >> 40) & (LongPieceCache.slots - 1)) &* LongPieceCache.slotBytes
    }

    /// Writes the cached ids of piece `p[0..<n]` (hash `h`, 2 ≤ n ≤ `maxPieceBytes`) to `dst` and
    /// returns their number; 0 on a miss.
    @inline(__always)
    func lookup(_ p: UnsafePointer<UInt8>, _ n: Int, hash h: UInt64, to dst: UnsafeMutablePointer<UInt32>) -> Int {
        let s = slot(h)
        guard s.load(as: UInt64.self) == h, Int(s.load(fromByteOffset: 12, as: UInt16.self)) == n else { return 0 }
        let e = arena + Int(s.load(fromByteOffset: 8, as: UInt32.self))
        if memcmp(e, p, n) != 0 { return 0 }
        let count = Int(s.load(fromByteOffset: 14, as: UInt16.self))
        UnsafeMutableRawPointer(dst).copyMemory(from: e + ((n &+ 3) & ~3), byteCount: count &* 4)
        return count
    }

    /// Stores piece `p[0..<n]` (hash `h`, n ≤ `maxPieceBytes`) → `ids[0..<count]` (count ≤ n).
    @inline(__always)
    func store(_ p: UnsafePointer<UInt8>, _ n: Int, hash h: UInt64, ids: UnsafePointer<UInt32>, count: Int) {
        let size = (n &+ 3) & ~3 &+ count &* 4
        if used &+ size > LongPieceCache.arenaBytes { clear() }
        let e = arena + used
        e.copyMemory(from: p, byteCount: n)
        (e + ((n &+ 3) & ~3)).copyMemory(from: ids, byteCount: count &* 4)
        let s = slot(h)
        s.storeBytes(of: h, as: UInt64.self)
        s.storeBytes(of: UInt32(truncatingIfNeeded: used), toByteOffset: 8, as: UInt32.self)
        s.storeBytes(of: UInt16(truncatingIfNeeded: n), toByteOffset: 12, as: UInt16.self)
        s.storeBytes(of: UInt16(truncatingIfNeeded: count), toByteOffset: 14, as: UInt16.self)
        used &+= size
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

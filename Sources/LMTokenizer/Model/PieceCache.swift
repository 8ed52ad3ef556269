// Performance notes
// - Direct-mapped, fixed size (8192 slots): one hash (already computed for the whole-piece
//   lookup) picks the slot; a hit costs one memcmp of ≤ 32 bytes and copies ≤ 16 ids.
//   Replacement on every miss keeps frequent pieces in (they come back before eviction).
// - Only pieces that the whole-piece lookup missed (so ≥ 2 tokens) and that are short enough
//   are cached; long pieces are rare and would thrash it.
// - Per thread (inside `BPEWorkspace`), so no locks. Tried: no cache — the merge of a typical
//   5–12 byte piece costs 3–6× a cache hit.

/// A small cache of piece bytes → token ids for one thread and one vocabulary.
final class PieceCache {
    static let slots = 8192
    static let maxPieceBytes = 32
    static let maxIDs = 16

    /// The tables the cached ids belong to (cleared when a different vocabulary uses the workspace).
    var owner: UInt64 = 0
    private let hashes: UnsafeMutablePointer<UInt64>      // 0 = empty
    private let lengths: UnsafeMutablePointer<UInt8>
    private let counts: UnsafeMutablePointer<UInt8>
    private let bytes: UnsafeMutablePointer<UInt8>        // slots × maxPieceBytes
    private let ids: UnsafeMutablePointer<UInt32>         // slots × maxIDs

    init() {
        hashes = .allocate(capacity: PieceCache.slots); hashes.initialize(repeating: 0, count: PieceCache.slots)
        lengths = .allocate(capacity: PieceCache.slots); lengths.initialize(repeating: 0, count: PieceCache.slots)
        counts = .allocate(capacity: PieceCache.slots); counts.initialize(repeating: 0, count: PieceCache.slots)
        bytes = .allocate(capacity: PieceCache.slots * PieceCache.maxPieceBytes)
        ids = .allocate(capacity: PieceCache.slots * PieceCache.maxIDs)
    }

    deinit { hashes.deallocate(); lengths.deallocate(); counts.deallocate(); bytes.deallocate(); ids.deallocate() }

    /// Empties the cache and assigns it to `tables`.
    func reset(for tables: UInt64) {
        hashes.update(repeating: 0, count: PieceCache.slots)
        owner = tables
    }

    @inline(__always) private func slot(_ h: UInt64) -> Int { Int(truncatingIfNeeded: h >> 40) & (PieceCache.slots - 1) }

    /// Appends the cached ids of piece `p[0..<n]` (hash `h`) to `out`; false on a miss.
    @inline(__always)
    func lookup(_ p: UnsafePointer<UInt8>, _ n: Int, hash h: UInt64, into out: inout [UInt32]) -> Bool {
        let s = slot(h)
        guard hashes[s] == h, Int(lengths[s]) == n,
              memcmp(bytes + s &* PieceCache.maxPieceBytes, p, n) == 0 else { return false }
        let base = ids + s &* PieceCache.maxIDs
        for i in 0..<Int(counts[s]) { out.append(base[i]) }
        return true
    }

    /// Stores piece `p[0..<n]` → `result` if both fit.
    @inline(__always)
    func store(_ p: UnsafePointer<UInt8>, _ n: Int, hash h: UInt64, ids result: UnsafePointer<UInt32>, count: Int) {
        guard n <= PieceCache.maxPieceBytes, count <= PieceCache.maxIDs else { return }
        let s = slot(h)
        hashes[s] = h
        lengths[s] = UInt8(truncatingIfNeeded: n)
        counts[s] = UInt8(truncatingIfNeeded: count)
        (bytes + s &* PieceCache.maxPieceBytes).update(from: p, count: n)
        (ids + s &* PieceCache.maxIDs).update(from: result, count: count)
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

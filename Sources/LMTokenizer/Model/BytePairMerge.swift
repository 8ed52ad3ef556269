// Performance notes
// - The merge works on token ids in a scratch buffer, never on byte strings: a part's bytes
//   are always a token, so "may parts i and i+1 merge, and with which rank" is one probe of
//   the pair table (see RankTables). This is tiktoken's `_byte_pair_merge` with the byte-slice
//   hash lookups replaced by id-pair lookups; results are identical.
// - Short pieces (the vast majority: < 64 bytes) use tiktoken's scheme: an array of pair ranks,
//   a linear scan for the minimum (leftmost on ties) and a short copy loop to delete the merged slot.
//   O(n²) worst case but tiny constants, and everything stays in L1.
// - Long pieces (long runs of spaces, digits in gpt2, base64 blobs, repeated punctuation)
//   switch to a binary heap of (rank, position) keys over a doubly linked list: O(n log n).
//   A heap entry is stale iff its node is dead or the node's current rank differs; a node's
//   rank only ever changes to a longer concatenation, so a stale (rank, node) can never
//   become valid again. Same merge order as the scan: lowest rank first, leftmost on ties.
// - The n − 1 initial pairs are single bytes: their ranks come from `bytePairRank`, a direct
//   table indexed by the two bytes (no hash, no filter). The pair-table lines of the two new
//   pairs after each merge are prefetched first, so the loads overlap each other and the
//   filter check instead of following it (perf: those loads were ~60% of `mergeShort`'s samples).
// - All scratch memory lives in a per-thread `BPEWorkspace`, grown geometrically, never freed
//   between pieces.

/// Reusable scratch memory (and the piece cache) of one encoding thread.
/// Not thread-safe: each thread uses its own (see `BPEWorkspace.current`).
final class BPEWorkspace {
    var capacity = 0
    var ids: UnsafeMutablePointer<UInt32> = .allocate(capacity: 1)
    var ranks: UnsafeMutablePointer<UInt32> = .allocate(capacity: 1)
    var next: UnsafeMutablePointer<Int32> = .allocate(capacity: 1)
    var prev: UnsafeMutablePointer<Int32> = .allocate(capacity: 1)
    var heap: UnsafeMutablePointer<UInt64> = .allocate(capacity: 1)
    /// Cache of recent pieces → ids (≤ 22 bytes, ≤ 8 ids); belongs to the tables `cacheOwner`.
    let cache = PieceCache()
    /// Second cache level, for the pieces `cache` cannot hold; same owner.
    let longCache = LongPieceCache()
    /// Serial of the tables both caches were filled from (0: none).
    var cacheOwner: UInt64 = 0

    /// Empties both caches unless they already belong to the tables with serial `tables`.
    @inline(__always)
    func useCaches(for tables: UInt64) {
        if cacheOwner == tables { return }
        cache.clear()
        longCache.clear()
        cacheOwner = tables
    }
    /// Batch buffers of the encode loop: piece start and end offsets, prefixes, hashes, ranks found in pass 2.
    static let batchSize = 128
    let batchStarts = UnsafeMutablePointer<Int>.allocate(capacity: BPEWorkspace.batchSize)
    let batchEnds = UnsafeMutablePointer<Int>.allocate(capacity: BPEWorkspace.batchSize)
    let batchPrefix = UnsafeMutablePointer<UInt64>.allocate(capacity: BPEWorkspace.batchSize)
    let batchHash = UnsafeMutablePointer<UInt64>.allocate(capacity: BPEWorkspace.batchSize)
    let batchResolved = UnsafeMutablePointer<UInt32>.allocate(capacity: BPEWorkspace.batchSize)
    /// Ids of the batch being encoded, copied to the caller's array once per batch.
    var output: UnsafeMutablePointer<UInt32> = .allocate(capacity: 4096)
    var outputCapacity = 4096

    init() { reserve(256) }

    deinit {
        ids.deallocate(); ranks.deallocate(); next.deallocate(); prev.deallocate(); heap.deallocate()
        batchStarts.deallocate(); batchEnds.deallocate(); batchPrefix.deallocate(); batchHash.deallocate(); batchResolved.deallocate(); output.deallocate()
    }

    /// Makes room for `n` ids in `output`.
    @inline(__always)
    func reserveOutput(_ n: Int) {
        if n <= outputCapacity { return }
        var c = outputCapacity
        while c < n { c <<= 1 }
        output.deallocate()
        output = .allocate(capacity: c)
        outputCapacity = c
    }

    /// Makes room for pieces of `n` bytes.
    @inline(__always)
    func reserve(_ n: Int) {
        if n <= capacity { return }
        var c = max(capacity, 256)
        while c < n { c <<= 1 }
        ids.deallocate(); ranks.deallocate(); next.deallocate(); prev.deallocate(); heap.deallocate()
        ids = .allocate(capacity: c); ranks = .allocate(capacity: c)
        next = .allocate(capacity: c); prev = .allocate(capacity: c)
        heap = .allocate(capacity: 2 * c)   // ≤ n initial + 2 per merge pushes, n merges at most
        capacity = c
    }
}

/// Pieces at least this long use the heap merge.
let heapMergeThreshold = 64

extension RankTables {
    /// Byte-pair-merges the piece `p[0..<n]` (n ≥ 2), writes the resulting ranks to `dst`
    /// (room for n) and returns their number. Same result as tiktoken's `byte_pair_encode(piece, ranks)`.
    @inline(__always)
    func mergePiece(_ p: UnsafePointer<UInt8>, _ n: Int, _ ws: BPEWorkspace, to dst: UnsafeMutablePointer<UInt32>) -> Int {
        ws.reserve(n)
        if n < heapMergeThreshold {
            let m = mergeShort(p, n, ws)
            dst.update(from: ws.ids, count: m)
            return m
        }
        return mergeLong(p, n, ws, to: dst)
    }

    /// `mergePiece` appending to an array (tests).
    func mergePiece(_ p: UnsafePointer<UInt8>, _ n: Int, _ ws: BPEWorkspace, into out: inout [UInt32]) {
        let buf = UnsafeMutablePointer<UInt32>.allocate(capacity: n)
        defer { buf.deallocate() }
        out.append(contentsOf: UnsafeBufferPointer(start: buf, count: mergePiece(p, n, ws, to: buf)))
    }

    /// `mergeLong` appending to an array (tests).
    func mergeLong(_ p: UnsafePointer<UInt8>, _ n: Int, _ ws: BPEWorkspace, into out: inout [UInt32]) {
        ws.reserve(n)
        let buf = UnsafeMutablePointer<UInt32>.allocate(capacity: n)
        defer { buf.deallocate() }
        out.append(contentsOf: UnsafeBufferPointer(start: buf, count: mergeLong(p, n, ws, to: buf)))
    }

    /// Linear-scan merge; leaves the result in `ws.ids[0..<m]` and returns m.
    @inline(__always)
    func mergeShort(_ p: UnsafePointer<UInt8>, _ n: Int, _ ws: BPEWorkspace) -> Int {
        let ids = ws.ids, ranks = ws.ranks
        for i in 0..<n { ids[i] = byteRank[Int(p[i])] }
        var m = n
        for i in 0..<(m &- 1) { ranks[i] = bytePairRank[Int(p[i]) &<< 8 | Int(p[i &+ 1])] }
        while m > 1 {
            var best = RankTables.none
            var at = 0
            for i in 0..<(m &- 1) where ranks[i] < best { best = ranks[i]; at = i }
            if best == RankTables.none { break }
            // The two pairs the merge creates: start both table loads before either probe.
            if at &+ 2 < m { prefetchPair(best, ids[at &+ 2]) }
            if at > 0 { prefetchPair(ids[at &- 1], best) }
            ids[at] = best
            // Delete slot at+1 of ids and of ranks: one fused loop instead of two memmove calls
            // (the moves are a few elements; the calls cost more than the copying). The last
            // iteration also copies the unused ranks[m-1] down, which is never read.
            var x = at &+ 1
            while x < m &- 1 {
                ids[x] = ids[x &+ 1]
                ranks[x] = ranks[x &+ 1]
                x &+= 1
            }
            m &-= 1
            ranks[at] = at &+ 1 < m ? pairRank(ids[at], ids[at &+ 1]) : RankTables.none
            if at > 0 { ranks[at &- 1] = pairRank(ids[at &- 1], ids[at]) }
        }
        return m
    }

    /// Heap merge over a linked list for long pieces (`ws` reserved for n); writes the result to
    /// `dst` (room for n) and returns its length.
    func mergeLong(_ p: UnsafePointer<UInt8>, _ n: Int, _ ws: BPEWorkspace, to dst: UnsafeMutablePointer<UInt32>) -> Int {
        let ids = ws.ids, ranks = ws.ranks, next = ws.next, prev = ws.prev, heap = ws.heap
        var heapCount = 0
        @inline(__always) func push(_ v: UInt64) {
            var i = heapCount
            heap[i] = v
            heapCount &+= 1
            while i > 0 {
                let parent = (i &- 1) >> 1
                if heap[parent] <= v { break }
                heap[i] = heap[parent]; heap[parent] = v; i = parent
            }
        }
        @inline(__always) func pop() -> UInt64 {
            let top = heap[0]
            heapCount &-= 1
            if heapCount > 0 {
                let v = heap[heapCount]
                var i = 0
                while true {
                    let l = 2 &* i &+ 1
                    if l >= heapCount { break }
                    var c = l
                    if l &+ 1 < heapCount && heap[l &+ 1] < heap[l] { c = l &+ 1 }
                    if heap[c] >= v { break }
                    heap[i] = heap[c]; i = c
                }
                heap[i] = v
            }
            return top
        }
        for i in 0..<n {
            ids[i] = byteRank[Int(p[i])]
            next[i] = Int32(truncatingIfNeeded: i &+ 1)
            prev[i] = Int32(truncatingIfNeeded: i &- 1)
        }
        next[n &- 1] = -1
        for i in 0..<(n &- 1) {
            let r = bytePairRank[Int(p[i]) &<< 8 | Int(p[i &+ 1])]
            ranks[i] = r
            if r != RankTables.none { push(UInt64(r) << 32 | UInt64(i)) }
        }
        ranks[n &- 1] = RankTables.none
        let dead = RankTables.none
        while heapCount > 0 {
            let top = pop()
            let i = Int(truncatingIfNeeded: top & 0xFFFF_FFFF)
            let r = UInt32(truncatingIfNeeded: top >> 32)
            if ids[i] == dead || ranks[i] != r { continue }   // stale entry
            let j = Int(next[i])
            ids[i] = r
            ids[j] = dead
            let k = next[j]
            next[i] = k
            if k >= 0 { prev[Int(k)] = Int32(truncatingIfNeeded: i) }
            if k >= 0 {
                let nr = pairRank(r, ids[Int(k)])
                ranks[i] = nr
                if nr != RankTables.none { push(UInt64(nr) << 32 | UInt64(i)) }
            } else {
                ranks[i] = RankTables.none
            }
            let q = prev[i]
            if q >= 0 {
                let pr = pairRank(ids[Int(q)], r)
                ranks[Int(q)] = pr
                if pr != RankTables.none { push(UInt64(pr) << 32 | UInt64(q)) }
            }
        }
        var i = 0, m = 0
        while i >= 0 { dst[m] = ids[i]; m &+= 1; i = Int(next[i]) }
        return m
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

import Foundation
import LMSupport

// Performance notes
// - Lookups never allocate and never build a `[UInt8]` or `String`: the tables live in raw
//   buffers owned by this class and are probed with pointers into the caller's text.
// - Two open-addressing tables (linear probing, load ≤ 0.5, power-of-two size):
//   * token table: 64-bit hash of a byte range → rank, verified against the token's bytes in
//     the arena (so a hash collision can never change a result). Used for the whole-piece
//     lookup that resolves most pieces of English text with one probe.
//   * pair table: (left rank, right rank) packed in a UInt64 → rank of the concatenation.
//     This is what the merge loop queries. It is exactly tiktoken's `ranks.get(piece[a..c])`
//     because every part of a piece is a token at all times (parts start as single bytes and
//     only become a concatenation that *is* a token), so "the bytes of parts i and i+1 form a
//     token" ⇔ "(id_i, id_i+1) is in the pair table". It avoids hashing bytes in the loop.
//   Built once per vocabulary: O(total token bytes) — ~300k pairs for cl100k.
// - Tried: Swift `Dictionary<[UInt8], Int>` (allocates a key per probe, ~10× slower) and
//   keying the token table by the packed first 8 bytes only (needs a second path for long
//   pieces; the generic hash is as fast for short keys).

/// Immutable lookup tables of one vocabulary for the BPE encoder and decoder.
/// Thread-safe to read from any number of threads (never mutated after `init`).
final class RankTables: @unchecked Sendable {
    /// Sentinel for "no rank" / "empty slot".
    static let none: UInt32 = .max

    let rankCount: Int
    /// Unique per instance in this process (piece caches remember which tables filled them;
    /// unlike an address, a serial is never reused).
    let serial: UInt64 = RankTables.nextSerial()
    /// Rank of each single byte (tiktoken's r50k does not put byte b at rank b).
    let byteRank: UnsafeMutablePointer<UInt32>
    /// Concatenated token bytes; token r is `arena[offsets[r] ..< offsets[r+1]]`.
    let arena: UnsafeMutablePointer<UInt8>
    let offsets: UnsafeMutablePointer<Int>
    /// Length of the longest token, in bytes.
    let maxTokenLength: Int

    private let tokenMask: Int
    private let tokenHashes: UnsafeMutablePointer<UInt64>   // 0 = empty
    private let tokenRanks: UnsafeMutablePointer<UInt32>
    private let pairMask: Int
    private let pairKeys: UnsafeMutablePointer<UInt64>      // UInt64.max = empty
    private let pairRanks: UnsafeMutablePointer<UInt32>
    /// Number of (left, right) → merged entries.
    let pairCount: Int

    init(tokens: [[UInt8]]) {
        rankCount = tokens.count
        byteRank = .allocate(capacity: 256)
        byteRank.initialize(repeating: RankTables.none, count: 256)
        let total = tokens.reduce(0) { $0 + $1.count }
        arena = .allocate(capacity: max(total, 1))
        offsets = .allocate(capacity: tokens.count + 1)
        var o = 0, longest = 0
        for (r, t) in tokens.enumerated() {
            offsets[r] = o
            for b in t { arena[o] = b; o += 1 }
            if t.count == 1 { byteRank[Int(t[0])] = UInt32(r) }
            longest = max(longest, t.count)
        }
        offsets[tokens.count] = o
        maxTokenLength = longest

        var cap = 16
        while cap < tokens.count * 2 { cap <<= 1 }
        tokenMask = cap - 1
        tokenHashes = .allocate(capacity: cap); tokenHashes.initialize(repeating: 0, count: cap)
        tokenRanks = .allocate(capacity: cap); tokenRanks.initialize(repeating: RankTables.none, count: cap)
        for r in 0..<tokens.count {
            let h = RankTables.hash(arena + offsets[r], offsets[r + 1] - offsets[r])
            var slot = Int(truncatingIfNeeded: h) & tokenMask
            while tokenHashes[slot] != 0 { slot = (slot &+ 1) & tokenMask }
            tokenHashes[slot] = h
            tokenRanks[slot] = UInt32(r)
        }

        // Pairs: every split of every token into two tokens.
        var pairs: [(UInt64, UInt32)] = []
        pairs.reserveCapacity(tokens.count * 4)
        // Temporarily use the token table (fully built) to find the halves.
        for r in 0..<tokens.count {
            let start = offsets[r], n = offsets[r + 1] - start
            if n < 2 { continue }
            for k in 1..<n {
                let a = RankTables.lookup(arena + start, k, hashes: tokenHashes, ranks: tokenRanks, mask: tokenMask,
                                          arena: arena, offsets: offsets)
                if a == RankTables.none { continue }
                let b = RankTables.lookup(arena + start + k, n - k, hashes: tokenHashes, ranks: tokenRanks,
                                          mask: tokenMask, arena: arena, offsets: offsets)
                if b == RankTables.none { continue }
                pairs.append((UInt64(a) << 32 | UInt64(b), UInt32(r)))
            }
        }
        pairCount = pairs.count
        var pcap = 16
        while pcap < pairs.count * 2 { pcap <<= 1 }
        pairMask = pcap - 1
        pairKeys = .allocate(capacity: pcap); pairKeys.initialize(repeating: .max, count: pcap)
        pairRanks = .allocate(capacity: pcap); pairRanks.initialize(repeating: RankTables.none, count: pcap)
        for (key, r) in pairs {
            var slot = RankTables.pairSlot(key, pairMask)
            while pairKeys[slot] != .max { slot = (slot &+ 1) & pairMask }
            pairKeys[slot] = key
            pairRanks[slot] = r
        }
    }

    private static let serialLock = NSLock()
    nonisolated(unsafe) private static var serialCounter: UInt64 = 0
    private static func nextSerial() -> UInt64 {
        serialLock.lock(); defer { serialLock.unlock() }
        serialCounter += 1
        return serialCounter
    }

    deinit {
        byteRank.deallocate(); arena.deallocate(); offsets.deallocate()
        tokenHashes.deallocate(); tokenRanks.deallocate(); pairKeys.deallocate(); pairRanks.deallocate()
    }

    /// 64-bit hash of `n` bytes at `p`, never 0. Reads 8 bytes at a time (unaligned loads).
    @inline(__always)
    static func hash(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt64 {
        var h = UInt64(truncatingIfNeeded: n) &* 0x9E37_79B9_7F4A_7C15
        var i = 0
        let raw = UnsafeRawPointer(p)
        while i &+ 8 <= n {
            let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = (h ^ w) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
            i &+= 8
        }
        if i < n {
            var w: UInt64 = 0
            var shift: UInt64 = 0
            while i < n { w |= UInt64(p[i]) << shift; shift &+= 8; i &+= 1 }
            h = (h ^ w) &* 0x94D0_49BB_1331_11EB
            h ^= h >> 29
        }
        h = (h ^ (h >> 32)) &* 0xD6E8_FEB8_6659_FD93
        h ^= h >> 32
        return h | 1
    }

    @inline(__always)
    private static func pairSlot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    @inline(__always)
    private static func lookup(_ p: UnsafePointer<UInt8>, _ n: Int, hashes: UnsafeMutablePointer<UInt64>,
                               ranks: UnsafeMutablePointer<UInt32>, mask: Int, arena: UnsafeMutablePointer<UInt8>,
                               offsets: UnsafeMutablePointer<Int>) -> UInt32 {
        lookup(p, n, hash: hash(p, n), hashes: hashes, ranks: ranks, mask: mask, arena: arena, offsets: offsets)
    }

    @inline(__always)
    private static func lookup(_ p: UnsafePointer<UInt8>, _ n: Int, hash h: UInt64,
                               hashes: UnsafeMutablePointer<UInt64>, ranks: UnsafeMutablePointer<UInt32>, mask: Int,
                               arena: UnsafeMutablePointer<UInt8>, offsets: UnsafeMutablePointer<Int>) -> UInt32 {
        var slot = Int(truncatingIfNeeded: h) & mask
        while true {
            let s = hashes[slot]
            if s == 0 { return RankTables.none }
            if s == h {
                let r = ranks[slot]
                let o = offsets[Int(r)]
                if offsets[Int(r) &+ 1] &- o == n && memcmp(arena + o, p, n) == 0 { return r }
            }
            slot = (slot &+ 1) & mask
        }
    }

    /// Rank of the token whose bytes are `p[0..<n]`, or `none`. No allocation.
    @inline(__always)
    func rank(of p: UnsafePointer<UInt8>, _ n: Int, hash h: UInt64) -> UInt32 {
        RankTables.lookup(p, n, hash: h, hashes: tokenHashes, ranks: tokenRanks, mask: tokenMask,
                          arena: arena, offsets: offsets)
    }

    /// Rank of the token whose bytes are `p[0..<n]`, or `none`.
    @inline(__always)
    func rank(of p: UnsafePointer<UInt8>, _ n: Int) -> UInt32 { rank(of: p, n, hash: RankTables.hash(p, n)) }

    /// Rank of token(a) ++ token(b) if that is a token, else `none`. One hash probe, no allocation.
    @inline(__always)
    func pairRank(_ a: UInt32, _ b: UInt32) -> UInt32 {
        let key = UInt64(a) << 32 | UInt64(b)
        var slot = RankTables.pairSlot(key, pairMask)
        while true {
            let k = pairKeys[slot]
            if k == key { return pairRanks[slot] }
            if k == .max { return RankTables.none }
            slot = (slot &+ 1) & pairMask
        }
    }

    /// Byte length of rank `r`.
    @inline(__always) func length(of r: UInt32) -> Int { offsets[Int(r) &+ 1] &- offsets[Int(r)] }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

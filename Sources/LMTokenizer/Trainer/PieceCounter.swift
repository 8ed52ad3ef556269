/// Counts how often each distinct byte string (a pre-tokenized piece) occurs.
///
/// An open-addressing hash table (linear probing, load ≤ 1/2) whose slots hold the count and a
/// 64-bit key; all piece bytes are also kept once in a byte arena. Counting a piece allocates
/// nothing once it has been seen. One counter per thread; `merge(_:)` folds one into another.
/// Memory is O(distinct pieces), never O(corpus).
///
///     var c = PieceCounter()
///     for p in ["ab", " ab", "ab"] { Array(p.utf8).withUnsafeBytes { c.add($0) } }
///     c.uniqueCount  // 2: "ab" counted 2, " ab" counted 1
///
/// Performance notes (Gutenberg, 25 M pieces, 245 k distinct):
/// - A Swift `Dictionary<[UInt8], UInt64>` costs an array allocation per lookup (~3× slower).
/// - As a class, Swift's dynamic exclusivity checks on stored properties (`swift_beginAccess`)
///   took ~10% of counting: it is a struct, a local `var` of each counting task.
/// - A first version kept slot → entry index → arena bytes: three dependent cache misses per
///   piece on the long tail (perf: ~70% of the add cost on those loads). Now a piece of ≤ 8 bytes
///   (most of them) is compared by its packed *key* inside the slot — one cache line per piece —
///   and only longer pieces compare their bytes in the arena.
struct PieceCounter: Sendable {
    /// One table slot. `lengthOffset == 0` means empty.
    struct Slot {
        /// Pieces of ≤ 8 bytes: the bytes packed exactly (see `key`); longer: a 64-bit hash.
        var key: UInt64
        /// `length << PieceCounter.offsetBits | arena offset`.
        var lengthOffset: UInt64
        var count: UInt64
    }

    /// Arena offsets use the low 36 bits (64 GiB of distinct-piece bytes), lengths the high 28.
    static let offsetBits: UInt64 = 36
    static let offsetMask: UInt64 = (1 << 36) - 1
    /// Longest piece counted: 256 MiB. Longer pieces (a quarter-gigabyte run of letters) are skipped.
    static let maxPieceLength = 1 << 28

    private(set) var arena: [UInt8] = []
    private var slots: [Slot]
    private var mask: Int
    private(set) var uniqueCount = 0

    init(capacity: Int = 1 << 14) {
        var cap = 16
        while cap < capacity { cap <<= 1 }
        slots = [Slot](repeating: Slot(key: 0, lengthOffset: 0, count: 0), count: cap)
        mask = cap - 1
    }

    /// The slot key of a piece: for 1–3 bytes the first, middle and last byte; for 4–8 bytes the
    /// first and last 4 bytes (overlapping) — exact encodings given the length, read without going
    /// past the piece; for longer pieces a multiply–xorshift hash over 8-byte words.
    @inline(__always)
    static func key(_ p: UnsafeRawBufferPointer) -> UInt64 {
        let n = p.count
        let base = p.baseAddress!
        if n <= 3 {
            return UInt64(base.load(as: UInt8.self)) | UInt64(base.load(fromByteOffset: n >> 1, as: UInt8.self)) << 8
                | UInt64(base.load(fromByteOffset: n &- 1, as: UInt8.self)) << 16
        }
        if n <= 8 {
            return UInt64(base.loadUnaligned(as: UInt32.self))
                | UInt64(base.loadUnaligned(fromByteOffset: n &- 4, as: UInt32.self)) << 32
        }
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ (UInt64(truncatingIfNeeded: n) &* 0xFF51_AFD7_ED55_8CCD)
        var i = 0
        while i &+ 8 <= n {
            h = (h ^ base.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 29
            i &+= 8
        }
        // The last 8 bytes (overlapping the loop's last word): covers the tail without a byte loop.
        h = (h ^ base.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self)) &* 0x94D0_49BB_1331_11EB
        return h ^ (h >> 32)
    }

    /// Slot index of a key and length.
    @inline(__always)
    private static func home(_ key: UInt64, _ n: Int) -> Int {
        var h = (key ^ UInt64(truncatingIfNeeded: n)) &* 0xD6E8_FEB8_6659_FD93
        h ^= h >> 32
        return Int(truncatingIfNeeded: h)
    }

    /// Adds `count` occurrences of the piece `bytes` (non-empty). Amortised O(length).
    @inline(__always)
    mutating func add(_ bytes: UnsafeRawBufferPointer, count: UInt64 = 1) {
        let n = bytes.count
        if n >= PieceCounter.maxPieceLength { return }
        let k = PieceCounter.key(bytes)
        let tag = UInt64(truncatingIfNeeded: n) << PieceCounter.offsetBits
        var i = PieceCounter.home(k, n) & mask
        while true {
            let s = slots[i]
            if s.lengthOffset == 0 { break }
            if s.key == k && s.lengthOffset & ~PieceCounter.offsetMask == tag {
                if n <= 8 || equalInArena(Int(truncatingIfNeeded: s.lengthOffset & PieceCounter.offsetMask), bytes) {
                    slots[i].count &+= count
                    return
                }
            }
            i = (i &+ 1) & mask
        }
        slots[i] = Slot(key: k, lengthOffset: tag | UInt64(arena.count), count: count)
        arena.append(contentsOf: bytes)
        uniqueCount &+= 1
        if uniqueCount &* 2 > slots.count { grow() }
    }

    @inline(__always)
    private func equalInArena(_ offset: Int, _ bytes: UnsafeRawBufferPointer) -> Bool {
        arena.withUnsafeBytes { a in memcmp(a.baseAddress! + offset, bytes.baseAddress!, bytes.count) == 0 }
    }

    /// Adds every piece of `other` (with its count) to this counter.
    mutating func merge(_ other: PieceCounter) {
        other.forEach { bytes, count in add(bytes, count: count) }
    }

    /// Calls `body(bytes, count)` for every distinct piece, in slot order (deterministic for a
    /// given sequence of `add` calls).
    func forEach(_ body: (UnsafeRawBufferPointer, UInt64) -> Void) {
        arena.withUnsafeBytes { a in
            for s in slots where s.lengthOffset != 0 {
                let off = Int(truncatingIfNeeded: s.lengthOffset & PieceCounter.offsetMask)
                let n = Int(truncatingIfNeeded: s.lengthOffset >> PieceCounter.offsetBits)
                body(UnsafeRawBufferPointer(rebasing: a[off..<(off + n)]), s.count)
            }
        }
    }

    /// Every distinct piece as (offset in `arena`, length, count), in slot order.
    func entries() -> [(offset: Int, length: Int, count: UInt64)] {
        var out: [(offset: Int, length: Int, count: UInt64)] = []
        out.reserveCapacity(uniqueCount)
        for s in slots where s.lengthOffset != 0 {
            out.append((Int(truncatingIfNeeded: s.lengthOffset & PieceCounter.offsetMask),
                        Int(truncatingIfNeeded: s.lengthOffset >> PieceCounter.offsetBits), s.count))
        }
        return out
    }

    private mutating func grow() {
        let old = slots
        let cap = slots.count * 2
        slots = [Slot](repeating: Slot(key: 0, lengthOffset: 0, count: 0), count: cap)
        mask = cap - 1
        for s in old where s.lengthOffset != 0 {
            var i = PieceCounter.home(s.key, Int(truncatingIfNeeded: s.lengthOffset >> PieceCounter.offsetBits)) & mask
            while slots[i].lengthOffset != 0 { i = (i &+ 1) & mask }
            slots[i] = s
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

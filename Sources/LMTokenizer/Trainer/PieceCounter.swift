/// Counts how often each distinct byte string (a pre-tokenized piece) occurs.
///
/// An open-addressing hash table whose keys live in one byte arena, so counting a piece
/// allocates nothing once the piece has been seen. One counter per thread; `merge(_:)` folds
/// one into another. Memory is O(unique pieces), never O(corpus).
///
///     var c = PieceCounter()
///     for p in ["ab", " ab", "ab"] { Array(p.utf8).withUnsafeBytes { c.add($0) } }
///     c.uniqueCount  // 2: "ab" counted 2, " ab" counted 1
///
/// Performance notes: a Swift `Dictionary<[UInt8], UInt64>` costs an array allocation per
/// lookup (~3× slower on Tiny Shakespeare); this table hashes 8 bytes at a time, compares a
/// stored 64-bit hash before the bytes, and keeps the load factor ≤ 1/2 (linear probing).
/// It is a struct used as a local `var` in each counting task: as a class, Swift's dynamic
/// exclusivity checks on its stored properties (`swift_beginAccess`) took ~10% of counting time.
struct PieceCounter: Sendable {
    /// One distinct piece: where its bytes are in `arena`, its hash and its count.
    struct Entry {
        var hash: UInt64
        var offset: Int
        var length: Int
        var count: UInt64
    }

    private(set) var arena: [UInt8] = []
    private(set) var entries: [Entry] = []
    /// Slot → entry index + 1 (0 = empty). Capacity is a power of two.
    private var slots: [Int32]
    private var mask: Int

    init(capacity: Int = 1 << 14) {
        var cap = 16
        while cap < capacity { cap <<= 1 }
        slots = [Int32](repeating: 0, count: cap)
        mask = cap - 1
    }

    /// Number of distinct pieces.
    var uniqueCount: Int { entries.count }

    /// Hash of a byte string (64-bit multiply–xorshift over 8-byte words). Stable across runs.
    @inline(__always)
    static func hash(_ p: UnsafeRawBufferPointer) -> UInt64 {
        let n = p.count
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ (UInt64(truncatingIfNeeded: n) &* 0xFF51_AFD7_ED55_8CCD)
        var i = 0
        let base = p.baseAddress!
        while i &+ 8 <= n {
            let w = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = (h ^ w) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 29
            i &+= 8
        }
        if i < n {
            var w: UInt64 = 0
            var shift: UInt64 = 0
            while i < n {
                w |= UInt64(base.load(fromByteOffset: i, as: UInt8.self)) << shift
                shift &+= 8
                i &+= 1
            }
            h = (h ^ w) &* 0x94D0_49BB_1331_11EB
            h ^= h >> 32
        }
        h = (h ^ (h >> 31)) &* 0xD6E8_FEB8_6659_FD93
        return h ^ (h >> 32)
    }

    /// Adds `count` occurrences of the piece `bytes` (non-empty).
    @inline(__always)
    mutating func add(_ bytes: UnsafeRawBufferPointer, count: UInt64 = 1) {
        let h = PieceCounter.hash(bytes)
        let n = bytes.count
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let s = slots[i]
            if s == 0 { break }
            let e = Int(s) &- 1
            if entries[e].hash == h && entries[e].length == n {
                let off = entries[e].offset
                let same = arena.withUnsafeBytes { a in
                    PieceCounter.equal(a.baseAddress! + off, bytes.baseAddress!, n)
                }
                if same { entries[e].count &+= count; return }
            }
            i = (i &+ 1) & mask
        }
        slots[i] = Int32(entries.count + 1)
        entries.append(Entry(hash: h, offset: arena.count, length: n, count: count))
        arena.append(contentsOf: bytes)
        if entries.count &* 2 > slots.count { grow() }
    }

    /// Byte equality; a plain loop for short pieces (most are < 8 bytes), `memcmp` otherwise.
    @inline(__always)
    static func equal(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ n: Int) -> Bool {
        if n >= 16 { return memcmp(a, b, n) == 0 }
        var i = 0
        while i < n {
            if a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self) { return false }
            i &+= 1
        }
        return true
    }

    /// Adds every piece of `other` (with its count) to this counter.
    mutating func merge(_ other: PieceCounter) {
        other.arena.withUnsafeBytes { a in
            for e in other.entries {
                add(UnsafeRawBufferPointer(rebasing: a[e.offset..<(e.offset + e.length)]), count: e.count)
            }
        }
    }

    /// Calls `body(bytes, count)` for every distinct piece, in first-seen order.
    func forEach(_ body: (UnsafeRawBufferPointer, UInt64) -> Void) {
        arena.withUnsafeBytes { a in
            for e in entries {
                body(UnsafeRawBufferPointer(rebasing: a[e.offset..<(e.offset + e.length)]), e.count)
            }
        }
    }

    private mutating func grow() {
        let cap = slots.count * 2
        slots = [Int32](repeating: 0, count: cap)
        mask = cap - 1
        for (k, e) in entries.enumerated() {
            var i = Int(truncatingIfNeeded: e.hash) & mask
            while slots[i] != 0 { i = (i &+ 1) & mask }
            slots[i] = Int32(k + 1)
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

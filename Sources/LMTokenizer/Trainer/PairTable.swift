/// Every adjacent symbol pair the trainer has seen: its count over the corpus and the words
/// that (may) contain it.
///
/// A pair `(left, right)` is packed as `(left << 32) | right` and gets a dense index the first
/// time it is seen; counts and word lists are arrays by that index. Word lists only grow and
/// may hold words that no longer contain the pair (the merge step re-checks each word), which
/// is cheaper than keeping exact sets.
///
///     var t = PairTable()
///     let i = t.index(of: PairTable.pack(97, 98))   // 0: first pair seen
///     t.counts[i] += 5
///
/// Performance notes: open addressing on the packed 64-bit key with a multiplicative hash, the
/// key stored in the slot (a probe never leaves the slot array); faster than
/// `Dictionary<UInt64, Int32>` in the merge loop, which is bound by cache misses.
struct PairTable {
    /// Count of each pair (by index), weighted by word counts. Never negative once a merge step ends.
    var counts: [Int64] = []
    /// The packed pair of each index.
    var pairs: [UInt64] = []
    /// Words that contained the pair when it was last incremented (may be stale, may repeat).
    var words: [[Int32]] = []
    /// Last word appended to `words[i]`, to avoid adjacent duplicates.
    var lastWord: [Int32] = []

    /// Open-addressing slots: the packed pair (so probing never leaves the slot array) and its
    /// index + 1 (0 = empty).
    private var slots: [Slot]
    private var mask: Int

    struct Slot {
        var key: UInt64
        var index: Int32
    }

    init(capacity: Int = 1 << 16) {
        var cap = 16
        while cap < capacity * 2 { cap <<= 1 }
        slots = [Slot](repeating: Slot(key: 0, index: 0), count: cap)
        mask = cap - 1
    }

    /// `(left << 32) | right`.
    @inline(__always)
    static func pack(_ left: UInt32, _ right: UInt32) -> UInt64 { UInt64(left) << 32 | UInt64(right) }

    @inline(__always)
    private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask
    }

    /// Index of `key`, or nil if the pair was never seen.
    @inline(__always)
    func find(_ key: UInt64) -> Int? {
        var i = PairTable.slot(key, mask)
        while true {
            let s = slots[i]
            if s.index == 0 { return nil }
            if s.key == key { return Int(s.index) &- 1 }
            i = (i &+ 1) & mask
        }
    }

    /// Index of `key`, adding the pair (count 0, no words) if new.
    @inline(__always)
    mutating func index(of key: UInt64) -> Int {
        var i = PairTable.slot(key, mask)
        while true {
            let s = slots[i]
            if s.index == 0 { break }
            if s.key == key { return Int(s.index) &- 1 }
            i = (i &+ 1) & mask
        }
        let idx = pairs.count
        slots[i] = Slot(key: key, index: Int32(idx + 1))
        pairs.append(key)
        counts.append(0)
        words.append([])
        lastWord.append(-1)
        if pairs.count &* 2 > slots.count { grow() }
        return idx
    }

    /// Adds `delta` to the pair's count and, when `word` is given, records that it holds the pair.
    @inline(__always)
    mutating func add(_ key: UInt64, _ delta: Int64, word: Int32) -> Int {
        let i = index(of: key)
        counts[i] &+= delta
        if lastWord[i] != word {
            lastWord[i] = word
            words[i].append(word)
        }
        return i
    }

    /// Subtracts `delta` from the pair's count (the pair must have been seen).
    @inline(__always)
    mutating func subtract(_ key: UInt64, _ delta: Int64) {
        let i = index(of: key)
        counts[i] &-= delta
    }

    private mutating func grow() {
        let cap = slots.count * 2
        slots = [Slot](repeating: Slot(key: 0, index: 0), count: cap)
        mask = cap - 1
        for (k, key) in pairs.enumerated() {
            var i = PairTable.slot(key, mask)
            while slots[i].index != 0 { i = (i &+ 1) & mask }
            slots[i] = Slot(key: key, index: Int32(k + 1))
        }
    }
}

import Foundation
import LMSupport

/// Stages 2–3 of training: words as symbol arrays, pair counts, and the merge loop.
///
/// Words live in one flat symbol array (`symbols[start ..< start + length]` of `words[w]`) and shrink
/// in place as pairs merge. Merging pair `(a, b)` into `n` visits only the words recorded for the
/// pair, rewrites each left to right (non-overlapping, like rustbpe and minbpe) and adjusts the
/// neighbouring pair counts by the word's count: for each `x a b y` it does
/// `(x,a) −c, (x,n) +c, (a,b) −c, (b,y) −c, (n,y) +c` — so counts always equal a full recount.
///
/// Worked example (word counts 1): `aaabdaaabac` has pairs `aa`:4, `ab`:2, `bd`, `da`, `ba`, `ac`:1.
/// Merge 1 `(a,a)`→256: `[256] a b d [256] a b a c`. Now `(256,a)`:2 and `(a,b)`:2 tie and
/// `(97,98)` < `(256,97)`, so merge 2 is `(a,b)`→257, then `(256,257)`→258 = `aaab`.
///
/// Performance notes: pair → index lookups use `PairTable` (open addressing); per-pair word lists
/// are append-only with a per-word "visited at merge k" stamp instead of hash sets (rustbpe uses
/// `AHashSet`s); the heap is invalidated lazily (a popped entry whose count changed is re-pushed).
/// Pairs whose count rose in a merge step are pushed once at the end of the step.
struct Merger {
    /// Per-word state, in one array so a word visit touches one cache line (plus its symbols).
    struct Word {
        var count: Int64
        /// First symbol in `symbols`.
        var start: UInt32
        /// Current number of symbols (shrinks as pairs merge).
        var length: Int32
        /// Merge step that last visited the word (dedupes repeated entries in a pair's word list).
        var visited: Int32
    }

    private var symbols: [UInt32] = []
    private var words: [Word] = []
    private var pairs: PairTable
    /// Token bytes by id; grows by one per merge.
    private(set) var tokens: [[UInt8]]
    private var tokenIDs: [[UInt8]: UInt32] = [:]

    /// Builds words (pieces of ≥ 2 bytes) from the counted pieces and counts their pairs. Words are
    /// laid out most frequent first, so the words most merges visit share cache lines.
    init(counter: PieceCounter) {
        // Pointers into the arena must not escape `withUnsafeBytes` (the optimizer may end the
        // counter's lifetime early — an earlier version read freed memory in release builds).
        var order = counter.entries().filter { $0.length >= 2 }
        order.sort { $0.count != $1.count ? $0.count > $1.count : $0.offset < $1.offset }
        let totalSymbols = order.reduce(0) { $0 + $1.length }
        symbols.reserveCapacity(totalSymbols)
        words.reserveCapacity(order.count)
        pairs = PairTable(capacity: 1 << 16)  // grows as needed; distinct pairs ≪ symbols
        tokens = (0..<256).map { [UInt8($0)] }
        for (i, t) in tokens.enumerated() { tokenIDs[t] = UInt32(i) }
        counter.arena.withUnsafeBytes { arena in
            for e in order {
                let w = Int32(words.count)
                words.append(Word(count: Int64(e.count), start: UInt32(symbols.count), length: Int32(e.length), visited: -1))
                let c = Int64(e.count)
                var prev = UInt32(arena[e.offset])
                symbols.append(prev)
                for k in 1..<e.length {
                    let s = UInt32(arena[e.offset + k])
                    symbols.append(s)
                    _ = pairs.add(PairTable.pack(prev, s), c, word: w)
                    prev = s
                }
            }
        }
    }

    /// Number of words (distinct pieces of ≥ 2 bytes).
    var wordCount: Int { words.count }

    /// Merges until there are `rankTarget` tokens or no pair is left; returns the merges in order.
    mutating func run(rankTarget: Int, quiet: Bool) -> [(left: Int, right: Int)] {
        var merges: [(left: Int, right: Int)] = []
        let wanted = max(0, rankTarget - 256)
        merges.reserveCapacity(wanted)
        var entries: [MergeQueue.Entry] = []
        entries.reserveCapacity(pairs.pairs.count)
        for i in 0..<pairs.pairs.count where pairs.counts[i] > 0 {
            entries.append(.init(count: pairs.counts[i], pair: pairs.pairs[i], index: Int32(i)))
        }
        var queue = MergeQueue(entries: entries)
        entries = []
        let progress = ProgressReporter(label: "vocab train: merging", total: Int64(wanted),
                                        unit: .items("merges"), quiet: quiet)
        var touchedStamp = [Int32](repeating: -1, count: pairs.pairs.count)
        var touched: [Int] = []
        var step: Int32 = 0
        while tokens.count < rankTarget, let top = queue.pop() {
            let idx = Int(top.index)
            let current = pairs.counts[idx]
            if current != top.count {
                if current > 0 { queue.push(.init(count: current, pair: top.pair, index: top.index)) }
                continue
            }
            if current <= 0 { continue }
            let a = UInt32(truncatingIfNeeded: top.pair >> 32)
            let b = UInt32(truncatingIfNeeded: top.pair)
            let bytes = tokens[Int(a)] + tokens[Int(b)]
            let n: UInt32
            if let existing = tokenIDs[bytes] {
                n = existing  // same bytes reached another way: reuse the id, spend no rank
            } else {
                n = UInt32(tokens.count)
                tokens.append(bytes)
                tokenIDs[bytes] = n
                merges.append((left: Int(a), right: Int(b)))
                progress.advance(by: 1)
            }
            let wordList = pairs.words[idx]
            pairs.words[idx] = []
            touched.removeAll(keepingCapacity: true)
            for w in wordList where words[Int(w)].visited != step {
                words[Int(w)].visited = step
                mergeInWord(Int(w), a, b, n, abIndex: idx, touched: &touched, stamp: &touchedStamp, step: step)
            }
            for t in touched where pairs.counts[t] > 0 {
                queue.push(.init(count: pairs.counts[t], pair: pairs.pairs[t], index: Int32(t)))
            }
            step &+= 1
        }
        progress.finish()
        return merges
    }

    /// Rewrites word `w`, replacing each non-overlapping `a b` (left to right) by `n`, and updates
    /// the pair counts; pairs whose count rose are appended to `touched` once per step.
    @inline(__always)
    private mutating func mergeInWord(_ w: Int, _ a: UInt32, _ b: UInt32, _ n: UInt32, abIndex: Int,
                                      touched: inout [Int], stamp: inout [Int32], step: Int32) {
        let info = words[w]
        let s0 = Int(info.start)
        let end = s0 + Int(info.length)
        let c = info.count
        let word = Int32(w)
        var out = s0
        var i = s0
        var found = false
        while i < end {
            let s = symbols[i]
            if s == a && i &+ 1 < end && symbols[i &+ 1] == b {
                found = true
                if out > s0 {
                    let x = symbols[out &- 1]
                    pairs.subtract(PairTable.pack(x, a), c)
                    let t = pairs.add(PairTable.pack(x, n), c, word: word)
                    Merger.mark(t, &touched, &stamp, step)
                }
                pairs.counts[abIndex] &-= c
                if i &+ 2 < end {
                    let y = symbols[i &+ 2]
                    pairs.subtract(PairTable.pack(b, y), c)
                    let t = pairs.add(PairTable.pack(n, y), c, word: word)
                    Merger.mark(t, &touched, &stamp, step)
                }
                symbols[out] = n
                out &+= 1
                i &+= 2
            } else {
                symbols[out] = s
                out &+= 1
                i &+= 1
            }
        }
        if found { words[w].length = Int32(out - s0) }
    }

    @inline(__always)
    private static func mark(_ t: Int, _ touched: inout [Int], _ stamp: inout [Int32], _ step: Int32) {
        while stamp.count <= t { stamp.append(-1) }
        if stamp[t] != step { stamp[t] = step; touched.append(t) }
    }
}

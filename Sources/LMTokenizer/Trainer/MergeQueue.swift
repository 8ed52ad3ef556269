/// The trainer's priority queue of candidate merges: a binary max-heap keyed by pair count.
///
/// Ties break towards the smallest pair `(left id, right id)` — the rule rustbpe uses
/// ("max-heap by count; tie-break to ascending pair order"), so lmkit and rustbpe pick the
/// same merge whenever the counts agree. Entries are invalidated lazily: the trainer pops,
/// compares the entry's count with the pair's current count, and re-pushes it if it changed.
///
///     var q = MergeQueue()
///     q.push(.init(count: 3, pair: 0x61_0000_0062, index: 0))   // (97, 98) seen 3 times
///     q.push(.init(count: 3, pair: 0x61_0000_0061, index: 1))   // (97, 97) seen 3 times
///     q.pop()?.index   // 1: equal counts, (97, 97) < (97, 98)
///
/// Complexity: push and pop O(log n); `init(entries:)` heapifies in O(n).
struct MergeQueue {
    /// A candidate merge: `pair` packs `(left << 32) | right`; `index` is the pair's slot in the pair table.
    struct Entry {
        var count: Int64
        var pair: UInt64
        var index: Int32
    }

    private var heap: [Entry] = []

    init() {}

    /// Builds a heap from unordered entries in O(n).
    init(entries: [Entry]) {
        heap = entries
        var i = heap.count / 2 - 1
        while i >= 0 { siftDown(i); i -= 1 }
    }

    var count: Int { heap.count }
    var isEmpty: Bool { heap.isEmpty }

    /// True if `a` should be merged before `b`: larger count, then smaller pair.
    @inline(__always)
    static func before(_ a: Entry, _ b: Entry) -> Bool {
        a.count != b.count ? a.count > b.count : a.pair < b.pair
    }

    mutating func push(_ e: Entry) {
        heap.append(e)
        siftUp(heap.count - 1)
    }

    /// Removes and returns the entry to merge first, or nil when empty.
    mutating func pop() -> Entry? {
        guard let last = heap.popLast() else { return nil }
        if heap.isEmpty { return last }
        let top = heap[0]
        heap[0] = last
        siftDown(0)
        return top
    }

    private mutating func siftUp(_ start: Int) {
        heap.withUnsafeMutableBufferPointer { h in
            var i = start
            let e = h[i]
            while i > 0 {
                let parent = (i &- 1) >> 1
                if !MergeQueue.before(e, h[parent]) { break }
                h[i] = h[parent]
                i = parent
            }
            h[i] = e
        }
    }

    private mutating func siftDown(_ start: Int) {
        heap.withUnsafeMutableBufferPointer { h in
            let n = h.count
            var i = start
            let e = h[i]
            while true {
                var child = 2 &* i &+ 1
                if child >= n { break }
                if child &+ 1 < n && MergeQueue.before(h[child &+ 1], h[child]) { child &+= 1 }
                if !MergeQueue.before(h[child], e) { break }
                h[i] = h[child]
                i = child
            }
            h[i] = e
        }
    }
}

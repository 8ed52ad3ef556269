import LMSupport

/// Which window comes at each position of an epoch: the shuffle of `DataLoader`, as pure
/// arithmetic over shard sizes (no I/O), so it can be tested and resumed exactly.
///
/// A *window* is T+1 consecutive tokens of one shard starting at a multiple of T: shard `s`
/// with `n` tokens has `(n - 1) / T` windows (windows never cross shards). Windows are grouped
/// into *blocks* of consecutive windows (about one frame of tokens), blocks of all shards are
/// shuffled by `(seed, epoch)`, and the shuffled blocks are taken in *groups* of
/// `groupBlocks`; the windows inside a group are shuffled again by `(seed, epoch, group)`.
/// So every window appears exactly once per epoch, the order differs every epoch, and a
/// group touches only ~`groupBlocks` frames (which is what makes decoding cheap: each frame
/// is decompressed about once per epoch, not once per window).
///
/// Worked example: shards of 9 and 5 tokens, T = 2 → windows (0,0) (0,1) (0,2) (0,3) (1,0)
/// (1,1); with 2 windows per block there are 3 blocks and the epoch is a permutation of those 6.
///
/// Memory: O(blocks) for the epoch's block order + O(groupBlocks × windows per block).
public struct WindowPlan: Sendable {
    /// One window: shard number and the window's first token (a multiple of T) in that shard.
    public struct Window: Sendable, Equatable, Hashable {
        public var shard: Int
        public var start: Int
    }

    struct Block: Sendable { var shard: Int32; var firstWindow: Int32; var count: Int32 }

    public let context: Int
    public let seed: UInt64
    public let shuffle: Bool
    /// Windows in one epoch (all ranks together).
    public let windowsPerEpoch: Int
    let blocks: [Block]
    let groupBlocks: Int

    // Per-epoch and per-group caches (value semantics: a plan is used by one thread).
    private var cachedEpoch = -1
    private var groupStarts: [Int] = []     // first epoch position of each group, plus W
    private var order: [Int32] = []         // block order of the cached epoch
    private var cachedGroup = -1
    private var groupWindows: [Window] = []

    /// - Parameters:
    ///   - shardTokens: tokens in each shard, in order.
    ///   - context: T (the window holds T+1 tokens).
    ///   - blockWindows: windows per block (≥ 1); `DataLoader` uses frameTokens / T.
    ///   - groupBlocks: blocks per shuffle group (≥ 1).
    ///   - shuffle: false keeps the natural order (shard by shard) — used for tests and debugging.
    public init(shardTokens: [Int], context: Int, seed: UInt64, blockWindows: Int, groupBlocks: Int,
                shuffle: Bool = true) {
        precondition(context >= 1 && blockWindows >= 1 && groupBlocks >= 1)
        self.context = context
        self.seed = seed
        self.shuffle = shuffle
        self.groupBlocks = groupBlocks
        var blocks: [Block] = []
        var total = 0
        for (s, n) in shardTokens.enumerated() {
            let w = n > context ? (n - 1) / context : 0
            total += w
            var first = 0
            while first < w {
                let c = min(blockWindows, w - first)
                blocks.append(Block(shard: Int32(s), firstWindow: Int32(first), count: Int32(c)))
                first += c
            }
        }
        self.blocks = blocks
        self.windowsPerEpoch = total
    }

    /// The window at `position` (0..<windowsPerEpoch) of `epoch`.
    public mutating func window(epoch: Int, position: Int) -> Window {
        precondition(position >= 0 && position < windowsPerEpoch)
        if epoch != cachedEpoch { prepareEpoch(epoch) }
        // Group holding `position`: last g with groupStarts[g] <= position.
        var lo = 0, hi = groupStarts.count - 1
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if groupStarts[mid] <= position { lo = mid } else { hi = mid }
        }
        if lo != cachedGroup { prepareGroup(lo, epoch: epoch) }
        return groupWindows[position - groupStarts[lo]]
    }

    private mutating func prepareEpoch(_ epoch: Int) {
        order = (0..<Int32(blocks.count)).map { $0 }
        if shuffle {
            var rng = SeededRNG(seed: SeededRNG.derive(seed, UInt64(truncatingIfNeeded: epoch) &* 2 &+ 1))
            rng.shuffle(&order)
        }
        groupStarts = [0]
        var pos = 0
        var k = 0
        while k < order.count {
            let end = min(k + groupBlocks, order.count)
            for b in k..<end { pos += Int(blocks[Int(order[b])].count) }
            groupStarts.append(pos)
            k = end
        }
        if groupStarts.count == 1 { groupStarts.append(0) }
        cachedEpoch = epoch
        cachedGroup = -1
    }

    private mutating func prepareGroup(_ g: Int, epoch: Int) {
        groupWindows.removeAll(keepingCapacity: true)
        let lo = g * groupBlocks
        let hi = min(lo + groupBlocks, order.count)
        for b in lo..<hi {
            let block = blocks[Int(order[b])]
            for w in 0..<Int(block.count) {
                groupWindows.append(Window(shard: Int(block.shard), start: (Int(block.firstWindow) + w) * context))
            }
        }
        if shuffle {
            let stream = (UInt64(truncatingIfNeeded: epoch) &* 0x1_0000_0001) ^ UInt64(g) ^ 0xA5A5_0000_0000_0000
            var rng = SeededRNG(seed: SeededRNG.derive(seed, stream))
            rng.shuffle(&groupWindows)
        }
        cachedGroup = g
    }
}

import Foundation
import LMSupport

/// Where a `DataLoader` stands: the epoch and how many windows this rank has consumed in it.
/// Save it in checkpoints; `restore(_:)` makes `next()` return exactly the batches that would
/// have come next.
public struct LoaderPosition: Codable, Sendable, Equatable, Hashable {
    public var epoch: Int
    /// Windows this rank has taken in `epoch` (a multiple of B unless a batch crossed an epoch).
    public var index: Int
    public init(epoch: Int = 0, index: Int = 0) { self.epoch = epoch; self.index = index }
}

/// B windows of T+1 tokens, as next-token-prediction pairs.
public struct Batch: Sendable {
    /// B (rows).
    public let batchSize: Int
    /// T (columns).
    public let context: Int
    /// Row-major (B, T): tokens [0, T) of each window.
    public let inputs: [Int32]
    /// Row-major (B, T): tokens [1, T+1) of each window (inputs shifted by one).
    public let targets: [Int32]
    /// The loader position right after this batch.
    public let position: LoaderPosition
}

/// Batches of training windows from a shard directory, shuffled per epoch, resumable,
/// rank-sliced, prefetched on a background thread, with bounded memory.
///
/// - Every epoch visits every window once (see `WindowPlan` for the order); batches run on
///   into the next epoch without dropping windows.
/// - `rank`/`worldSize`: rank r takes epoch positions r, r + worldSize, r + 2·worldSize, …, so
///   the ranks' windows are disjoint and together are the whole epoch.
/// - Memory: an LRU cache of decoded frames (default 64 frames ≈ 16 MiB) + `prefetch` batches.
/// - Corruption: `next()` throws `LMError.badFormat` naming the shard file and frame.
///
///     let loader = try DataLoader(directory: "shards", split: .train, batchSize: 8, context: 256, seed: 1)
///     let batch = try loader.next()          // batch.inputs.count == 8 * 256
///     let saved = loader.position            // store in the checkpoint
///     loader.restore(saved)                  // later: continue exactly there
///
/// Performance notes: the prefetch thread decodes a frame once per visit of its block group
/// (the group shuffle keeps ~groupBlocks frames hot), and copies windows as Int32 straight out
/// of the cached frames; measured in `lmkit-bench data`.
public final class DataLoader: @unchecked Sendable {
    /// B.
    public let batchSize: Int
    /// T.
    public let context: Int
    public let split: Split
    public let seed: UInt64
    public let rank: Int
    public let worldSize: Int
    /// The directory's manifest.
    public let manifest: Manifest
    /// Windows in one epoch, all ranks together.
    public let windowsPerEpoch: Int
    /// Windows this rank takes per epoch.
    public let windowsPerRank: Int
    /// Predicted tokens in one epoch, all ranks together (windowsPerEpoch × T).
    public var tokensPerEpoch: Int { windowsPerEpoch * context }
    /// Batches this rank draws per epoch (rounded up; the last one runs into the next epoch).
    public var batchesPerEpoch: Int { (windowsPerRank + batchSize - 1) / batchSize }
    /// Identity of the vocabulary the shards were made with.
    public var vocabFingerprint: UInt64 { manifest.vocabFingerprint }
    /// Ids the vocabulary defines.
    public var vocabSize: Int { manifest.vocabSize }

    private let state: PrefetchState

    /// Opens the shards of `split` in `directory` (headers and indexes are read and checked
    /// now; frames are read as needed).
    /// - Parameters:
    ///   - prefetch: batches prepared ahead on the background thread.
    ///   - cacheFrames: decoded frames kept in memory (each frameTokens × 4 bytes); raised to what
    ///     one batch touches if smaller.
    ///   - threads: threads that decode frames (all cores by default; the prefetch thread waits).
    public init(directory: String, split: Split, batchSize: Int, context: Int, seed: UInt64,
                rank: Int = 0, worldSize: Int = 1, prefetch: Int = 4, cacheFrames: Int = 64,
                threads: Int = Threads.available) throws {
        guard batchSize >= 1, context >= 1 else {
            throw LMError.badInput("batch size and context must be at least 1 (got \(batchSize), \(context))")
        }
        guard worldSize >= 1, rank >= 0, rank < worldSize else {
            throw LMError.badInput("rank \(rank) is not in 0..<worldSize (\(worldSize))")
        }
        let m = try Manifest.read(directory: directory)
        guard m.complete else {
            throw LMError.badInput(file: directory, "the shard run that makes this directory has not finished",
                                   fix: "re-run the same lmkit shard command to complete it")
        }
        let entries = m.entries(split)
        guard !entries.isEmpty else {
            throw LMError.badInput(file: directory, "no \(split.rawValue) shards",
                                   fix: split == .val ? "re-shard with --val-fraction above 0" : "shard some text first")
        }
        var readers: [ShardReader] = []
        for e in entries {
            let r = try ShardReader(path: (directory as NSString).appendingPathComponent(e.file))
            guard r.header.vocabFingerprint == m.vocabFingerprint, r.header.tokenCount == e.tokens else {
                throw LMError.mismatch(file: r.path, "does not match manifest.json (vocab fingerprint or token count differ)",
                                       fix: "re-create the directory with lmkit shard")
            }
            readers.append(r)
        }
        let frameTokens = readers.map(\.header.frameTokens).max()!
        let plan = WindowPlan(shardTokens: readers.map(\.header.tokenCount), context: context, seed: seed,
                              blockWindows: max(1, frameTokens / context), groupBlocks: max(1, cacheFrames / 4))
        guard plan.windowsPerEpoch >= worldSize else {
            throw LMError.badInput(file: directory,
                "the \(split.rawValue) split has \(plan.windowsPerEpoch) windows of \(context + 1) tokens, fewer than \(worldSize) rank(s)",
                fix: "use a shorter context or more data")
        }
        self.batchSize = batchSize
        self.context = context
        self.split = split
        self.seed = seed
        self.rank = rank
        self.worldSize = worldSize
        self.manifest = m
        self.windowsPerEpoch = plan.windowsPerEpoch
        self.windowsPerRank = (plan.windowsPerEpoch - rank + worldSize - 1) / worldSize
        // The cache must hold every frame one batch touches (≤ 2 per window when T < frameTokens).
        let capacity = max(cacheFrames, batchSize * (2 + context / frameTokens) + 2)
        let producer = BatchProducer(plan: plan, cache: FrameCache(readers: readers, capacity: capacity, threads: threads),
                                     batchSize: batchSize, context: context, rank: rank, worldSize: worldSize,
                                     windowsPerRank: windowsPerRank)
        state = PrefetchState(producer: producer, capacity: max(1, prefetch))
        state.start()
    }

    deinit { state.shutdown() }

    /// The next batch. Throws `LMError` (naming shard and frame) if a frame is corrupt; the
    /// loader then keeps throwing until `restore(_:)`.
    public func next() throws -> Batch { try state.pop() }

    /// The position after the last batch `next()` returned (or the restored one).
    public var position: LoaderPosition {
        get { state.consumerPosition }
        set { restore(newValue) }
    }

    /// Continues from `position`: the next batch is the one that followed it originally.
    public func restore(_ position: LoaderPosition) { state.reset(to: position) }
}

/// Makes batches from a cursor; owned by the prefetch thread.
final class BatchProducer {
    var plan: WindowPlan
    let cache: FrameCache
    let batchSize: Int, context: Int, rank: Int, worldSize: Int, windowsPerRank: Int

    init(plan: WindowPlan, cache: FrameCache, batchSize: Int, context: Int, rank: Int, worldSize: Int,
         windowsPerRank: Int) {
        self.plan = plan
        self.cache = cache
        self.batchSize = batchSize
        self.context = context
        self.rank = rank
        self.worldSize = worldSize
        self.windowsPerRank = windowsPerRank
    }

    /// The batch starting at `cursor`, and the cursor after it.
    func make(from cursor: LoaderPosition) throws -> Batch {
        var pos = cursor
        let T = context, B = batchSize
        var windows: [WindowPlan.Window] = []
        windows.reserveCapacity(B)
        var keys: [FrameCache.Key] = []
        for _ in 0..<B {
            if pos.index >= windowsPerRank { pos = LoaderPosition(epoch: pos.epoch + 1, index: 0) }
            let w = plan.window(epoch: pos.epoch, position: pos.index * worldSize + rank)
            pos.index += 1
            windows.append(w)
            for f in cache.keys(shard: w.shard, start: w.start, count: T + 1) { keys.append(.init(shard: w.shard, frame: f)) }
        }
        try cache.load(keys)      // every frame of the batch, decoded in parallel
        var targetsOut: [Int32] = []
        let inputs = try [Int32](unsafeUninitializedCapacity: B * T) { inp, n in
            targetsOut = try [Int32](unsafeUninitializedCapacity: B * T) { tgt, m in
                for (b, w) in windows.enumerated() {
                    try cache.copy(shard: w.shard, start: w.start, count: T, into: inp.baseAddress! + b * T)
                    try cache.copy(shard: w.shard, start: w.start + 1, count: T, into: tgt.baseAddress! + b * T)
                }
                m = B * T
            }
            n = B * T
        }
        return Batch(batchSize: B, context: T, inputs: inputs, targets: targetsOut, position: pos)
    }
}

/// The queue between the prefetch thread and `next()`, guarded by one condition variable.
final class PrefetchState: @unchecked Sendable {
    private let cond = NSCondition()
    private let producer: BatchProducer
    private let capacity: Int
    private var queue: [Result<Batch, Error>] = []
    private var cursor = LoaderPosition()        // where the producer continues
    private var consumed = LoaderPosition()      // after the last batch handed out
    private var generation = 0
    private var stopped = false
    private var failed = false

    init(producer: BatchProducer, capacity: Int) {
        self.producer = producer
        self.capacity = capacity
    }

    func start() {
        let t = Thread { [self] in run() }
        t.name = "lmkit-data-prefetch"
        t.start()
    }

    func shutdown() {
        cond.lock(); stopped = true; cond.broadcast(); cond.unlock()
    }

    var consumerPosition: LoaderPosition {
        cond.lock(); defer { cond.unlock() }
        return consumed
    }

    func reset(to position: LoaderPosition) {
        cond.lock()
        generation += 1
        queue.removeAll()
        cursor = position
        consumed = position
        failed = false
        cond.broadcast()
        cond.unlock()
    }

    func pop() throws -> Batch {
        cond.lock()
        while queue.isEmpty { cond.wait() }
        let r = queue[0]
        if case .success(let b) = r {
            queue.removeFirst()
            consumed = b.position
            cond.broadcast()
        }
        cond.unlock()
        return try r.get()   // a failure stays at the head: every later call throws it too
    }

    private func run() {
        while true {
            cond.lock()
            while !stopped && (queue.count >= capacity || failed) { cond.wait() }
            if stopped { cond.unlock(); return }
            let gen = generation
            let from = cursor
            cond.unlock()
            let result: Result<Batch, Error>
            do { result = .success(try producer.make(from: from)) } catch { result = .failure(error) }
            cond.lock()
            if gen == generation && !stopped {
                queue.append(result)
                switch result {
                case .success(let b): cursor = b.position
                case .failure: failed = true
                }
                cond.broadcast()
            }
            cond.unlock()
        }
    }
}

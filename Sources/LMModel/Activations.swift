import LMKernels

/// Activation and activation-gradient memory for one (batch, time) shape, in one allocation.
///
/// Per layer (N = B·T): ln1, attY, attProj, res2, ln2, fcProj, res3 (N, C); ln1/ln2 mean and rstd (N);
/// qkv (N, 3C); att (B, NH, T, T); fc, fcGelu (N, 4C). Then encoded, lnf (N, C), lnf mean/rstd,
/// logits (N, Vp) (overwritten by ∂loss/∂logits in `backward`), losses, lse (N), and the
/// backward scratch: dres, dC (N, C), d4C (N, 4C), dqkv (N, 3C), attention tiles.
final class Activations {
    struct Layer {
        var ln1, ln1Mean, ln1Rstd, qkv, attY, att, attProj, res2, ln2, ln2Mean, ln2Rstd: UnsafeMutablePointer<Float>
        var fc, fcGelu, fcProj, res3: UnsafeMutablePointer<Float>
    }
    let batch: Int
    let time: Int
    let threads: Int
    let storage: UnsafeMutablePointer<Float>
    let storageCount: Int
    let tokens: UnsafeMutablePointer<Int32>
    let targets: UnsafeMutablePointer<Int32>
    var hasTargets = false
    /// (B, T) start of each position's segment in its row (see `GPT.forward(…segmentStarts:)`),
    /// valid when `hasSegments`.
    let segmentStarts: UnsafeMutablePointer<Int32>
    var hasSegments = false
    /// `segmentStarts` for the kernels, nil when the last forward had none.
    var segments: UnsafePointer<Int32>? { hasSegments ? UnsafePointer(segmentStarts) : nil }
    /// Number of targets ≠ −1 in the last forward.
    var targetCount = 0
    /// True once `backward` has overwritten the logits.
    var logitsConsumed = false
    /// Scored position of each row after `forwardRewards`; nil once `backwardRewards` used them.
    var scorePositions: [Int]?
    /// True after `forwardValues`, until `backwardValues`.
    var valuesPending = false

    let encoded: UnsafeMutablePointer<Float>
    let layers: [Layer]
    let lnf, lnfMean, lnfRstd, logits, losses, lse: UnsafeMutablePointer<Float>
    let dres, dC, d4C, dqkv, attScratch: UnsafeMutablePointer<Float>

    init(config: GPTConfig, batch: Int, time: Int, threads: Int) {
        self.batch = batch
        self.time = time
        self.threads = threads
        let n = batch * time, c = config.channels, nh = config.heads
        // Sizes first, then one allocation carved in the same order.
        let perLayer: [Int] = [n * c, n, n, n * 3 * c, n * c, batch * nh * time * time, n * c, n * c, n * c, n, n,
                               n * 4 * c, n * 4 * c, n * c, n * c]
        var total = n * c
        total += perLayer.reduce(0, +) * config.layers
        let tail = [n * c, n, n, n * config.paddedVocabSize, n, n,
                    n * c, n * c, n * 4 * c, n * 3 * c, Attention.scratchCount(time: time, headSize: c / nh, threads: threads)]
        total += tail.reduce(0, +)
        storageCount = total
        storage = .allocate(capacity: total)
        storage.initialize(repeating: 0, count: total)
        var cursor = storage
        func next(_ count: Int) -> UnsafeMutablePointer<Float> { defer { cursor += count }; return cursor }
        encoded = next(n * c)
        var layers: [Layer] = []
        for _ in 0..<config.layers {
            let p = perLayer.map { next($0) }
            layers.append(Layer(ln1: p[0], ln1Mean: p[1], ln1Rstd: p[2], qkv: p[3], attY: p[4], att: p[5],
                                attProj: p[6], res2: p[7], ln2: p[8], ln2Mean: p[9], ln2Rstd: p[10],
                                fc: p[11], fcGelu: p[12], fcProj: p[13], res3: p[14]))
        }
        self.layers = layers
        let t = tail.map { next($0) }
        lnf = t[0]; lnfMean = t[1]; lnfRstd = t[2]; logits = t[3]; losses = t[4]; lse = t[5]
        dres = t[6]; dC = t[7]; d4C = t[8]; dqkv = t[9]; attScratch = t[10]
        tokens = .allocate(capacity: n)
        tokens.initialize(repeating: 0, count: n)
        targets = .allocate(capacity: n)
        targets.initialize(repeating: -1, count: n)
        segmentStarts = .allocate(capacity: n)
        segmentStarts.initialize(repeating: 0, count: n)
    }

    deinit {
        storage.deallocate()
        tokens.deallocate()
        targets.deallocate()
        segmentStarts.deallocate()
    }
}

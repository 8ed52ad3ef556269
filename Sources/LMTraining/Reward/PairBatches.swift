import LMSupport

/// Where a `PairBatches` stream is: the pair index inside an epoch.
public struct PairPosition: Codable, Sendable, Equatable {
    public var epoch: Int
    public var pair: Int
    public init(epoch: Int, pair: Int) { self.epoch = epoch; self.pair = pair }
}

/// Batches of preference pairs for the train loop, in the `TrainingBatch` encoding that
/// `RewardModel` reads:
///
/// - rows 2k and 2k+1 (k < P = `batchRows` / 2) are the chosen and the rejected sequence of one
///   pair, each left-aligned in a row of T ids and padded with `padID` after its end;
/// - `targets` is −1 everywhere except 1 at the last real token of each row (the scored position).
///
/// Each epoch visits every pair once, in an order shuffled by (seed, epoch) when `shuffle`; a
/// batch may continue into the next epoch. Resumable by `PairPosition`.
public final class PairBatches: BatchStream {
    public let examples: [RewardExample]
    /// 2·P rows per batch.
    public let batchRows: Int
    public let batchTime: Int
    let seed: UInt64
    let shuffle: Bool
    let padID: Int32
    private var position = PairPosition(epoch: 0, pair: 0)
    private var order: [Int] = []
    private var orderEpoch = -1

    /// - Parameters:
    ///   - pairsPerBatch: P (the batch has 2·P rows).
    /// - Precondition: every sequence has 1…`context` tokens.
    public init(examples: [RewardExample], pairsPerBatch: Int, context: Int, seed: UInt64, shuffle: Bool, padID: Int32) {
        precondition(!examples.isEmpty && pairsPerBatch >= 1)
        precondition(examples.allSatisfy { (1...context).contains($0.chosen.count) && (1...context).contains($0.rejected.count) })
        self.examples = examples
        batchRows = 2 * pairsPerBatch
        batchTime = context
        self.seed = seed
        self.shuffle = shuffle
        self.padID = padID
    }

    /// Pair indices of epoch `e`, in visiting order.
    public func order(epoch e: Int) -> [Int] {
        var order = Array(examples.indices)
        if shuffle {
            var rng = SeededRNG(seed: SeededRNG.derive(seed, UInt64(e)))
            rng.shuffle(&order)
        }
        return order
    }

    /// Batches per epoch (the last one may be partly filled from the next epoch).
    public var batchesPerEpoch: Int { (examples.count + batchRows / 2 - 1) / (batchRows / 2) }

    public func nextBatch() throws -> TrainingBatch {
        let t = batchTime
        var inputs = [Int32](repeating: padID, count: batchRows * t)
        var targets = [Int32](repeating: -1, count: batchRows * t)
        for k in 0 ..< batchRows / 2 {
            if orderEpoch != position.epoch { order = order(epoch: position.epoch); orderEpoch = position.epoch }
            let ex = examples[order[position.pair]]
            for (side, seq) in [ex.chosen, ex.rejected].enumerated() {
                let at = (2 * k + side) * t
                for i in 0..<seq.count { inputs[at + i] = seq[i] }
                targets[at + seq.count - 1] = 1
            }
            position.pair += 1
            if position.pair == examples.count { position = PairPosition(epoch: position.epoch + 1, pair: 0) }
        }
        return TrainingBatch(inputs: inputs, targets: targets)
    }

    public var streamPosition: PairPosition { position }
    public func restoreStream(_ p: PairPosition) throws { position = p }
}

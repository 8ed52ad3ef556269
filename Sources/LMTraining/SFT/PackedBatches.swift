import LMSupport

/// One training example: a rendered conversation as shifted (input, target) pairs.
/// `inputs[i]` = ids[i], `targets[i]` = ids[i+1] when mask[i+1] = 1, else −1; length n − 1.
public struct SFTExample: Sendable, Equatable {
    public var inputs: [Int32]
    public var targets: [Int32]
    public init(inputs: [Int32], targets: [Int32]) { self.inputs = inputs; self.targets = targets }
    public init(_ r: RenderedConversation) {
        let n = r.ids.count
        inputs = Array(r.ids[0..<max(0, n - 1)])
        targets = (1..<max(1, n)).map { r.mask[$0] == 1 ? r.ids[$0] : -1 }
    }
    /// Positions (tokens of compute).
    public var count: Int { inputs.count }
    /// Targets that count in the loss.
    public var trainedCount: Int { targets.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) } }
}

/// Where a `PackedBatches` stream is: the epoch and the next row inside it.
public struct PackedPosition: Codable, Sendable, Equatable {
    public var epoch: Int
    public var row: Int
}

/// Packs examples into rows of T positions and serves B×T batches (a `BatchStream`).
///
/// Packing: each epoch takes the examples in an order (shuffled with `derive(seed, epoch)`, or
/// as given when `shuffle` is false) and places each into the first row with room (first fit);
/// the rest of a row is padding (input `padID`, target −1). Examples are never split; each
/// batch carries segment starts, so packed examples do not see each other through attention and
/// each one's position ids start at 0 (`batch(rows:)`). Rows follow one another across epochs, so every
/// batch is full and the stream never ends. The position (epoch, row) restores it exactly.
///
/// Performance notes: first fit scans the open rows (O(examples × rows) per epoch; ~10⁶ for a
/// few thousand examples), done once per epoch.
public final class PackedBatches: BatchStream {
    public let examples: [SFTExample]
    public let batchRows: Int
    public let batchTime: Int
    let seed: UInt64
    let shuffle: Bool
    let padID: Int32
    private var position = PackedPosition(epoch: 0, row: 0)
    private var rows: [[Int]] = []
    private var rowsEpoch = -1

    /// - Precondition: every example has 1...T positions.
    public init(examples: [SFTExample], batchSize: Int, context: Int, seed: UInt64, shuffle: Bool, padID: Int32) {
        precondition(!examples.isEmpty && examples.allSatisfy { $0.count >= 1 && $0.count <= context })
        self.examples = examples
        batchRows = batchSize
        batchTime = context
        self.seed = seed
        self.shuffle = shuffle
        self.padID = padID
    }

    /// Rows of epoch `e`: indices of the examples in each row, in order.
    public func packing(epoch e: Int) -> [[Int]] {
        var order = Array(examples.indices)
        if shuffle {
            var rng = SeededRNG(seed: SeededRNG.derive(seed, UInt64(e)))
            rng.shuffle(&order)
        }
        var rows: [[Int]] = []
        var free: [Int] = []
        for i in order {
            let n = examples[i].count
            if let r = free.firstIndex(where: { $0 >= n }) {
                rows[r].append(i); free[r] -= n
            } else {
                rows.append([i]); free.append(batchTime - n)
            }
        }
        return rows
    }

    /// Rows per epoch and the fractions of their B·T positions that are padding and that carry
    /// a trained target (epoch 0).
    public var statistics: (rows: Int, padding: Double, trained: Double) {
        let rows = packing(epoch: 0).count
        let used = examples.reduce(0) { $0 + $1.count }
        let trained = examples.reduce(0) { $0 + $1.trainedCount }
        let total = Double(rows * batchTime)
        return (rows, 1 - Double(used) / total, Double(trained) / total)
    }

    public func nextBatch() throws -> TrainingBatch {
        var picked: [[Int]] = []
        for _ in 0..<batchRows {
            if rowsEpoch != position.epoch { rows = packing(epoch: position.epoch); rowsEpoch = position.epoch }
            picked.append(rows[position.row])
            position.row += 1
            if position.row == rows.count { position = PackedPosition(epoch: position.epoch + 1, row: 0) }
        }
        return batch(rows: picked)
    }

    /// The (len(rows), T) batch whose row r holds the examples `rows[r]` in order, then padding
    /// (input `padID`, target −1). Segment starts mark each example (and the padding after them)
    /// as its own document, so packed examples neither attend to each other nor shift each
    /// other's position ids: each is trained exactly as if alone in its row.
    public func batch(rows: [[Int]]) -> TrainingBatch {
        let t = batchTime
        var inputs = [Int32](repeating: padID, count: rows.count * t)
        var targets = [Int32](repeating: -1, count: rows.count * t)
        var starts = [Int32](repeating: 0, count: rows.count * t)
        for (b, row) in rows.enumerated() {
            var at = 0
            for i in row {
                let ex = examples[i]
                for k in 0..<ex.count {
                    inputs[b * t + at + k] = ex.inputs[k]; targets[b * t + at + k] = ex.targets[k]
                    starts[b * t + at + k] = Int32(at)
                }
                at += ex.count
            }
            for k in at..<t { starts[b * t + k] = Int32(at) }
        }
        return TrainingBatch(inputs: inputs, targets: targets, segmentStarts: starts)
    }

    public var streamPosition: PackedPosition { position }
    public func restoreStream(_ p: PackedPosition) throws { position = p }
}

import LMSupport

/// What the train loop needs from a model. `GPT` conforms (see `GPT+Training.swift`); the tests
/// use a small bigram model with the same contract.
///
/// Buffers: parameters and gradients are flat fp32 buffers of `parameterCount` floats sharing one
/// layout; AdamW moments use the same layout.
public protocol TrainableModel: AnyObject {
    /// Codable description of the shape; a resumed run must have an equal one.
    associatedtype Config: Codable & Equatable & Sendable

    /// The model's shape (layers, widths, vocab …).
    var trainingConfig: Config { get }
    /// Number of floats in the parameter (and gradient) buffer.
    var parameterCount: Int { get }
    /// Longest sequence T the model accepts.
    var maxContext: Int { get }
    /// Training FLOPs per token (forward + backward), for MFU.
    var trainingFlopsPerToken: Double { get }
    /// Element ranges that get weight decay (the 2-D matrices), sorted and disjoint.
    var decayRanges: [Range<Int>] { get }

    /// Forward pass over B×T ids (row-major, `batch` rows of `time`). With targets (B×T, −1 =
    /// ignored) returns the mean cross-entropy in nats per counted token; without, returns 0 and
    /// only computes activations. `segmentStarts` (B×T or nil): documents packed in a row, as in
    /// `GPT.forward`. Must be deterministic.
    func forward(inputs: [Int32], targets: [Int32]?, batch: Int, time: Int, segmentStarts: [Int32]?) throws -> Float
    /// Sets every gradient to zero.
    func zeroGradients()
    /// Backward pass of the last forward; *adds* into the gradient buffer (so several
    /// micro-batches accumulate).
    func backward() throws
    /// Gives mutable access to the parameter buffer and read access to the gradient buffer.
    func withParametersAndGradients<R>(
        _ body: (UnsafeMutableBufferPointer<Float>, UnsafeBufferPointer<Float>) throws -> R) rethrows -> R

    /// Writes the weights (and config) into `directory`, each file atomically.
    func saveWeights(to directory: String) throws
    /// Replaces the weights with the ones saved in `directory`. Throws `LMError.mismatch` if
    /// the saved model has another shape.
    func restoreWeights(from directory: String) throws
    /// Files `saveWeights` writes (names inside the directory), hashed into state.json.
    var weightFileNames: [String] { get }
}

/// A batch of training windows: `inputs` and `targets` are B×T ids, targets shifted by one.
public struct TrainingBatch: Sendable {
    public var inputs: [Int32]
    public var targets: [Int32]
    /// For rows that pack several documents: where each position's document starts in its row
    /// (B×T; see `GPT.forward`), so that documents neither attend to each other nor shift each
    /// other's positions. nil: every row is one sequence.
    public var segmentStarts: [Int32]?
    public init(inputs: [Int32], targets: [Int32], segmentStarts: [Int32]? = nil) {
        self.inputs = inputs; self.targets = targets; self.segmentStarts = segmentStarts
    }
}

/// A resumable stream of batches (lmkit's `DataLoader` conforms).
public protocol BatchStream: AnyObject {
    /// A small Codable value that restores exactly the batches that would have come next.
    associatedtype Position: Codable & Sendable
    /// Windows per batch (B).
    var batchRows: Int { get }
    /// Tokens per window (T).
    var batchTime: Int { get }
    /// The next batch; throws `LMError` on a corrupt shard.
    func nextBatch() throws -> TrainingBatch
    /// Where the stream is now.
    var streamPosition: Position { get }
    /// Moves the stream to a saved position.
    func restoreStream(_ position: Position) throws
}

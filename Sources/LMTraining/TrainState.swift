import Foundation
import LMSupport

/// Everything besides weights and optimizer moments that a resumed run needs to continue
/// bit-identically. Saved as `RUN/state.json` (written last, atomically, so a state file always
/// describes complete weight and optimizer files; their hashes are recorded to prove it).
public struct TrainState<Position: Codable & Sendable, Config: Codable & Equatable & Sendable>: Codable, Sendable {
    /// Always "lmkit-train-state".
    public var format = "lmkit-train-state"
    /// Version of this layout.
    public var version = 1
    /// Optimizer steps completed.
    public var step: Int
    /// Steps the run is scheduled for (nil until a `--time` run has measured its speed).
    public var totalSteps: Int?
    /// Training wall time so far, in seconds, over all sessions of the run.
    public var elapsedSeconds: Double
    /// Training tokens consumed so far.
    public var tokensSeen: Int
    /// Data-loader position after the last completed step.
    public var loader: Position
    /// The trainer's random generator state (xoshiro256**, 4 words). Nothing in the loop draws
    /// from it today (no dropout); it is saved so that adding randomness keeps resume exact.
    public var rng: [UInt64]
    /// The model's shape.
    public var config: Config
    /// Hyper-parameters the run was started with (a resume must use the same).
    public var hyper: TrainHyperparameters
    /// Fingerprint of the training data (shards' vocab fingerprint + token counts).
    public var dataFingerprint: String
    /// FNV-1a 64 (hex) of each weight file and of optimizer.bin at this step.
    public var fileHashes: [String: String]
    /// Last validation loss measured (nats/token), if any.
    public var lastValLoss: Double?

    /// File name inside a run directory.
    public static var fileName: String { "state.json" }

    /// Writes `state.json` atomically (pretty, sorted keys).
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(self)
        try AtomicFileWriter.write([UInt8](data) + [0x0A], to: path)
    }

    /// Reads `state.json`; throws `LMError.badFormat` naming the file when it is not one.
    public static func read(from path: String) throws -> TrainState {
        let bytes = try FileIO.readBytes(path)
        do {
            let s = try JSONDecoder().decode(TrainState.self, from: Data(bytes))
            guard s.format == "lmkit-train-state" else {
                throw LMError.badFormat(file: path, "not an lmkit train state", fix: "resume from a run directory written by lmkit pretrain")
            }
            guard s.version == 1 else {
                throw LMError.badFormat(file: path, "train state version \(s.version), expected 1",
                                        fix: "resume with the lmkit version that wrote it")
            }
            return s
        } catch let e as LMError {
            throw e
        } catch {
            throw LMError.badFormat(file: path, "cannot read the train state (\(TrainState.describe(error)))",
                                    fix: "the run directory is damaged or of another kind; start a new run")
        }
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing field \(key.stringValue)"
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            return "bad value at \(c.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.dataCorrupted: return "invalid JSON"
        default: return "\(error)"
        }
    }
}

/// The optimisation settings of a run, saved in state.json and checked on `--resume`.
public struct TrainHyperparameters: Codable, Sendable, Equatable {
    public var batchSize: Int
    public var context: Int
    public var accumulation: Int
    public var learningRate: Double
    public var minLearningRate: Double
    public var warmupSteps: Int
    public var weightDecay: Double
    public var beta1: Double
    public var beta2: Double
    public var gradClip: Double
    public var seed: UInt64
    /// Validation every N steps and batches per validation (they shape the val curve).
    public var evalEvery: Int
    public var evalBatches: Int
}

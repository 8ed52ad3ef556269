import Foundation
import LMSupport

/// The options that decide a PPO run's trajectory. Saved in RUN/ppo_state.json; `--resume` must
/// use the same ones (the number of iterations may grow).
public struct PPOSettings: Codable, Sendable, Equatable {
    public var rollouts: Int
    public var maxNewTokens: Int
    public var epochs: Int
    public var minibatches: Int
    public var learningRate: Float
    public var valueLearningRate: Float
    public var clip: Float
    public var valueClip: Float
    public var klCoefficient: Float
    public var entropyCoefficient: Float
    public var gamma: Float
    public var lambda: Float
    public var maxGradNorm: Double
    public var seed: UInt64

    /// "--lr 0.003 (now 0.001), --seed 7 (now 1)": the saved settings that differ from `other`.
    func differences(from other: PPOSettings) -> String {
        let pairs: [(String, String, String)] = [
            ("--rollouts", "\(rollouts)", "\(other.rollouts)"), ("--max-new-tokens", "\(maxNewTokens)", "\(other.maxNewTokens)"),
            ("--epochs", "\(epochs)", "\(other.epochs)"), ("--minibatches", "\(minibatches)", "\(other.minibatches)"),
            ("--lr", "\(learningRate)", "\(other.learningRate)"), ("--value-lr", "\(valueLearningRate)", "\(other.valueLearningRate)"),
            ("--clip", "\(clip)", "\(other.clip)"), ("--value-clip", "\(valueClip)", "\(other.valueClip)"),
            ("--kl-coef", "\(klCoefficient)", "\(other.klCoefficient)"),
            ("--entropy-coef", "\(entropyCoefficient)", "\(other.entropyCoefficient)"), ("--gamma", "\(gamma)", "\(other.gamma)"),
            ("--lambda", "\(lambda)", "\(other.lambda)"), ("gradient-norm clip", "\(maxGradNorm)", "\(other.maxGradNorm)"),
            ("--seed", "\(seed)", "\(other.seed)"),
        ]
        return pairs.filter { $0.1 != $0.2 }.map { "\($0.0) \($0.1) (now \($0.2))" }.joined(separator: ", ")
    }
}

extension PPOParameters {
    /// The trajectory-deciding options (see `PPOSettings`), read or replaced together.
    public var settings: PPOSettings {
        get {
            PPOSettings(rollouts: rollouts, maxNewTokens: maxNewTokens, epochs: epochs, minibatches: minibatches,
                        learningRate: learningRate, valueLearningRate: valueLearningRate, clip: clip, valueClip: valueClip,
                        klCoefficient: klCoefficient, entropyCoefficient: entropyCoefficient, gamma: gamma, lambda: lambda, maxGradNorm: maxGradNorm, seed: seed)
        }
        set {
            rollouts = newValue.rollouts; maxNewTokens = newValue.maxNewTokens; epochs = newValue.epochs
            minibatches = newValue.minibatches; learningRate = newValue.learningRate
            valueLearningRate = newValue.valueLearningRate; clip = newValue.clip; valueClip = newValue.valueClip
            klCoefficient = newValue.klCoefficient; entropyCoefficient = newValue.entropyCoefficient
            gamma = newValue.gamma; lambda = newValue.lambda
            maxGradNorm = newValue.maxGradNorm; seed = newValue.seed
        }
    }
}

/// Everything besides the two models' weights and AdamW moments (RUN/ and RUN/value/, each
/// `model.safetensors` + `optimizer.bin`) that a resumed PPO run needs to
/// continue exactly as an uninterrupted one (same iterations, same bytes of weights, with the
/// same `--threads`). RUN/ppo_state.json, written last after every iteration (atomically), with
/// the hashes of the files it describes.
public struct PPOState: Codable, Sendable {
    /// Always "lmkit-ppo-state".
    public var format = "lmkit-ppo-state"
    public var version = 1
    /// Iterations completed, and the number the run was asked for.
    public var iterationsDone: Int
    public var iterations: Int
    public var settings: PPOSettings
    /// FNV-1a 64 (hex) of the starting policy's weights, of the prompts file and of the reward
    /// model's weights (nil for a reward function that is not a model).
    public var policyFingerprint: String
    public var promptsFingerprint: String
    public var rewardFingerprint: String?
    /// The generators after the last completed iteration: prompt order, rollout sampling, minibatch shuffles.
    var promptOrder: PromptOrder
    public var samplerRNG: SeededRNG
    public var minibatchRNG: SeededRNG
    /// Statistics of every completed iteration (metrics.jsonl is rewritten from these).
    public var history: [PPOIterationStats]
    /// FNV-1a 64 (hex) of each file of the checkpoint, by path relative to the run directory.
    public var fileHashes: [String: String]

    /// File name inside a run directory.
    public static let fileName = "ppo_state.json"

    /// Writes the state atomically (pretty, sorted keys).
    func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFileWriter.write([UInt8](try encoder.encode(self)) + [0x0A], to: path)
    }

    /// The state of the PPO run in `run`; one error line naming the file when it is missing or not one.
    public static func read(run: String) throws -> PPOState {
        let path = run + "/" + fileName
        guard FileIO.exists(path) else {
            throw LMError.badInput(file: run, "has no PPO run to resume (\(fileName) is missing)",
                                   fix: "start the run without --resume")
        }
        let bytes = try FileIO.readBytes(path)
        let state: PPOState
        do { state = try JSONDecoder().decode(PPOState.self, from: Data(bytes)) } catch {
            throw LMError.badFormat(file: path, "cannot read the PPO state (\(TrainState<Int, Int>.describe(error)))",
                                    fix: "the run directory is damaged or of another kind; start a new run")
        }
        guard state.format == "lmkit-ppo-state", state.version == 1 else {
            throw LMError.badFormat(file: path, "not an lmkit PPO state of version 1 (format \(state.format), version \(state.version))",
                                    fix: "resume with the lmkit version that wrote it, or start a new run")
        }
        return state
    }
}

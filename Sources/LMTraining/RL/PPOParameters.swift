import Foundation
import LMSupport

/// What `lmkit ppo` needs.
public struct PPOParameters: Sendable {
    /// The policy to improve: a chat model (a run of `lmkit finetune`, with the chat tokens).
    public var policyCheckpoint: String
    /// Prompts: a chat-format JSONL/JSON file (`SFTData`'s formats); each record's messages up
    /// to its last user message are one prompt.
    public var promptsPath: String
    /// Run directory for the tuned policy, metrics.jsonl and the value model.
    public var outputDirectory: String
    /// The reward model's run directory, when the reward function is one (`lmkit ppo --reward`):
    /// a resumed run must be scored by the same weights (checked by hash).
    public var rewardCheckpoint: String?
    /// Held-out prompts (same formats) answered by the starting and the tuned policy, both
    /// scored by the reward function (nil = no evaluation).
    public var evalPromptsPath: String?
    /// PPO iterations (one batch of rollouts each).
    public var iterations = 20
    /// Rollouts (prompts) per iteration.
    public var rollouts = 16
    /// Response tokens at most (the rest of the context holds the prompt).
    public var maxNewTokens = 48
    /// Optimisation passes over each batch of rollouts.
    public var epochs = 4
    /// Minibatches per epoch: each epoch shuffles the rollouts (seeded) and takes one policy and
    /// one value step per group of about rollouts/minibatches of them (1 = full-batch steps).
    public var minibatches = 1
    /// AdamW learning rates of the policy and the value model (no weight decay).
    public var learningRate: Float = 1e-5
    public var valueLearningRate: Float = 1e-4
    /// ε of the clipped surrogate.
    public var clip: Float = 0.2
    /// ε_v of the clipped value loss (`PPOObjective.valueLoss`; 0 = unclipped). In the value
    /// model's units (reward-model scores).
    public var valueClip: Float = 0.2
    /// β of the per-token KL penalty to the starting policy.
    public var klCoefficient: Float = 0.05
    /// c of the entropy bonus: the policy loss gets −c·(mean entropy of the policy's next-token
    /// distribution over the response tokens), nats. 0 (default, as in InstructGPT and TRL) = off.
    public var entropyCoefficient: Float = 0
    /// γ and λ of the advantage estimate.
    public var gamma: Float = 1
    public var lambda: Float = 0.95
    /// Global gradient-norm clip of both models.
    public var maxGradNorm = 1.0
    /// Seed of the prompt order and the sampling.
    public var seed: UInt64 = 1
    public var threads = Threads.available
    /// No progress lines on stderr.
    public var quiet = false
    /// Continue the run in `outputDirectory` from its last completed iteration (see `PPOState`).
    public var resume = false
    /// Asked after every iteration's checkpoint (default: Ctrl-C or SIGTERM arrived); true stops the run there.
    public var stopRequested: @Sendable (_ iteration: Int) -> Bool = { _ in InterruptFlag.shared.isSet }

    public init(policyCheckpoint: String, promptsPath: String, outputDirectory: String) {
        self.policyCheckpoint = policyCheckpoint
        self.promptsPath = promptsPath
        self.outputDirectory = outputDirectory
    }

    /// Throws `LMError.badInput` naming the option that is out of range for a `context`-token model.
    func validate(context: Int) throws {
        func bad(_ what: String, _ fix: String) -> LMError { LMError.badInput(what, fix: fix) }
        if iterations < 1 { throw bad("--iterations must be at least 1 (got \(iterations))", "pass --iterations 20, say") }
        if rollouts < 1 { throw bad("--rollouts must be at least 1 (got \(rollouts))", "pass --rollouts 16, say") }
        if epochs < 1 { throw bad("--epochs must be at least 1 (got \(epochs))", "pass --epochs 4, say") }
        if minibatches < 1 || minibatches > rollouts {
            throw bad("--minibatches must be in 1...\(rollouts), the rollouts per iteration (got \(minibatches))",
                      "pass --minibatches 4, say, or more --rollouts")
        }
        if maxNewTokens < 1 || maxNewTokens >= context {
            throw bad("--max-new-tokens must be in 1..<\(context), the model's context (got \(maxNewTokens))",
                      "pass a smaller --max-new-tokens; the rest of the context holds the prompt")
        }
        if !(learningRate > 0) || !(valueLearningRate > 0) {
            throw bad("--lr and --value-lr must be positive (got \(learningRate), \(valueLearningRate))", "pass --lr 1e-5 --value-lr 1e-4, say")
        }
        if !(clip > 0 && clip < 1) { throw bad("--clip must be in (0, 1) (got \(clip))", "0.2 is the usual value") }
        if !(valueClip >= 0) || !valueClip.isFinite {
            throw bad("--value-clip must be 0 (off) or positive (got \(valueClip))", "0.2 is the usual value")
        }
        if !(klCoefficient >= 0) { throw bad("--kl-coef must be 0 or more (got \(klCoefficient))", "0.05 is a usual value") }
        if !(entropyCoefficient >= 0) || !entropyCoefficient.isFinite {
            throw bad("--entropy-coef must be 0 (off) or positive (got \(entropyCoefficient))", "0.01 is a usual value")
        }
        if !(gamma > 0 && gamma <= 1) || !(lambda >= 0 && lambda <= 1) {
            throw bad("--gamma must be in (0, 1] and --lambda in [0, 1] (got \(gamma), \(lambda))", "the usual values are 1 and 0.95")
        }
        if !(maxGradNorm > 0) { throw bad("the gradient-norm clip must be positive (got \(maxGradNorm))", "use 1") }
    }
}

/// What one PPO iteration measured (one line of RUN/metrics.jsonl).
public struct PPOIterationStats: Sendable, Equatable, Codable {
    public var iteration: Int
    /// Mean reward-model score of the iteration's responses (before the KL penalty).
    public var meanScore: Float
    /// Mean over responses of Σ_t (ℓ_t − ℓʳᵉᶠ_t): the sampled KL to the starting policy, nats.
    public var meanKL: Float
    /// Surrogate and value losses of the last epoch (token-weighted means over its minibatches).
    public var policyLoss: Float
    public var valueLoss: Float
    public var clippedFraction: Float
    /// Mean entropy of the sampling policy's next-token distribution over the response tokens, nats.
    public var meanEntropy: Float
    /// Mean response length in tokens, and the fraction that ended with `<|end|>`.
    public var meanResponseTokens: Float
    public var endedFraction: Float
    public var elapsedSeconds: Double

    enum CodingKeys: String, CodingKey {
        case iteration, meanScore = "mean_score", meanKL = "mean_kl", policyLoss = "policy_loss", valueLoss = "value_loss"
        case clippedFraction = "clipped_fraction", meanEntropy = "entropy", meanResponseTokens = "mean_response_tokens"
        case endedFraction = "ended_fraction", elapsedSeconds = "elapsed_s"
    }
}

/// The starting and the tuned policy on held-out prompts: one sampled response each (temperature
/// 1, the same seed for both), scored by the reward function.
public struct PPOEvaluation: Sendable, Equatable, Codable {
    public var prompts: Int
    public var startMeanScore: Float
    public var tunedMeanScore: Float
    /// Fraction of prompts where the tuned policy's response scored higher (ties count half).
    public var tunedWinRate: Float

    enum CodingKeys: String, CodingKey {
        case prompts, startMeanScore = "start_mean_score", tunedMeanScore = "tuned_mean_score", tunedWinRate = "tuned_win_rate"
    }
}

/// Everything a PPO run measured (over all its sessions when resumed).
public struct PPOResult: Sendable, Equatable, Codable {
    public var iterations: [PPOIterationStats]
    /// nil when there are no held-out prompts or the run was interrupted.
    public var evaluation: PPOEvaluation?
    /// The run stopped early (Ctrl-C): `--resume` continues it.
    public var interrupted = false
}

/// Scores responses: for each prompt (its messages) and response text, a scalar reward
/// (higher = better). `lmkit ppo` uses a reward model (`PPOReward.model`); tests use functions.
public typealias PPORewardFunction = (_ prompts: [[ChatMessage]], _ responses: [String]) throws -> [Float]

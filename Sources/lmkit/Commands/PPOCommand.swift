import ArgumentParser
import Foundation
import LMSupport
import LMTraining

/// `lmkit ppo`: reinforcement learning from a reward model (the last RLHF step).
struct PPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ppo",
        abstract: "Tune a chat model with PPO against a reward model (RLHF): rollouts, KL penalty to the starting model, value model.",
        discussion: """
            Each iteration samples one response per prompt (temperature 1), scores prompt + response with the
            reward model (as an HH-RLHF dialogue text), and takes --epochs passes of clipped-surrogate steps on the policy
            and value-regression steps (one per --minibatches group of rollouts) on a value model that starts from the policy's trunk. The per-token reward is
            −β·(log π − log π_ref), plus the score on the last token; advantages by GAE(γ, λ).
            --out receives the tuned policy (a chat model for `lmkit chat`, saved after every iteration),
            value/ and metrics.jsonl (mean score, KL to the start, losses, clipped fraction, response length),
            with the AdamW moments and ppo_state.json: Ctrl-C stops after the current iteration, and --resume
            continues the run exactly where it stopped.
              lmkit ppo --policy sft/ --reward rm/ --prompts Corpora/sft/alpaca_seed_tasks.chat.jsonl --out ppo/ --iterations 20
            """)

    @Option(help: "The chat model to tune (a run directory of lmkit finetune).") var policy: String
    @Option(help: "The reward model (a run directory of lmkit reward train).") var reward: String
    @Option(help: "Prompts: chat JSONL/JSON ({\"messages\": [...]} or Alpaca records); messages up to the last user turn.")
    var prompts: String
    @Option(help: "Run directory for the tuned policy.") var out: String
    @Option(name: .customLong("eval-prompts"), help: "Held-out prompts (same formats): the start and the tuned policy answer each once and the reward model scores both.")
    var evalPrompts: String?
    @Option(help: "PPO iterations (default 20; with --resume, the run's, or more to extend it).") var iterations: Int?
    @Option(help: "Rollouts (prompts) per iteration (default 16).") var rollouts: Int?
    @Option(name: .customLong("max-new-tokens"), help: "Response length limit in tokens (default 48).") var maxNewTokens: Int?
    @Option(help: "Optimisation passes over each batch of rollouts (default 4).") var epochs: Int?
    @Option(help: "Minibatches per pass: the rollouts are shuffled and each group gets its own policy and value step (default 1, full batch).")
    var minibatches: Int?
    @Option(help: "Policy learning rate (default 1e-5).") var lr: Float?
    @Option(name: .customLong("value-lr"), help: "Value-model learning rate (default 1e-4).") var valueLR: Float?
    @Option(help: "Clip range ε of the surrogate (default 0.2).") var clip: Float?
    @Option(name: .customLong("value-clip"), help: "Clip range of the value loss around the values at sampling time, in reward units (default 0.2; 0 = off).")
    var valueClip: Float?
    @Option(name: .customLong("kl-coef"), help: "β of the per-token KL penalty to the starting policy (default 0.05).")
    var klCoef: Float?
    @Option(name: .customLong("entropy-coef"), help: "c of the entropy bonus −c·(mean entropy of the response tokens' distributions) in the policy loss (default 0 = off; 0.01 is usual where used).")
    var entropyCoef: Float?
    @Option(help: "Discount γ (default 1).") var gamma: Float?
    @Option(help: "GAE λ (default 0.95).") var lambda: Float?
    @Option(help: "Seed of the prompt order and the sampling (default 1).") var seed: UInt64?
    @Flag(help: "Continue the PPO run in --out after its last completed iteration, exactly as if it had not stopped (options not given are taken from the run; same --threads).")
    var resume = false
    @Flag(help: "Print the per-iteration statistics and the held-out evaluation as one JSON object on stdout.") var json = false
    @OptionGroup var common: CommonOptions

    func run() throws {
        var p = PPOParameters(policyCheckpoint: policy, promptsPath: prompts, outputDirectory: out)
        p.evalPromptsPath = evalPrompts
        p.rewardCheckpoint = reward
        p.resume = resume
        if resume {   // the run's own settings, then whatever was given explicitly (checked against them)
            let saved = try PPOState.read(run: out)
            p.settings = saved.settings
            p.iterations = saved.iterations
        }
        if let iterations { p.iterations = iterations }
        if let rollouts { p.rollouts = rollouts }
        if let maxNewTokens { p.maxNewTokens = maxNewTokens }
        if let epochs { p.epochs = epochs }
        if let minibatches { p.minibatches = minibatches }
        if let lr { p.learningRate = lr }
        if let valueLR { p.valueLearningRate = valueLR }
        if let clip { p.clip = clip }
        if let valueClip { p.valueClip = valueClip }
        if let klCoef { p.klCoefficient = klCoef }
        if let entropyCoef { p.entropyCoefficient = entropyCoef }
        if let gamma { p.gamma = gamma }
        if let lambda { p.lambda = lambda }
        if let seed { p.seed = seed }
        p.threads = common.resolvedThreads; p.quiet = common.quiet
        let scorer = try RewardScorer(checkpoint: reward, threads: p.threads)
        let result = try PPOTrain.run(p, reward: PPOReward.model(scorer))
        let history = result.iterations
        RunOutcome.interrupted = result.interrupted
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else if let first = history.first, let last = history.last {
            var line = String(format: "iterations %d  score %.4f -> %.4f  kl %.4f  ended %.2f  elapsed_s %.1f", history.count,
                              first.meanScore, last.meanScore, last.meanKL, last.endedFraction, last.elapsedSeconds)
            if let e = result.evaluation {
                line += String(format: "  heldout_start %.4f  heldout_tuned %.4f  heldout_win_rate %.4f", e.startMeanScore,
                               e.tunedMeanScore, e.tunedWinRate)
            }
            if result.interrupted { line += "  stop interrupted" }
            print(line)
        }
    }
}

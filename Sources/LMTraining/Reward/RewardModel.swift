import Foundation
import LMKernels
import LMModel
import LMSupport

/// A reward model as the train loop sees it: a GPT with a score head (`GPTConfig.scoreHead`)
/// trained with the pairwise (Bradley–Terry) loss of InstructGPT / Ouyang et al. 2022:
///
///     m_k    = r(chosen_k) − r(rejected_k)              (P pairs per batch)
///     loss   = (1/P) Σ_k −log σ(m_k) = (1/P) Σ_k softplus(−m_k)     (nats per pair)
///     ∂loss/∂r(chosen_k) = −σ(−m_k)/P,   ∂loss/∂r(rejected_k) = +σ(−m_k)/P
///
/// Batches come in `PairBatches`' encoding (rows 2k, 2k+1 = chosen, rejected; target 1 at the
/// scored position, −1 elsewhere). Weights are saved like a GPT's (`model.safetensors` +
/// `config.json`), which `transformers.GPT2ForSequenceClassification.from_pretrained` loads.
public final class RewardModel: TrainableModel {
    public let gpt: GPT
    /// ∂loss/∂r of the last forward, one per row, for `backward`.
    private var dRewards: [Float] = []
    /// Rewards of the last forward, one per row (chosen, rejected, chosen, …).
    public private(set) var lastRewards: [Float] = []

    /// - Precondition: `gpt.config.scoreHead`.
    public init(_ gpt: GPT) {
        precondition(gpt.config.scoreHead, "RewardModel needs a GPT with a score head")
        self.gpt = gpt
    }

    public var trainingConfig: GPTConfig { gpt.config }
    public var parameterCount: Int { gpt.parameterCount }
    public var maxContext: Int { gpt.config.context }
    /// The trunk's training FLOPs per token: the LM head (6·V·C) is never computed.
    public var trainingFlopsPerToken: Double {
        gpt.config.flopsPerToken() - 6 * Double(gpt.config.vocabSize * gpt.config.channels)
    }
    public var decayRanges: [Range<Int>] { gpt.decayRanges }
    public var weightFileNames: [String] { gpt.weightFileNames }

    /// The scored position of each row: where `targets` holds 1 (exactly one per row).
    static func scoredPositions(_ targets: [Int32], rows: Int, time: Int) throws -> [Int] {
        try (0..<rows).map { r in
            let row = targets[r * time ..< (r + 1) * time]
            guard let i = row.firstIndex(of: 1), row.lastIndex(of: 1) == i else {
                throw LMError.badInput("reward batch row \(r) must mark exactly one scored position", fix: "use PairBatches")
            }
            return i - r * time
        }
    }

    /// Mean pairwise loss (nats per pair) of the batch; keeps what `backward` needs.
    public func forward(inputs: [Int32], targets: [Int32]?, batch: Int, time: Int, segmentStarts: [Int32]? = nil) throws -> Float {
        guard let targets, batch % 2 == 0, segmentStarts == nil else {
            throw LMError.badInput("a reward batch needs targets, an even number of rows and one sequence per row", fix: "use PairBatches")
        }
        let positions = try RewardModel.scoredPositions(targets, rows: batch, time: time)
        let r = gpt.forwardRewards(inputs: inputs, positions: positions, batch: batch, time: time)
        lastRewards = r
        let pairs = batch / 2
        var loss: Double = 0
        dRewards = [Float](repeating: 0, count: batch)
        for k in 0..<pairs {
            let m = Double(r[2 * k]) - Double(r[2 * k + 1])
            loss += RewardModel.softplus(-m)
            let g = Float(RewardModel.sigmoid(-m) / Double(pairs))
            dRewards[2 * k] = -g
            dRewards[2 * k + 1] = g
        }
        return Float(loss / Double(pairs))
    }

    public func backward() throws { gpt.backwardRewards(dRewards) }
    public func zeroGradients() { gpt.zeroGradients() }

    public func withParametersAndGradients<R>(
        _ body: (UnsafeMutableBufferPointer<Float>, UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try gpt.withParametersAndGradients(body)
    }

    public func saveWeights(to directory: String) throws { try gpt.saveWeights(to: directory) }
    public func restoreWeights(from directory: String) throws { try gpt.restoreWeights(from: directory) }

    /// log(1 + eˣ), stable for every x.
    static func softplus(_ x: Double) -> Double { max(x, 0) + log1p(exp(-abs(x))) }
    /// 1 / (1 + e⁻ˣ), stable for every x.
    static func sigmoid(_ x: Double) -> Double { x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)) }
}

extension GPT {
    /// A reward model that starts from this (language) model: the same weights, plus a score
    /// head of zeros, so every reward starts at 0 and the first pairwise loss is exactly ln 2.
    public func addingScoreHead() -> GPT {
        var cfg = config
        cfg.scoreHead = true
        // score.weight is the last tensor of the layout, so this model's buffer is a prefix of it.
        let rm = GPT(config: cfg, parameters: parameters + [Float](repeating: 0, count: cfg.channels))
        rm.threads = threads
        return rm
    }
}

import Foundation
import LMKernels
import LMModel
import LMSupport

/// The GPT as the train loop sees it: flat buffers, decay on every 2-D tensor, weights saved as
/// `model.safetensors` + `config.json` (Hugging Face GPT-2 names; see docs/CHECKPOINT_FORMAT.md).
extension GPT: TrainableModel {
    public var trainingConfig: GPTConfig { config }
    public var maxContext: Int { config.context }
    public var trainingFlopsPerToken: Double { config.flopsPerToken() }
    public var decayRanges: [Range<Int>] { layout.filter(\.isMatrix).map(\.range).sorted { $0.lowerBound < $1.lowerBound } }
    public var weightFileNames: [String] { ["model.safetensors", "config.json"] }

    // forward(inputs:targets:batch:time:segmentStarts:), backward(), zeroGradients() and parameterCount are
    // GPT's own (non-throwing methods satisfy the throwing requirements).

    public func withParametersAndGradients<R>(
        _ body: (UnsafeMutableBufferPointer<Float>, UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try withParameters { p in
            try withGradients { g in try body(p, UnsafeBufferPointer(g)) }
        }
    }

    public func saveWeights(to directory: String) throws { try save(to: directory) }

    public func restoreWeights(from directory: String) throws {
        let saved = try GPT.load(from: directory)
        guard saved.config == config else {
            throw LMError.mismatch(file: directory + "/config.json",
                                   "the checkpoint is a model of another shape (\(GPT.describe(saved.config)), requested \(GPT.describe(config)))",
                                   fix: "resume with the checkpoint's shape, or start a new --out")
        }
        saved.withParameters { src in
            withParameters { dst in _ = dst.update(fromContentsOf: src) }
        }
    }

    /// "4 layers, 4 heads, 128 wide, context 128, vocab 257".
    public static func describe(_ c: GPTConfig) -> String {
        "\(c.layers) layers, \(c.heads) heads, \(c.channels) wide, context \(c.context), vocab \(c.vocabSize)"
    }
}

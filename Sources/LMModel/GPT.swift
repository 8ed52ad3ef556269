import LMKernels
import LMSupport

/// A GPT-2 decoder with one flat fp32 parameter buffer and a gradient buffer of the same layout.
///
///     let model = GPT(config: .tiny(vocabSize: 65), seed: 1)
///     let loss = model.forward(inputs: x, targets: y, batch: 4, time: 64)  // x, y: 4·64 ids
///     model.zeroGradients()
///     model.backward()              // accumulates into `gradients`
///
/// `forward` keeps the activations of the last call; `backward` uses them. Activation memory is
/// allocated when (batch, time) first grows and reused afterwards (no allocation per step).
public final class GPT {
    /// The model's shape.
    public let config: GPTConfig
    /// Where each named tensor lives in `parameters` / `gradients`.
    public let parameterLayout: ParameterLayout
    /// Every tensor in buffer order (name, shape, offset, isMatrix).
    public var layout: [TensorSpec] { parameterLayout.tensors }
    /// All weights, flat, `parameterCount` floats in `layout` order.
    public var parameters: [Float]
    /// ∂loss/∂parameters, same layout; `backward()` adds to it, `zeroGradients()` clears it.
    public var gradients: [Float]
    /// Length of the flat buffers (= `config.paddedParameterCount`, including the Vp − V zero rows).
    public var parameterCount: Int { parameterLayout.count }

    /// Threads for attention and element-wise kernels (OpenBLAS is set with `BLAS.setThreads`).
    public var threads: Int = Threads.available

    var activations: Activations?

    /// When set, `forward`/`backward` add each kernel's wall time to it (benchmarks).
    public var profile: StepProfile?

    /// A model with GPT-2 initialisation: weights normal(0, 0.02), the residual projections
    /// (`attn.c_proj.weight`, `mlp.c_proj.weight`) normal(0, 0.02/√(2L)), biases 0, LayerNorm
    /// weights 1, padding rows of wte 0. Same seed ⇒ same weights.
    public init(config: GPTConfig, seed: UInt64) {
        self.config = config
        parameterLayout = ParameterLayout(config: config)
        parameters = [Float](repeating: 0, count: parameterLayout.count)
        gradients = [Float](repeating: 0, count: parameterLayout.count)
        initialiseWeights(seed: seed)
    }

    /// A model with the given weights (`parameters.count` must be `config.paddedParameterCount`).
    public init(config: GPTConfig, parameters: [Float]) {
        precondition(parameters.count == config.paddedParameterCount, "parameter buffer has the wrong length")
        self.config = config
        parameterLayout = ParameterLayout(config: config)
        self.parameters = parameters
        gradients = [Float](repeating: 0, count: parameterLayout.count)
    }

    private func initialiseWeights(seed: UInt64) {
        var rng = SeededRNG(seed: seed)
        let residualStd = 0.02 / Float(2 * config.layers).squareRoot()
        let v = config.vocabSize, c = config.channels
        for spec in parameterLayout.tensors {
            let name = spec.name
            if name.hasSuffix(".bias") { continue }
            if name.contains("ln_") {
                for i in spec.range { parameters[i] = 1 }
                continue
            }
            let std: Float = name.hasSuffix("c_proj.weight") ? residualStd : 0.02
            let n = name == "transformer.wte.weight" ? v * c : spec.count
            for i in spec.offset ..< spec.offset + n { parameters[i] = std * rng.nextGaussian() }
        }
    }

    /// Read-write access to the flat parameter buffer for the duration of `body`.
    public func withParameters<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try parameters.withUnsafeMutableBufferPointer { try body($0) }
    }

    /// Read-write access to the flat gradient buffer for the duration of `body`.
    public func withGradients<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try gradients.withUnsafeMutableBufferPointer { try body($0) }
    }

    /// Sets every gradient to 0.
    public func zeroGradients() {
        gradients.withUnsafeMutableBufferPointer { g in g.update(repeating: 0) }
    }
}

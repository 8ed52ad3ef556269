import ArgumentParser
import LMTraining

/// Sampling options shared by `lmkit sample` and `lmkit chat` (copied into `SamplingParameters`).
struct SamplingOptions: ParsableArguments {
    @Option(help: "Sampling temperature (0 = greedy).") var temperature: Double = 0.8
    @Option(name: .customLong("top-k"), help: "Sample only from the K most likely tokens.") var topK: Int?
    @Option(name: .customLong("top-p"), help: "Sample only from the most likely tokens whose probability reaches P (nucleus).")
    var topP: Double?
    @Option(help: "Seed of the sampler (same seed ⇒ same output).") var seed: UInt64 = 1

    func validate() throws {
        if !(temperature >= 0 && temperature <= 100) { throw ValidationError("--temperature must be in [0, 100] (got \(temperature)).") }
        if let k = topK, k < 1 { throw ValidationError("--top-k must be at least 1 (got \(k)).") }
        if let p = topP, !(p > 0 && p <= 1) { throw ValidationError("--top-p must be in (0, 1] (got \(p)).") }
    }

    /// The library's sampling parameters.
    var parameters: SamplingParameters {
        SamplingParameters(temperature: temperature, topK: topK, topP: topP, seed: seed)
    }
}

import Foundation
import Testing
import LMSupport
@testable import LMTraining

@Suite struct TokenSamplerTests {
    @Test func workedExampleDistributions() {
        let logits: [Float] = [2, 1, 0]
        let full = TokenSampler(SamplingParameters(temperature: 1)).distribution(logits)
        let z = exp(2.0) + exp(1.0) + 1
        #expect(full.map(\.id) == [0, 1, 2])
        #expect(abs(full[0].p - exp(2.0) / z) < 1e-12 && abs(full[2].p - 1 / z) < 1e-12)
        let k2 = TokenSampler(SamplingParameters(temperature: 1, topK: 2)).distribution(logits)
        #expect(k2.count == 2 && abs(k2[0].p - exp(2.0) / (exp(2.0) + exp(1.0))) < 1e-12)
        let p5 = TokenSampler(SamplingParameters(temperature: 1, topP: 0.5)).distribution(logits)
        #expect(p5.count == 1 && p5[0].id == 0)
        let p9 = TokenSampler(SamplingParameters(temperature: 1, topP: 0.9)).distribution(logits)
        #expect(p9.count == 2)                                   // 0.665 + 0.245 = 0.91 ≥ 0.9
        let cold = TokenSampler(SamplingParameters(temperature: 0.5)).distribution(logits)
        #expect(abs(cold[0].p - exp(4.0) / (exp(4.0) + exp(2.0) + 1)) < 1e-12)
    }

    @Test func greedyAndSeededDraws() {
        var greedy = TokenSampler(SamplingParameters(temperature: 0))
        #expect(greedy.sample([0.1, 3, -1, 2.9]) == 1)
        var a = TokenSampler(SamplingParameters(temperature: 1, seed: 4))
        var b = TokenSampler(SamplingParameters(temperature: 1, seed: 4))
        var c = TokenSampler(SamplingParameters(temperature: 1, seed: 5))
        let logits: [Float] = (0..<50).map { Float($0 % 7) * 0.3 }
        let da = (0..<100).map { _ in a.sample(logits) }
        #expect(da == (0..<100).map { _ in b.sample(logits) })
        #expect(da != (0..<100).map { _ in c.sample(logits) })
    }

    @Test func frequenciesFollowTheDistribution() {
        var s = TokenSampler(SamplingParameters(temperature: 1, topK: 2, seed: 11))
        let logits: [Float] = [log(3), log(1), 5 - 10]           // top-2 ⇒ p = [0.75, 0.25, 0]
        var counts = [0, 0, 0]
        for _ in 0..<20_000 { counts[s.sample(logits)] += 1 }
        #expect(counts[2] == 0)
        #expect(abs(Double(counts[0]) / 20_000 - 0.75) < 0.015)
    }

    /// The unfiltered fast path draws from the full softmax at the temperature.
    @Test func unfilteredDrawsFollowTheSoftmax() {
        var s = TokenSampler(SamplingParameters(temperature: 0.5, seed: 12))
        let logits: [Float] = [0, Float(log(2.0)) * 0.5, -30, Float(log(3.0)) * 0.5]   // at T = 0.5: p ∝ [1, 2, 0, 3]
        var counts = [0, 0, 0, 0]
        for _ in 0..<30_000 { counts[s.sample(logits)] += 1 }
        #expect(counts[2] == 0)
        for (i, p) in [1.0 / 6, 2.0 / 6, 0, 3.0 / 6].enumerated() {
            #expect(abs(Double(counts[i]) / 30_000 - p) < 0.015, "id \(i): \(counts[i])")
        }
    }

    @Test func refusesOutOfRange() {
        #expect(throws: LMError.self) { try SamplingParameters(temperature: -1).validate() }
        #expect(throws: LMError.self) { try SamplingParameters(topK: 0).validate() }
        #expect(throws: LMError.self) { try SamplingParameters(topP: 1.5).validate() }
        #expect(throws: LMError.self) { try SamplingParameters(topP: 0).validate() }
    }
}

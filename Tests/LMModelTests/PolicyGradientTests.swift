import Foundation
import Testing
@testable import LMModel
import LMSupport

/// The two passes PPO adds to the GPT: the weighted log-likelihood backward (policy gradient) and
/// the per-position value head, each against central finite differences (fp32, h = 1e-2) on a
/// sample of parameters from every tensor.
@Suite struct PolicyGradientTests {
    static let cfg = GPTConfig(layers: 2, heads: 2, channels: 16, context: 8, vocabSize: 20)

    /// A model with larger-than-init weights (every path carries signal), zeros in wte's padding rows.
    static func model(_ cfg: GPTConfig, seed: UInt64) -> GPT {
        let model = GPT(config: cfg, seed: seed)
        var rng = SeededRNG(seed: seed + 1)
        for i in 0..<model.parameterCount { model.parameters[i] += 0.1 * rng.nextGaussian() }
        let wte = model.parameterLayout.wte
        for i in (wte + cfg.vocabSize * cfg.channels) ..< (wte + cfg.paddedVocabSize * cfg.channels) { model.parameters[i] = 0 }
        model.threads = 1
        return model
    }

    /// Checks `gradients` against finite differences of `f` at 4 entries of every tensor.
    static func check(_ model: GPT, _ f: () -> Double) {
        let grads = model.gradients
        for spec in model.layout {
            let n = spec.name == "transformer.wte.weight" ? model.config.vocabSize * model.config.channels : spec.count
            for k in 0..<4 {
                let i = spec.offset + (k * 7919 + 13) % n
                let saved = model.parameters[i]
                let h: Float = 1e-2
                model.parameters[i] = saved + h
                let fp = f()
                model.parameters[i] = saved - h
                let fm = f()
                model.parameters[i] = saved
                let fd = Float((fp - fm) / (2 * Double(h)))
                let err = abs(fd - grads[i]) / max(abs(grads[i]), 1e-2)
                #expect(err < 3e-2, "\(spec.name)[\(i - spec.offset)]: backward \(grads[i]) vs finite difference \(fd)")
            }
        }
    }

    /// f(θ) = Σ_t w_t · (−log p(target_t)) with weights of both signs; masked positions ignored.
    @Test func weightedLogLikelihoodGradientMatchesFiniteDifferences() {
        let model = Self.model(Self.cfg, seed: 31)
        let (b, t) = (2, 7)
        var rng = SeededRNG(seed: 32)
        let x = (0..<(b * t)).map { _ in Int32(rng.next(below: 20)) }
        var y = (0..<(b * t)).map { _ in Int32(rng.next(below: 20)) }
        y[3] = -1
        let w = (0..<(b * t)).map { _ in rng.nextGaussian() }
        func f() -> Double {
            model.forward(inputs: x, targets: y, batch: b, time: t)
            return zip(model.lastTargetLogProbs, w).reduce(0.0) { $0 - Double($1.0) * Double($1.1) }
        }
        let logp = (model.forward(inputs: x, targets: y, batch: b, time: t), model.lastTargetLogProbs).1
        #expect(logp[3] == 0 && logp.enumerated().allSatisfy { $0.offset == 3 || $0.element < 0 })
        model.zeroGradients()
        model.backward(tokenWeights: w)
        Self.check(model, f)
    }

    /// With weights 1/count on every unmasked position the weighted backward is the plain one.
    @Test func uniformWeightsGiveTheMeanLossGradient() {
        let a = Self.model(Self.cfg, seed: 41), c = Self.model(Self.cfg, seed: 41)
        var rng = SeededRNG(seed: 42)
        let x = (0..<14).map { _ in Int32(rng.next(below: 20)) }
        var y = (0..<14).map { _ in Int32(rng.next(below: 20)) }
        y[0] = -1; y[9] = -1
        a.forward(inputs: x, targets: y, batch: 2, time: 7); a.zeroGradients(); a.backward()
        c.forward(inputs: x, targets: y, batch: 2, time: 7); c.zeroGradients()
        c.backward(tokenWeights: y.map { $0 < 0 ? 5 : 1 / 12 })  // weights at masked positions never count
        let scale = a.gradients.map(abs).max()!
        #expect(zip(a.gradients, c.gradients).allSatisfy { abs($0 - $1) <= 1e-6 * scale })
    }

    /// f(θ) = Σ_t u_t · v_t over the values of every position.
    @Test func valueHeadGradientMatchesFiniteDifferences() {
        var cfg = Self.cfg
        cfg.scoreHead = true
        let model = Self.model(cfg, seed: 51)
        var rng = SeededRNG(seed: 52)
        let (b, t) = (2, 6)
        let x = (0..<(b * t)).map { _ in Int32(rng.next(below: 20)) }
        let u = (0..<(b * t)).map { _ in rng.nextGaussian() }
        func f() -> Double {
            zip(model.forwardValues(inputs: x, batch: b, time: t), u).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        // Values are causal: position 2 of row 0 does not depend on the tokens after it.
        let v = model.forwardValues(inputs: x, batch: b, time: t)
        var changed = x
        changed[4] = (changed[4] + 1) % 20
        #expect(Array(model.forwardValues(inputs: changed, batch: b, time: t)[0..<4]) == Array(v[0..<4]))
        _ = model.forwardValues(inputs: x, batch: b, time: t)
        model.zeroGradients()
        model.backwardValues(u)
        Self.check(model, f)
    }
}

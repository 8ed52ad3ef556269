import Testing
import LMSupport
@testable import LMModel

/// Documents packed into one row with segment starts train exactly as if each were alone.
@Suite struct PackedSegmentsTests {
    /// Loss and every gradient of the second document in a packed row equal those of that
    /// document alone at the start of its own row; without segment starts they do not.
    @Test func packedDocumentEqualsDocumentAlone() {
        let cfg = GPTConfig(layers: 2, heads: 2, channels: 16, context: 16, vocabSize: 20)
        let model = GPT(config: cfg, seed: 3)
        var rng = SeededRNG(seed: 5)
        func ids(_ n: Int) -> [Int32] { (0..<n).map { _ in Int32(rng.next(below: 20)) } }
        let first = ids(5), second = ids(7), secondTargets = ids(7)
        let t = 16
        let none = { (n: Int) in [Int32](repeating: -1, count: n) }
        let packed = first + second + [Int32](repeating: 0, count: 4)
        let packedTargets = none(5) + secondTargets + none(4)
        let starts = [Int32](repeating: 0, count: 5) + [Int32](repeating: 5, count: 7) + [Int32](repeating: 12, count: 4)
        let alone = second + [Int32](repeating: 0, count: 9)
        let aloneTargets = secondTargets + none(9)

        func lossAndGradients(_ x: [Int32], _ y: [Int32], _ s: [Int32]?) -> (Float, [Float]) {
            model.zeroGradients()
            let loss = model.forward(inputs: x, targets: y, batch: 1, time: t, segmentStarts: s)
            model.backward()
            return (loss, model.withGradients { Array($0) })
        }
        let (lp, gp) = lossAndGradients(packed, packedTargets, starts)
        let (la, ga) = lossAndGradients(alone, aloneTargets, nil)
        #expect(abs(lp - la) <= 1e-6 * abs(la))
        var err: Float = 0, scale: Float = 1e-6
        for i in 0..<ga.count { err = max(err, abs(gp[i] - ga[i])); scale = max(scale, abs(ga[i])) }
        #expect(err / scale < 1e-5)
        // Unsegmented, the second document sees the first and sits at positions 5…11.
        let (lu, _) = lossAndGradients(packed, packedTargets, nil)
        #expect(abs(lu - la) > 1e-3)
    }
}

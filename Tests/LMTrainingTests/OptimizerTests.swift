import Foundation
import Testing
@testable import LMKernels
import LMSupport
import LMTestSupport
@testable import LMTraining

@Suite struct LearningRateScheduleTests {
    @Test func workedExample() {
        let s = LearningRateSchedule(peak: 1e-3, floor: 1e-4, warmupSteps: 10, totalSteps: 110)
        #expect(abs(s.learningRate(at: 0) - 1e-4) < 1e-12)       // (0+1)/10 of the peak
        #expect(abs(s.learningRate(at: 4) - 5e-4) < 1e-12)
        #expect(abs(s.learningRate(at: 9) - 1e-3) < 1e-12)       // end of warmup
        #expect(abs(s.learningRate(at: 10) - 1e-3) < 1e-12)      // cosine starts at the peak
        #expect(abs(s.learningRate(at: 60) - 5.5e-4) < 1e-12)    // half way: floor + (peak-floor)/2
        #expect(abs(s.learningRate(at: 110) - 1e-4) < 1e-12)     // floor at the end
        #expect(abs(s.learningRate(at: 500) - 1e-4) < 1e-12)     // and after
    }

    @Test func monotoneDecayAfterWarmup() {
        let s = LearningRateSchedule(peak: 6e-4, floor: 6e-5, warmupSteps: 5, totalSteps: 200)
        var prev = Double.infinity
        for t in 5...200 {
            let lr = s.learningRate(at: t)
            #expect(lr <= prev && lr >= 6e-5 - 1e-15)
            prev = lr
        }
    }

    @Test func noWarmupStartsAtPeak() {
        let s = LearningRateSchedule(peak: 1e-3, floor: 0, warmupSteps: 0, totalSteps: 4)
        #expect(s.learningRate(at: 0) == 1e-3)
        #expect(abs(s.learningRate(at: 2) - 5e-4) < 1e-12)
    }
}

@Suite struct GradientClippingTests {
    @Test func normMatchesNaiveForAnyThreadCount() {
        var rng = SeededRNG(seed: 5)
        let g = (0..<200_003).map { _ in rng.nextGaussian() }
        let naive = GradientClipping.globalNormNaive(g)
        let one = g.withUnsafeBufferPointer { GradientClipping.globalNorm($0, threads: 1) }
        let two = g.withUnsafeBufferPointer { GradientClipping.globalNorm($0, threads: 2) }
        #expect(one == two)                                    // chunked: bit-identical
        #expect(abs(one - naive) / naive < 1e-12)
        #expect(abs(naive - (200_003.0).squareRoot()) / naive < 0.01)  // ≈ √n for unit normals
    }

    @Test func handWorkedNormAndScale() {
        let g: [Float] = [3, 4]
        #expect(g.withUnsafeBufferPointer { GradientClipping.globalNorm($0) } == 5)
        #expect(GradientClipping.scale(norm: 5, maxNorm: 10) == 1)
        #expect(abs(GradientClipping.scale(norm: 5, maxNorm: 1) - 0.2) < 1e-6)
        #expect(GradientClipping.scale(norm: 5, maxNorm: 0) == 1)   // 0 disables clipping
    }
}

@Suite struct AdamWTests {
    @Test func firstStepHandWorked() {
        // Step 1: m̂ = g, v̂ = g², so p -= lr·(g/(|g|+ε) + wd·p).
        var p: [Float] = [1, 1], g: [Float] = [0.5, -2]
        var m: [Float] = [0, 0], v: [Float] = [0, 0]
        let h = AdamWHyperparameters(learningRate: 0.1, weightDecay: 0.5)
        p.withUnsafeMutableBufferPointer { pp in
            m.withUnsafeMutableBufferPointer { mm in
                v.withUnsafeMutableBufferPointer { vv in
                    g.withUnsafeMutableBufferPointer { gg in
                        AdamW.step(parameters: pp, gradients: UnsafeBufferPointer(gg), firstMoment: mm, secondMoment: vv,
                                   decayRanges: [0..<1], step: 1, hyper: h)
                    }
                }
            }
        }
        #expect(abs(p[0] - (1 - 0.1 * (1 + 0.5))) < 1e-6)   // decayed element
        #expect(abs(p[1] - (1 + 0.1)) < 1e-6)               // not decayed, sign of g
        #expect(abs(m[0] - 0.05) < 1e-7 && abs(v[1] - 0.2) < 1e-6)
    }

    @Test func fastMatchesNaiveTwinOverSteps() {
        let n = 100_000
        var rng = SeededRNG(seed: 9)
        var pFast = (0..<n).map { _ in rng.nextGaussian() }
        var pNaive = pFast
        var mF = [Float](repeating: 0, count: n), vF = mF, mN = mF, vN = mF
        let ranges = [10..<40_000, 40_000..<40_001, 70_000..<99_990]
        for t in 1...5 {
            let g = (0..<n).map { _ in rng.nextGaussian() * 0.1 }
            let h = AdamWHyperparameters(learningRate: 1e-2 / Float(t), weightDecay: 0.1)
            pFast.withUnsafeMutableBufferPointer { p in
                mF.withUnsafeMutableBufferPointer { m in
                    vF.withUnsafeMutableBufferPointer { v in
                        g.withUnsafeBufferPointer { gg in
                            AdamW.step(parameters: p, gradients: gg, firstMoment: m, secondMoment: v,
                                       decayRanges: ranges, step: t, hyper: h, gradScale: 0.7, threads: 2)
                        }
                    }
                }
            }
            AdamW.stepNaive(parameters: &pNaive, gradients: g, firstMoment: &mN, secondMoment: &vN,
                            decayRanges: ranges, step: t, hyper: h, gradScale: 0.7)
        }
        var worst: Float = 0
        for i in 0..<n { worst = max(worst, abs(pFast[i] - pNaive[i]) / max(1e-3, abs(pNaive[i]))) }
        #expect(worst < 1e-5)
        #expect(mF == mN && vF == vN)   // the moments use the same float operations
    }

    @Test func decaySegmentsCoverEverything() {
        let s = AdamW.decaySegments(count: 10, decayRanges: [2..<4, 6..<10])
        #expect(s.map(\.range) == [0..<2, 2..<4, 4..<6, 6..<10])
        #expect(s.map(\.decay) == [false, true, false, true])
        #expect(AdamW.segmentIndex(s, containing: 5) == 2)
    }

    @Test func optimizerFileRoundTripAndCorruption() throws {
        let dir = TestData.temporaryDirectory()
        var st = OptimizerState(count: 5)
        st.firstMoment = [1, 2, 3, 4, 5]; st.secondMoment = [0.5, 0, -1, 2, 9]; st.step = 42
        try st.write(to: dir + "/optimizer.bin")
        let back = try OptimizerState.read(from: dir + "/optimizer.bin", expectedCount: 5)
        #expect(back.firstMoment == st.firstMoment && back.secondMoment == st.secondMoment && back.step == 42)
        #expect(throws: LMError.self) { try OptimizerState.read(from: dir + "/optimizer.bin", expectedCount: 6) }
        var bytes = try FileIO.readBytes(dir + "/optimizer.bin")
        bytes[40] ^= 1
        try AtomicFileWriter.write(bytes, to: dir + "/optimizer.bin")
        do {
            _ = try OptimizerState.read(from: dir + "/optimizer.bin", expectedCount: 5)
            Issue.record("a flipped byte was not detected")
        } catch let e as LMError {
            #expect(e.description.contains("checksum"))
        }
    }
}

import Foundation
import LMModel
import LMSupport
import LMTestSupport

enum Fixtures {
    /// Tests/LMModelTests/Fixtures/<name>.
    static func path(_ name: String) -> String {
        Bundle.module.resourcePath! + "/Fixtures/" + name
    }
}

/// max |a − b| / max(max |b|, floor).
func relativeError(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>, floor: Float = 1e-6) -> Float {
    precondition(a.count == b.count, "length mismatch \(a.count) vs \(b.count)")
    var err: Float = 0, scale = floor
    for (x, y) in zip(a, b) {
        err = max(err, abs(x - y))
        scale = max(scale, abs(y))
    }
    return err / scale
}

func relativeError(_ a: [Float], _ b: [Float], floor: Float = 1e-6) -> Float {
    relativeError(a[...], b[...], floor: floor)
}

/// A seeded batch: inputs and targets (B·T ids in 0..<V, a few targets −1).
func randomBatch(vocab: Int, batch: Int, time: Int, seed: UInt64) -> (inputs: [Int32], targets: [Int32]) {
    var rng = SeededRNG(seed: seed)
    let n = batch * time
    let inputs = (0..<n).map { _ in Int32(rng.next(below: vocab)) }
    var targets = (0..<n).map { _ in Int32(rng.next(below: vocab)) }
    targets[n / 3] = -1
    return (inputs, targets)
}

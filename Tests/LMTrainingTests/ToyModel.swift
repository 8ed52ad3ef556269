import Foundation
import LMSupport
@testable import LMTraining

/// A bigram language model (logits = W[x] + b) with the `TrainableModel` contract: tiny, exact,
/// and fast, so the train loop can be tested without the GPT.
final class BigramModel: TrainableModel {
    struct Config: Codable, Equatable, Sendable { var vocab: Int }
    let vocab: Int
    var params: [Float]
    var grads: [Float]
    /// Forward calls after which the loss is NaN (to test divergence handling).
    var poisonAfterForwardCalls: Int?
    private var forwardCalls = 0
    private var saved: (inputs: [Int32], targets: [Int32], probs: [Float], count: Int)?

    init(vocab: Int, seed: UInt64) {
        self.vocab = vocab
        var rng = SeededRNG(seed: seed)
        params = (0..<(vocab * vocab + vocab)).map { _ in rng.nextGaussian() * 0.02 }
        grads = Array(repeating: 0, count: vocab * vocab + vocab)
    }

    var trainingConfig: Config { Config(vocab: vocab) }
    var parameterCount: Int { params.count }
    var maxContext: Int { 1 << 20 }
    var trainingFlopsPerToken: Double { Double(6 * vocab) }
    var decayRanges: [Range<Int>] { [0..<(vocab * vocab)] }
    var weightFileNames: [String] { ["toy.bin"] }

    func forward(inputs: [Int32], targets: [Int32]?, batch: Int, time: Int, segmentStarts: [Int32]? = nil) throws -> Float {
        forwardCalls += 1
        let n = batch * time
        var probs = [Float](repeating: 0, count: n * vocab)
        var loss: Double = 0, count = 0
        for t in 0..<n {
            let x = Int(inputs[t])
            var mx = -Float.infinity
            for j in 0..<vocab { mx = max(mx, params[x * vocab + j] + params[vocab * vocab + j]) }
            var s: Float = 0
            for j in 0..<vocab {
                let e = exp(params[x * vocab + j] + params[vocab * vocab + j] - mx)
                probs[t * vocab + j] = e; s += e
            }
            for j in 0..<vocab { probs[t * vocab + j] /= s }
            if let targets, targets[t] >= 0 {
                loss -= Double(log(probs[t * vocab + Int(targets[t])])); count += 1
            }
        }
        saved = (inputs, targets ?? [], probs, count)
        if let k = poisonAfterForwardCalls, forwardCalls > k { return .nan }
        return targets == nil ? 0 : Float(loss / Double(max(1, count)))
    }

    func zeroGradients() { for i in grads.indices { grads[i] = 0 } }

    func backward() throws {
        guard let s = saved else { return }
        for t in 0..<s.inputs.count where s.targets[t] >= 0 {
            let x = Int(s.inputs[t]), y = Int(s.targets[t])
            for j in 0..<vocab {
                let d = (s.probs[t * vocab + j] - (j == y ? 1 : 0)) / Float(s.count)
                grads[x * vocab + j] += d
                grads[vocab * vocab + j] += d
            }
        }
    }

    func withParametersAndGradients<R>(
        _ body: (UnsafeMutableBufferPointer<Float>, UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try params.withUnsafeMutableBufferPointer { p in
            try grads.withUnsafeBufferPointer { g in try body(p, g) }
        }
    }

    func saveWeights(to directory: String) throws {
        var w = ByteWriter()
        w.writeInteger(UInt32(vocab))
        for x in params { w.writeFloat(x) }
        try AtomicFileWriter.write(w.bytes, to: directory + "/toy.bin")
    }

    func restoreWeights(from directory: String) throws {
        var r = ByteReader(try FileIO.readBytes(directory + "/toy.bin"))
        guard let v = r.readInteger(as: UInt32.self), Int(v) == vocab else {
            throw LMError.mismatch(file: directory + "/toy.bin", "another vocab size")
        }
        for i in params.indices { params[i] = r.readFloat()! }
    }
}

/// Batches of random windows over a fixed token sequence; position = batches drawn so far.
final class ToyStream: BatchStream {
    let tokens: [Int32]
    let batchRows: Int
    let batchTime: Int
    let seed: UInt64
    var drawn = 0

    init(tokens: [Int32], batch: Int, time: Int, seed: UInt64) {
        self.tokens = tokens; batchRows = batch; batchTime = time; self.seed = seed
    }

    /// A learnable sequence: mostly "next = (x * 3 + 1) mod V", with some noise.
    static func corpus(vocab: Int, count: Int, seed: UInt64) -> [Int32] {
        var rng = SeededRNG(seed: seed)
        var out: [Int32] = [0]
        for _ in 1..<count {
            let prev = Int(out.last!)
            out.append(rng.nextFloat() < 0.8 ? Int32((prev * 3 + 1) % vocab) : Int32(rng.next(below: vocab)))
        }
        return out
    }

    func nextBatch() throws -> TrainingBatch {
        var rng = SeededRNG(seed: SeededRNG.derive(seed, UInt64(drawn)))
        drawn += 1
        var x: [Int32] = [], y: [Int32] = []
        for _ in 0..<batchRows {
            let o = rng.next(below: tokens.count - batchTime - 1)
            x += tokens[o..<(o + batchTime)]
            y += tokens[(o + 1)..<(o + batchTime + 1)]
        }
        return TrainingBatch(inputs: x, targets: y)
    }

    var streamPosition: Int { drawn }
    func restoreStream(_ position: Int) throws { drawn = position }
}

import Foundation
import Testing
@testable import LMModel
import LMSupport
import LMTestSupport

/// lmkit's GPT against transformers' GPT2LMHeadModel on the same weights
/// (fixture made by scripts/fixtures/make_gpt2_fixture.py; see Fixtures/README.md).
@Suite struct PyTorchReferenceTests {
    let dir = Fixtures.path("gpt2-tiny")

    @Test func logitsLossAndEveryGradientEqualPyTorch() throws {
        // Loading the save_pretrained directory is itself the "transformers → lmkit" direction.
        let model = try GPT.load(from: dir + "/model")
        let ref = try Safetensors.read(dir + "/reference.safetensors")
        let cfg = model.config
        #expect(cfg == GPTConfig(layers: 2, heads: 2, channels: 32, context: 16, vocabSize: 70))
        let inputs = try #require(ref["inputs"]), targets = try #require(ref["targets"])
        let (b, t) = (inputs.shape[0], inputs.shape[1])
        let loss = model.forward(inputs: inputs.values.map { Int32($0) }, targets: targets.values.map { Int32($0) },
                                 batch: b, time: t)
        let refLoss = try #require(ref["loss"]).values[0]
        #expect(abs(loss - refLoss) / refLoss < 1e-5, "loss \(loss) vs PyTorch \(refLoss)")

        let logits = model.logits, refLogits = try #require(ref["logits"]).values
        let v = cfg.vocabSize, vp = cfg.paddedVocabSize
        var ours: [Float] = []
        for r in 0..<(b * t) { ours += logits[r * vp ..< r * vp + v] }
        #expect(relativeError(ours, refLogits) < 1e-5)

        model.zeroGradients()
        model.backward()
        var checked = 0
        for spec in model.layout {
            let g = try #require(ref["grad." + spec.name], "no reference gradient for \(spec.name)")
            let n = g.values.count
            let err = relativeError(model.gradients[spec.offset ..< spec.offset + n], g.values[...])
            #expect(err < 1e-4, "gradient of \(spec.name): relative error \(err)")
            checked += 1
        }
        #expect(checked == ref.keys.filter { $0.hasPrefix("grad.") }.count)
        // Padding rows of wte get no gradient.
        let pad = model.gradients[(model.parameterLayout.wte + v * cfg.channels) ..< (model.parameterLayout.wte + vp * cfg.channels)]
        #expect(pad.allSatisfy { $0 == 0 })
    }

    /// lmkit save → transformers from_pretrained gives lmkit's loss. Needs the Python venv with
    /// torch + transformers (`$LMKIT_PYTHON`, else ../venv/bin/python next to the repo); skipped without it.
    @Test func savedModelLoadsInTransformersWithTheSameLoss() throws {
        guard let python = TestData.referencePython else { return }  // no venv: skip
        let cfg = GPTConfig(layers: 2, heads: 4, channels: 32, context: 24, vocabSize: 90)
        let model = GPT(config: cfg, seed: 77)
        let (inputs, targets) = randomBatch(vocab: 90, batch: 3, time: 20, seed: 5)
        let loss = model.forward(inputs: inputs, targets: targets, batch: 3, time: 20)
        let out = TestData.temporaryDirectory("lmkit-hf")
        defer { try? FileManager.default.removeItem(atPath: out) }
        try model.save(to: out)
        try Safetensors.write(to: out + "/batch.safetensors",
                              tensors: [("inputs", [3, 20]), ("targets", [3, 20]), ("loss", [1])]) { i, write in
            let values: [Float] = i == 0 ? inputs.map(Float.init) : i == 1 ? targets.map(Float.init) : [loss]
            try values.withUnsafeBufferPointer { try write($0) }
        }
        let (status, data) = try TestData.runPython(python, script: "scripts/fixtures/make_gpt2_fixture.py", ["--check-lmkit", out])
        try #require(status == 0, "transformers could not load the lmkit checkpoint")
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        let json = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Double])
        print("lmkit → transformers round trip: \(line)")  // the recorded result (test log)
        let diff = try #require(json["relative_difference"])
        #expect(diff < 1e-5, "transformers loss \(json["transformers_loss"] ?? .nan) vs lmkit \(loss)")
    }
}

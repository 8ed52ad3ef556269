import Foundation
import Testing
@testable import LMModel
import LMSupport
import LMTestSupport

@Suite struct CheckpointTests {
    let cfg = GPTConfig(layers: 2, heads: 2, channels: 16, context: 8, vocabSize: 70)

    @Test func saveLoadRoundTripIsExact() throws {
        let model = GPT(config: cfg, seed: 21)
        let dir = TestData.temporaryDirectory("lmkit-ckpt")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try model.save(to: dir)
        let back = try GPT.load(from: dir)
        #expect(back.config == cfg)
        #expect(back.parameters == model.parameters)
        // The file holds wte with V rows, Hugging Face names, no leftover temp files.
        let t = try Safetensors.read(dir + "/model.safetensors")
        #expect(t["transformer.wte.weight"]?.shape == [70, 16])
        #expect(t["transformer.h.1.attn.c_attn.weight"]?.shape == [16, 48])
        #expect(t["transformer.h.0.mlp.c_proj.weight"]?.shape == [64, 16])
        #expect(t.count == model.layout.count)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(files == ["config.json", "model.safetensors"])
        // The header length is a multiple of 8 and the data follows it exactly.
        let bytes = try FileIO.readBytes(dir + "/model.safetensors")
        let n = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(n % 8 == 0)
        #expect(bytes.count == 8 + n + 4 * cfg.parameterCount)
    }

    @Test func truncatedFileNamesTheTensor() throws {
        let dir = TestData.temporaryDirectory("lmkit-ckpt")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try GPT(config: cfg, seed: 1).save(to: dir)
        let path = dir + "/model.safetensors"
        let bytes = try FileIO.readBytes(path)
        try Data(bytes[0..<(bytes.count - 100)]).write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: LMError.self) { try GPT.load(from: dir) }
        #expect(error.description.contains("model.safetensors"))
        #expect(error.description.contains("transformer.ln_f"))  // the last tensor is cut
    }

    @Test func shapeMismatchAndMissingTensorAreNamed() throws {
        let dir = TestData.temporaryDirectory("lmkit-ckpt")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try GPT(config: cfg, seed: 1).save(to: dir)
        // A config of another shape over the same weights.
        let other = GPTConfig(layers: 2, heads: 2, channels: 32, context: 8, vocabSize: 70)
        try AtomicFileWriter.write(other.huggingFaceConfigJSON(), to: dir + "/config.json")
        let e1 = try #require(throws: LMError.self) { try GPT.load(from: dir) }
        #expect(e1.description.contains("transformer.wte.weight") && e1.description.contains("shape"))
        // More layers than the file has.
        let deeper = GPTConfig(layers: 3, heads: 2, channels: 16, context: 8, vocabSize: 70)
        try AtomicFileWriter.write(deeper.huggingFaceConfigJSON(), to: dir + "/config.json")
        let e2 = try #require(throws: LMError.self) { try GPT.load(from: dir) }
        #expect(e2.description.contains("transformer.h.2.ln_1.weight is missing"))
        // No directory at all.
        let e3 = try #require(throws: LMError.self) { try GPT.load(from: dir + "/nope") }
        #expect(e3.description.contains("config.json"))
    }

    @Test func garbageHeaderIsRejected() throws {
        let dir = TestData.temporaryDirectory("lmkit-ckpt")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try GPT(config: cfg, seed: 1).save(to: dir)
        try Data([0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 1, 2, 3]).write(to: URL(fileURLWithPath: dir + "/model.safetensors"))
        let e = try #require(throws: LMError.self) { try GPT.load(from: dir) }
        #expect(e.description.contains("header length"))
    }
}

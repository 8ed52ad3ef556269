import Foundation
import LMSupport

/// Checkpoints: `model.safetensors` + `config.json`, Hugging Face GPT-2 compatible.
/// See docs/CHECKPOINT_FORMAT.md.
extension GPT {
    /// File names inside a checkpoint directory.
    public static let weightsFileName = "model.safetensors"
    public static let configFileName = "config.json"

    /// Writes `model.safetensors` (Hugging Face GPT-2 names, fp32, wte with V rows) and
    /// `config.json` (accepted by `transformers.GPT2LMHeadModel.from_pretrained`) into
    /// `directory` (created if missing), each atomically (temp file + rename).
    public func save(to directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw LMError.io(file: directory, "cannot create the checkpoint directory",
                             fix: "check the path and its permissions")
        }
        let v = config.vocabSize, c = config.channels
        let specs = layout.map { spec -> (name: String, shape: [Int]) in
            spec.name == "transformer.wte.weight" ? (spec.name, [v, c]) : (spec.name, spec.shape)
        }
        let layout = self.layout
        try parameters.withUnsafeBufferPointer { p in
            try Safetensors.write(to: directory + "/" + GPT.weightsFileName, tensors: specs) { i, write in
                let spec = layout[i]
                let n = specs[i].shape.reduce(1, *)
                try write(UnsafeBufferPointer(rebasing: p[spec.offset ..< spec.offset + n]))
            }
        }
        try AtomicFileWriter.write(config.huggingFaceConfigJSON(), to: directory + "/" + GPT.configFileName)
    }

    /// Reads a directory written by `save(to:)` or by transformers' `save_pretrained` (safetensors,
    /// names with or without the `transformer.` prefix). Throws `LMError` naming the file and the
    /// tensor for missing or mis-shaped tensors, truncated files or an unsupported config.
    public static func load(from directory: String) throws -> GPT {
        let configPath = directory + "/" + configFileName
        let weightsPath = directory + "/" + weightsFileName
        guard FileIO.exists(configPath) else {
            throw LMError.badInput(file: configPath, "no config.json in the checkpoint directory",
                                   fix: "pass a directory written by lmkit pretrain or save_pretrained")
        }
        let config = try GPTConfig(huggingFaceConfigAt: configPath)
        guard FileIO.exists(weightsPath) else {
            throw LMError.badInput(file: weightsPath, "no model.safetensors in the checkpoint directory",
                                   fix: "save with safe_serialization=True (the default) or re-save with lmkit")
        }
        var tensors = try Safetensors.read(weightsPath)
        // Accept names without the `transformer.` prefix (GPT2Model checkpoints such as the hub's gpt2).
        for (name, t) in tensors where !name.hasPrefix("transformer.") && !name.hasPrefix("lm_head") && name != "score.weight" {
            tensors["transformer." + name] = t
            tensors[name] = nil
        }
        let model = GPT(config: config, parameters: [Float](repeating: 0, count: config.paddedParameterCount))
        let v = config.vocabSize, c = config.channels
        var used = Set<String>()
        for spec in model.layout {
            guard let t = tensors[spec.name] else {
                throw LMError.mismatch(file: weightsPath, "tensor \(spec.name) is missing",
                                       fix: "the file does not match config.json (\(config.layers) layers, \(c) channels)")
            }
            let expected = spec.name == "transformer.wte.weight" ? [v, c] : spec.shape
            guard t.shape == expected else {
                throw LMError.mismatch(file: weightsPath, "tensor \(spec.name) has shape \(t.shape), config.json implies \(expected)",
                                       fix: "use the config.json that was saved with these weights")
            }
            model.parameters.withUnsafeMutableBufferPointer { p in
                for i in 0..<t.values.count { p[spec.offset + i] = t.values[i] }
            }
            used.insert(spec.name)
        }
        // Rows V..<Vp of wte stay zero: the buffer starts zeroed and the file holds V rows.
        for name in tensors.keys where !used.contains(name) {
            // Buffers and the tied head are not parameters of their own.
            if name.hasSuffix(".attn.bias") || name.hasSuffix(".attn.masked_bias") { continue }
            if name == "lm_head.weight" {
                if let head = tensors[name], let emb = tensors["transformer.wte.weight"], head.values != emb.values {
                    throw LMError.mismatch(file: weightsPath, "lm_head.weight differs from transformer.wte.weight",
                                           fix: "lmkit models tie the output head to the token embedding")
                }
                continue
            }
            throw LMError.mismatch(file: weightsPath, "unexpected tensor \(name)",
                                   fix: "lmkit loads GPT-2 checkpoints (GPT2LMHeadModel, or GPT2ForSequenceClassification with one label)")
        }
        return model
    }
}

extension GPTConfig {
    /// The `config.json` of a Hugging Face `GPT2LMHeadModel` with this shape (dropout 0,
    /// tanh GELU, eps 1e-5, tied embeddings) — or, with `scoreHead`, of a
    /// `GPT2ForSequenceClassification` with one label (a reward model).
    public func huggingFaceConfigJSON() -> String {
        let architecture = scoreHead
            ? "\"GPT2ForSequenceClassification\"],\n  \"num_labels\": 1,\n  \"id2label\": {\"0\": \"LABEL_0\"},\n  \"label2id\": {\"LABEL_0\": 0}"
            : "\"GPT2LMHeadModel\"]"
        return """
        {
          "architectures": [\(architecture),
          "model_type": "gpt2",
          "vocab_size": \(vocabSize),
          "n_positions": \(context),
          "n_ctx": \(context),
          "n_embd": \(channels),
          "n_layer": \(layers),
          "n_head": \(heads),
          "n_inner": null,
          "activation_function": "gelu_new",
          "layer_norm_epsilon": 1e-05,
          "resid_pdrop": 0.0,
          "embd_pdrop": 0.0,
          "attn_pdrop": 0.0,
          "initializer_range": 0.02,
          "scale_attn_weights": true,
          "scale_attn_by_inverse_layer_idx": false,
          "reorder_and_upcast_attn": false,
          "tie_word_embeddings": true,
          "bos_token_id": null,
          "eos_token_id": null,
          "torch_dtype": "float32",
          "lmkit_padded_vocab_size": \(paddedVocabSize)
        }

        """
    }

    /// Parses a Hugging Face GPT-2 `config.json`; throws `LMError` naming the file and the field
    /// for anything lmkit's GPT cannot reproduce exactly.
    public init(huggingFaceConfigAt path: String) throws {
        let text = try FileIO.readText(path)
        guard let obj = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw LMError.badFormat(file: path, "not a JSON object", fix: "restore config.json from the checkpoint")
        }
        func int(_ key: String, _ fallback: String? = nil) throws -> Int {
            if let v = obj[key] as? NSNumber { return v.intValue }
            if let fallback, let v = obj[fallback] as? NSNumber { return v.intValue }
            throw LMError.badFormat(file: path, "field \"\(key)\" is missing or not a number",
                                    fix: "write a GPT-2 config.json (n_layer, n_head, n_embd, n_positions, vocab_size)")
        }
        if let type = obj["model_type"] as? String, type != "gpt2" {
            throw LMError.mismatch(file: path, "model_type is \"\(type)\", lmkit loads gpt2 only")
        }
        if let act = obj["activation_function"] as? String, act != "gelu_new", act != "gelu_pytorch_tanh" {
            throw LMError.mismatch(file: path, "activation_function \"\(act)\" is not the tanh GELU lmkit implements",
                                   fix: "use gelu_new")
        }
        if let eps = obj["layer_norm_epsilon"] as? NSNumber, abs(eps.doubleValue - 1e-5) > 1e-12 {
            throw LMError.mismatch(file: path, "layer_norm_epsilon is \(eps), lmkit uses 1e-05")
        }
        if let tie = obj["tie_word_embeddings"] as? Bool, !tie {
            throw LMError.mismatch(file: path, "tie_word_embeddings is false; lmkit ties the head to wte")
        }
        if let inverse = obj["scale_attn_by_inverse_layer_idx"] as? Bool, inverse {
            throw LMError.mismatch(file: path, "scale_attn_by_inverse_layer_idx is true; lmkit does not implement it")
        }
        let embd = try int("n_embd")
        if let inner = obj["n_inner"] as? NSNumber, inner.intValue != 4 * embd {
            throw LMError.mismatch(file: path, "n_inner is \(inner), lmkit's MLP is 4 × n_embd = \(4 * embd)")
        }
        let architectures = obj["architectures"] as? [String] ?? []
        let scoreHead = architectures.contains("GPT2ForSequenceClassification")
        if scoreHead {
            let labels = (obj["num_labels"] as? NSNumber)?.intValue ?? (obj["id2label"] as? [String: Any])?.count ?? 2
            if labels != 1 {
                throw LMError.mismatch(file: path, "GPT2ForSequenceClassification with \(labels) labels; lmkit reward models have one",
                                       fix: "save the reward model with num_labels=1")
            }
        }
        self.init(layers: try int("n_layer"), heads: try int("n_head"), channels: embd,
                  context: try int("n_positions", "n_ctx"), vocabSize: try int("vocab_size"), scoreHead: scoreHead)
        do { try validate() } catch let e as LMError {
            throw LMError.badFormat(file: path, e.message, fix: "fix config.json")
        }
    }
}

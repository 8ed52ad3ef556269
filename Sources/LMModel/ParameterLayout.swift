/// One named tensor inside the flat parameter buffer.
///
/// Names and shapes are Hugging Face GPT-2's (`transformer.h.0.attn.c_attn.weight`, Conv1D
/// layout `(in, out)`), except `transformer.wte.weight`, which is stored with Vp rows here
/// and saved with V rows (see docs/CHECKPOINT_FORMAT.md).
public struct TensorSpec: Sendable, Equatable, Hashable {
    /// Hugging Face name, e.g. `transformer.h.3.mlp.c_fc.weight`.
    public var name: String
    /// Shape in the flat buffer, row-major (e.g. `[C, 4C]` for `mlp.c_fc.weight`).
    public var shape: [Int]
    /// First element in the flat buffer.
    public var offset: Int
    /// True for 2-D weights (matmuls and embeddings): AdamW applies weight decay to these only.
    public var isMatrix: Bool
    /// Number of elements (product of `shape`).
    public var count: Int { shape.reduce(1, *) }
    /// `offset ..< offset + count`.
    public var range: Range<Int> { offset ..< offset + count }
}

/// Offsets of every tensor of a `GPTConfig` in the flat buffer (parameters and gradients share it).
///
/// Order: wte (Vp, C), wpe (ctx, C), then per layer ln_1.weight/bias (C), attn.c_attn.weight (C, 3C),
/// attn.c_attn.bias (3C), attn.c_proj.weight (C, C), attn.c_proj.bias (C), ln_2.weight/bias (C),
/// mlp.c_fc.weight (C, 4C), mlp.c_fc.bias (4C), mlp.c_proj.weight (4C, C), mlp.c_proj.bias (C),
/// then ln_f.weight/bias (C), then — reward models only (`config.scoreHead`) — score.weight (1, C),
/// packed back to back: exactly `config.paddedParameterCount` floats.
public struct ParameterLayout: Sendable {
    /// Offsets of one block's tensors.
    public struct Block: Sendable {
        public var ln1w, ln1b, qkvw, qkvb, attprojw, attprojb, ln2w, ln2b, fcw, fcb, fcprojw, fcprojb: Int
    }
    public let config: GPTConfig
    /// Every tensor in buffer order.
    public let tensors: [TensorSpec]
    public let wte: Int
    public let wpe: Int
    public let blocks: [Block]
    public let lnfw: Int
    public let lnfb: Int
    /// Offset of `score.weight` (1, C), or nil for a language model.
    public let score: Int?
    /// Total floats (= `config.paddedParameterCount`).
    public let count: Int

    public init(config: GPTConfig) {
        self.config = config
        let c = config.channels
        var specs: [TensorSpec] = []
        var offset = 0
        func add(_ name: String, _ shape: [Int]) -> Int {
            let spec = TensorSpec(name: name, shape: shape, offset: offset, isMatrix: shape.count == 2)
            specs.append(spec)
            offset += spec.count
            return spec.offset
        }
        wte = add("transformer.wte.weight", [config.paddedVocabSize, c])
        wpe = add("transformer.wpe.weight", [config.context, c])
        var blocks: [Block] = []
        for l in 0..<config.layers {
            let p = "transformer.h.\(l)."
            let b = Block(
                ln1w: add(p + "ln_1.weight", [c]), ln1b: add(p + "ln_1.bias", [c]),
                qkvw: add(p + "attn.c_attn.weight", [c, 3 * c]), qkvb: add(p + "attn.c_attn.bias", [3 * c]),
                attprojw: add(p + "attn.c_proj.weight", [c, c]), attprojb: add(p + "attn.c_proj.bias", [c]),
                ln2w: add(p + "ln_2.weight", [c]), ln2b: add(p + "ln_2.bias", [c]),
                fcw: add(p + "mlp.c_fc.weight", [c, 4 * c]), fcb: add(p + "mlp.c_fc.bias", [4 * c]),
                fcprojw: add(p + "mlp.c_proj.weight", [4 * c, c]), fcprojb: add(p + "mlp.c_proj.bias", [c]))
            blocks.append(b)
        }
        self.blocks = blocks
        lnfw = add("transformer.ln_f.weight", [c])
        lnfb = add("transformer.ln_f.bias", [c])
        score = config.scoreHead ? add("score.weight", [1, c]) : nil
        tensors = specs
        count = offset
    }

    /// The tensor called `name`, or nil.
    public func tensor(named name: String) -> TensorSpec? { tensors.first { $0.name == name } }
}

/// The shape of a GPT-2 style decoder.
///
/// Dimension letters used across LMKernels and LMModel (defined once, here and in
/// `LMKernels/Shapes.swift`): B batch, T time (sequence length ≤ `context`), C channels
/// (`channels`), NH heads, hs = C / NH head size, L layers, V real vocabulary size,
/// Vp padded vocabulary size (V rounded up to a multiple of 64; rows V..<Vp of the token
/// embedding are kept at zero and never receive gradient).
///
///     let cfg = GPTConfig.tiny(vocabSize: 65)  // 4 layers, 4 heads, 128 wide, context 128
///     cfg.paddedVocabSize                       // 128
public struct GPTConfig: Codable, Sendable, Equatable, Hashable {
    /// L: number of transformer blocks.
    public var layers: Int
    /// NH: attention heads per block (must divide `channels`).
    public var heads: Int
    /// C: width of the residual stream.
    public var channels: Int
    /// Maximum sequence length (rows of the position embedding).
    public var context: Int
    /// V: number of real tokens.
    public var vocabSize: Int
    /// True for a reward model: one more tensor, `score.weight` (1, C), maps the final hidden
    /// state of a sequence's last token to a scalar reward (Hugging Face's
    /// `GPT2ForSequenceClassification` with `num_labels` 1). The LM head stays tied to wte.
    public var scoreHead: Bool

    public init(layers: Int, heads: Int, channels: Int, context: Int, vocabSize: Int, scoreHead: Bool = false) {
        self.layers = layers
        self.heads = heads
        self.channels = channels
        self.context = context
        self.vocabSize = vocabSize
        self.scoreHead = scoreHead
    }

    private enum CodingKeys: String, CodingKey { case layers, heads, channels, context, vocabSize, scoreHead }

    /// Decodes; `scoreHead` is optional (absent in files of language models and of older runs).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(layers: try c.decode(Int.self, forKey: .layers), heads: try c.decode(Int.self, forKey: .heads),
                  channels: try c.decode(Int.self, forKey: .channels), context: try c.decode(Int.self, forKey: .context),
                  vocabSize: try c.decode(Int.self, forKey: .vocabSize),
                  scoreHead: try c.decodeIfPresent(Bool.self, forKey: .scoreHead) ?? false)
    }

    /// Encodes; `scoreHead` only when true, so language-model files are unchanged.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(layers, forKey: .layers); try c.encode(heads, forKey: .heads)
        try c.encode(channels, forKey: .channels); try c.encode(context, forKey: .context)
        try c.encode(vocabSize, forKey: .vocabSize)
        if scoreHead { try c.encode(true, forKey: .scoreHead) }
    }

    /// Vp: `vocabSize` rounded up to a multiple of 64 (faster matmuls, as in llm.c).
    public var paddedVocabSize: Int { (vocabSize + 63) / 64 * 64 }

    /// hs: channels per head.
    public var headSize: Int { channels / heads }

    /// LayerNorm epsilon (GPT-2's 1e-5).
    public static let layerNormEpsilon: Float = 1e-5

    /// 4 layers, 4 heads, 128 wide, context 128. With V = 65 (characters): 818,048 parameters,
    /// 5.60 MFLOP per trained token (`flopsPerToken()`).
    public static func tiny(vocabSize: Int) -> GPTConfig {
        GPTConfig(layers: 4, heads: 4, channels: 128, context: 128, vocabSize: vocabSize)
    }

    /// nanoGPT's Shakespeare-char config: 6 layers, 6 heads, 384 wide, context 256.
    /// With V = 65: 10,770,816 parameters, 71.1 MFLOP per trained token.
    public static func small(vocabSize: Int) -> GPTConfig {
        GPTConfig(layers: 6, heads: 6, channels: 384, context: 256, vocabSize: vocabSize)
    }

    /// GPT-2 small: 12 layers, 12 heads, 768 wide, context 1024. With V = 50257: 124,439,808
    /// parameters, 855 MFLOP per trained token at T = 1024 (770 at T = 256).
    public static func gpt2(vocabSize: Int = 50257) -> GPTConfig {
        GPTConfig(layers: 12, heads: 12, channels: 768, context: 1024, vocabSize: vocabSize)
    }

    /// Names accepted by `preset(named:vocabSize:)`.
    public static let presetNames = ["tiny", "small", "gpt2"]

    /// A preset by name (`tiny`, `small`, `gpt2`), or nil for an unknown name.
    public static func preset(named name: String, vocabSize: Int) -> GPTConfig? {
        switch name {
        case "tiny": return tiny(vocabSize: vocabSize)
        case "small": return small(vocabSize: vocabSize)
        case "gpt2": return gpt2(vocabSize: vocabSize)
        default: return nil
        }
    }

    /// Checks the shape; throws `LMError.badInput` naming the offending field.
    public func validate() throws {
        func fail(_ m: String, _ fix: String) -> LMError { LMError.badInput(m, fix: fix) }
        if layers < 1 { throw fail("layers must be ≥ 1 (got \(layers))", "pass --layers 1 or more") }
        if heads < 1 { throw fail("heads must be ≥ 1 (got \(heads))", "pass --heads 1 or more") }
        if channels < 1 || channels % heads != 0 {
            throw fail("channels (\(channels)) must be a positive multiple of heads (\(heads))",
                       "choose --dim divisible by --heads")
        }
        if context < 1 { throw fail("context must be ≥ 1 (got \(context))", "pass --context 1 or more") }
        if vocabSize < 1 { throw fail("vocabulary size must be ≥ 1 (got \(vocabSize))", "use a non-empty vocab") }
    }

    /// Parameters as Hugging Face counts them (token embedding with V rows, tied head not
    /// counted twice): V·C + ctx·C + L·(12C² + 13C) + 2C, plus C for a score head.
    public var parameterCount: Int {
        let c = channels
        return vocabSize * c + context * c + layers * (12 * c * c + 13 * c) + 2 * c + (scoreHead ? c : 0)
    }

    /// Length of the flat parameter buffer: `parameterCount` plus the (Vp − V)·C padding rows.
    public var paddedParameterCount: Int { parameterCount + (paddedVocabSize - vocabSize) * channels }

    /// Training FLOPs per token (forward + backward), nanoGPT's / PaLM's estimate:
    /// 6·N + 12·L·C·T with N = `parameterCount` minus the position embedding (the tied head
    /// is a V×C matmul; position lookups cost nothing) and T = `time` (default: `context`).
    /// The attention term counts QKᵀ and PV over the full T×T square (causal halves are not
    /// subtracted), as PyTorch's and nanoGPT's MFU figures do.
    public func flopsPerToken(time: Int? = nil) -> Double {
        let t = Double(time ?? context)
        let n = Double(parameterCount - context * channels)
        return 6 * n + 12 * Double(layers) * Double(channels) * t
    }
}

import LMSupport

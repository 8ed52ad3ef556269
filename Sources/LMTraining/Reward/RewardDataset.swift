import LMSupport
import LMTokenizer

/// One tokenized preference pair; the reward of each sequence is read at its last token.
public struct RewardExample: Sendable, Equatable {
    /// Token ids of the preferred text (1…T of them).
    public var chosen: [Int32]
    /// Token ids of the other text (1…T of them).
    public var rejected: [Int32]
    public init(chosen: [Int32], rejected: [Int32]) { self.chosen = chosen; self.rejected = rejected }
}

/// A preference file tokenized for a reward model of context T and split into train / validation.
///
/// Each text is encoded as ordinary text (special-token strings in it are plain text) and, when
/// the vocab has `<|endoftext|>`, that token is appended: the reward is read there, after the
/// whole answer. A sequence longer than T keeps its *last* T tokens (the texts of a pair differ at
/// the end, in the final answer). Pairs whose two sequences are equal after that carry no
/// preference and are dropped (counted in `dropped`).
public struct RewardDataset: Sendable {
    public var train: [RewardExample]
    public var val: [RewardExample]
    /// Sequences that were cut to their last T tokens.
    public var truncated: Int
    /// Pairs dropped because both sides were the same tokens (after truncation).
    public var dropped: Int
    /// The id appended to every sequence, or nil when the vocab has no `<|endoftext|>`.
    public var endID: Int32?

    /// Loads `path` (see `PreferenceData`), tokenizes with `tokenizer` on `threads` threads and
    /// splits with `PreferenceData.isValidation(valFraction, splitSeed)`. Throws `LMError.badInput`
    /// when no training pair is left, unless `requireTrain` is false.
    public static func load(_ path: String, tokenizer: BPETokenizer, context: Int, valFraction: Double,
                            splitSeed: UInt64, threads: Int = Threads.available, requireTrain: Bool = true) throws -> RewardDataset {
        let pairs = try PreferenceData.load(path)
        let end = tokenizer.vocabulary.specialID("<|endoftext|>").map { Int32($0) }
        let texts = pairs.flatMap { [$0.chosen, $0.rejected] }
        let ids = tokenizer.encodeOrdinaryBatch(texts, threads: threads)
        var out = RewardDataset(train: [], val: [], truncated: 0, dropped: 0, endID: end)
        func sequence(_ raw: [UInt32]) -> [Int32] {
            var s = raw.map { Int32($0) }
            if let end { s.append(end) }
            if s.count > context { out.truncated += 1; s.removeFirst(s.count - context) }
            return s
        }
        for (i, pair) in pairs.enumerated() {
            let ex = RewardExample(chosen: sequence(ids[2 * i]), rejected: sequence(ids[2 * i + 1]))
            if ex.chosen == ex.rejected || ex.chosen.isEmpty || ex.rejected.isEmpty { out.dropped += 1; continue }
            if PreferenceData.isValidation(pair, valFraction: valFraction, seed: splitSeed) {
                out.val.append(ex)
            } else {
                out.train.append(ex)
            }
        }
        if requireTrain && out.train.isEmpty {
            throw LMError.badInput(file: path, "no preference pair is left for training (\(pairs.count) records, \(out.dropped) without a difference, \(out.val.count) held out)",
                                   fix: "lower --val-fraction, or use pairs whose answers differ")
        }
        return out
    }
}

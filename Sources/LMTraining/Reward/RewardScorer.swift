import Foundation
import LMModel
import LMSupport
import LMTokenizer

/// A trained reward model with its tokenizer, for `lmkit reward score` and `reward eval`.
public final class RewardScorer {
    public let model: GPT
    public let tokenizer: BPETokenizer
    /// `<|endoftext|>`, appended to every text as in training (nil when the vocab has none).
    public let endID: Int32?

    /// Loads a run directory of `lmkit reward train` (or a `GPT2ForSequenceClassification` saved
    /// with one label, with `vocabPath` giving its tokenizer). Throws `LMError` naming the file when
    /// the checkpoint has no score head or no vocab.
    public init(checkpoint: String, vocabPath: String? = nil, threads: Int = Threads.available) throws {
        let (gpt, vocab, _) = try Finetune.loadModelAndVocab(checkpoint: checkpoint, vocabPath: vocabPath)
        guard gpt.config.scoreHead else {
            throw LMError.mismatch(file: checkpoint + "/config.json", "this checkpoint is a language model, not a reward model",
                                   fix: "train one with `lmkit reward train --checkpoint \(checkpoint) …`")
        }
        gpt.threads = threads
        model = gpt
        tokenizer = try BPETokenizer(vocab)
        endID = vocab.specialID("<|endoftext|>").map { Int32($0) }
    }

    /// The ids scored for `text`: its ordinary encoding, then `<|endoftext|>`, keeping the last T.
    public func sequence(_ text: String) -> [Int32] {
        var s = tokenizer.encodeOrdinary(text).map { Int32($0) }
        if let endID { s.append(endID) }
        if s.count > model.config.context { s.removeFirst(s.count - model.config.context) }
        return s
    }

    /// The reward of each text (scalar, unitless; higher = preferred). Empty texts in a vocab
    /// without `<|endoftext|>` have nothing to score and throw `LMError.badInput`.
    public func score(_ texts: [String], batchSize: Int = 16) throws -> [Float] {
        let seqs = texts.map(sequence)
        if let i = seqs.firstIndex(where: { $0.isEmpty }) {
            throw LMError.badInput("text \(i + 1) is empty and the vocab has no <|endoftext|> to score", fix: "pass a non-empty text")
        }
        return RewardEvaluation.rewards(model: model, sequences: seqs, batchSize: batchSize, padID: endID ?? 0)
    }

    /// Accuracy over the pairs of `dataPath`: the held-out split of (`valFraction`, `splitSeed`)
    /// — the one `reward train` held out with the same values — or every pair when `all`.
    public func evaluate(dataPath: String, valFraction: Double, splitSeed: UInt64, all: Bool, batchSize: Int = 16) throws -> RewardAccuracy {
        let data = try RewardDataset.load(dataPath, tokenizer: tokenizer, context: model.config.context,
                                          valFraction: all ? 0 : valFraction, splitSeed: splitSeed, threads: model.threads,
                                          requireTrain: false)
        let pairs = all ? data.train : data.val
        if pairs.isEmpty {
            throw LMError.badInput(file: dataPath, "no held-out pair to score (val fraction \(valFraction))",
                                   fix: "pass --all to score every pair, or a larger --val-fraction")
        }
        return RewardEvaluation.accuracy(model: model, examples: pairs, batchSize: batchSize, padID: endID ?? 0)
    }
}

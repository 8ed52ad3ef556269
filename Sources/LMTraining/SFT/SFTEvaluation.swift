import Foundation
import LMKernels
import LMModel
import LMSupport
import LMTokenizer

/// Held-out measurements of a chat model: loss on assistant tokens, and how often replies stop.
public enum SFTEvaluation {
    /// Mean cross-entropy (nats) per assistant token over all `examples`, exactly: the examples
    /// are packed unshuffled into rows of the model's context and each batch's mean is weighted
    /// by its number of trained targets. Returns the loss and the token count.
    public static func assistantLoss(model: GPT, examples: [SFTExample], batchSize: Int, padID: Int32) -> (loss: Double, tokens: Int) {
        let t = model.config.context
        let packer = PackedBatches(examples: examples, batchSize: 1, context: t, seed: 0, shuffle: false, padID: padID)
        let rows = packer.packing(epoch: 0)
        var sum = 0.0, count = 0
        var start = 0
        while start < rows.count {
            let b = min(batchSize, rows.count - start)
            let chunk = Array(rows[start..<(start + b)])
            let counted = chunk.joined().reduce(0) { $0 + examples[$1].trainedCount }
            if counted > 0 {
                let batch = packer.batch(rows: chunk)
                let loss = model.forward(inputs: batch.inputs, targets: batch.targets, batch: b, time: t,
                                         segmentStarts: batch.segmentStarts)
                sum += Double(loss) * Double(counted)
                count += counted
            }
            start += b
        }
        return (count > 0 ? sum / Double(count) : .nan, count)
    }

    /// Replies to held-out prompts: for each record, the messages before its last assistant
    /// message are the prompt; the reply is generated up to min(`maxTokens`, context − prompt)
    /// tokens and counted as stopped when it ends with `<|end|>` within that limit. Prompts that
    /// fill the context are skipped (counted).
    public static func stopRate(model: GPT, template: ChatTemplate, records: [SFTRecord], limit: Int?,
                                maxTokens: Int, sampling: SamplingParameters) -> StopRate {
        let session = InferenceSession(model)
        var sampler = TokenSampler(sampling)
        var out = StopRate()
        for r in records {
            if let limit, out.replies >= limit { break }
            guard let last = r.messages.lastIndex(where: { $0.role == .assistant }) else { continue }
            let prompt = template.promptIDs(Array(r.messages[..<last]))
            let limit = min(maxTokens, model.config.context - prompt.count)
            if limit < 1 { out.skipped += 1; continue }
            let reply = ChatSession.generate(session: session, template: template, prompt: prompt, maxTokens: limit,
                                             sampler: &sampler, emit: { _ in })
            out.replies += 1
            out.replyTokens += reply.ids.count
            if reply.stop == .end { out.ended += 1 }
            if template.render(r.messages).ids.count <= model.config.context + 1 {
                out.scoredReplies += 1
                if reply.stop == .end { out.scoredEnded += 1 }
            }
            if out.examples.count < 3 {
                out.examples.append(["prompt": r.messages[last - 1 >= 0 ? last - 1 : 0].content, "reply": reply.text,
                                     "reference": r.messages[last].content])
            }
        }
        return out
    }

    /// Counts of `stopRate`.
    public struct StopRate: Sendable {
        public var replies = 0
        /// Replies that ended with `<|end|>` before the token limit.
        public var ended = 0
        /// Prompts too long to leave room for `maxTokens`.
        public var skipped = 0
        public var replyTokens = 0
        /// Replies to prompts of conversations that fit the context (those the loss is measured on).
        public var scoredReplies = 0
        /// … of which ended with `<|end|>`.
        public var scoredEnded = 0
        /// The first few (prompt, reply, reference) for a person to read.
        public var examples: [[String: String]] = []
        public var fraction: Double { replies > 0 ? Double(ended) / Double(replies) : .nan }
    }
}

/// What `lmkit finetune --evaluate` measures.
public struct SFTEvaluationParameters: Sendable {
    public var checkpoint: String
    public var dataPath: String
    public var vocabPath: String?
    public var valFraction: Double = 0.1
    public var splitSeed: UInt64 = 0
    public var skipLong = false
    /// Seed for growing a base model without chat tokens (as `finetune --seed`).
    public var seed: UInt64 = 1337
    /// Held-out prompts to answer (nil = all; 0 = none).
    public var replies: Int? = nil
    /// Token limit per reply (further limited by the room left in the context).
    public var maxTokens = 128
    public var sampling = SamplingParameters(temperature: 0)
    public var batchSize = 16
    public var threads = Threads.available
    public init(checkpoint: String, dataPath: String) { self.checkpoint = checkpoint; self.dataPath = dataPath }
}

/// Result of `lmkit finetune --evaluate`.
public struct SFTEvaluationResult: Sendable {
    public var valConversations: Int
    public var valAssistantTokens: Int
    /// Mean loss (nats) per assistant token on the held-out conversations.
    public var valAssistantLoss: Double
    public var stop: SFTEvaluation.StopRate
    /// True when the checkpoint lacked rows for the chat tokens and was grown (a base model).
    public var grown: Bool
    /// Held-out conversations too long to score whose prompts were answered too (`skipLong`).
    public var longHeldOut: Int
}

extension SFTEvaluation {
    /// Loads the checkpoint (growing it as `finetune` would when the vocab has more ids), splits
    /// the data as `finetune` does and measures the held-out assistant loss and stop rate.
    public static func run(_ p: SFTEvaluationParameters) throws -> SFTEvaluationResult {
        try p.sampling.validate()
        BLAS.setThreads(p.threads)
        var (model, vocab, vocabFile) = try Finetune.loadModelAndVocab(checkpoint: p.checkpoint, vocabPath: p.vocabPath)
        let template = try ChatTemplate(tokenizer: try BPETokenizer(vocab), file: vocabFile)
        let grown = vocab.idLimit > model.config.vocabSize
        if grown { model = model.growingVocabulary(to: vocab.idLimit, seed: SeededRNG.derive(p.seed, 4)) }
        model.threads = p.threads
        let data = try SFTDataset.load(p.dataPath, template: template, context: model.config.context,
                                       valFraction: p.valFraction, splitSeed: p.splitSeed, skipLong: p.skipLong)
        guard !data.val.isEmpty else {
            throw LMError.badInput(file: p.dataPath, "no conversation is held out for validation", fix: "pass --val-fraction above 0")
        }
        let (loss, tokens) = assistantLoss(model: model, examples: data.val, batchSize: p.batchSize, padID: template.endID)
        let stop = p.replies == 0 ? StopRate() :
            stopRate(model: model, template: template, records: data.valRecords, limit: p.replies,
                     maxTokens: p.maxTokens, sampling: p.sampling)
        return SFTEvaluationResult(valConversations: data.val.count, valAssistantTokens: tokens,
                                   valAssistantLoss: loss, stop: stop, grown: grown,
                                   longHeldOut: data.valRecords.count - data.val.count)
    }
}

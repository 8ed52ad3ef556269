import Foundation
import LMKernels
import LMModel
import LMSupport
import LMTokenizer

/// What `lmkit chat` needs.
public struct ChatParameters: Sendable {
    /// A run directory of `lmkit finetune` (model + vocab with the chat tokens).
    public var checkpoint: String
    /// Vocab file; nil = CHECKPOINT/vocab.vocab.
    public var vocabPath: String?
    /// Token limit per reply.
    public var maxTokens = 256
    public var system: String?
    public var sampling = SamplingParameters()
    public var threads = Threads.available
    public init(checkpoint: String) { self.checkpoint = checkpoint }
}

/// Opening chat sessions and reading conversations for `lmkit chat`.
public enum Chat {
    /// Loads the checkpoint and its vocab and starts a session. Throws one `LMError` when the
    /// checkpoint is missing, the vocab lacks the chat tokens, or the model has no rows for them
    /// (a base model: fine-tune it first).
    public static func open(_ p: ChatParameters) throws -> ChatSession {
        try p.sampling.validate()
        BLAS.setThreads(p.threads)
        let (model, tokenizer) = try CheckpointLoader.load(p.checkpoint, vocabPath: p.vocabPath)
        model.threads = p.threads
        let template = try ChatTemplate(tokenizer: tokenizer, file: p.vocabPath ?? p.checkpoint + "/" + Pretrain.vocabFileName)
        if let system = p.system, template.promptIDs([ChatMessage(.system, system)]).count + 2 > model.config.context {
            throw LMError.badInput("--system is longer than the model's context of \(model.config.context) tokens", fix: "shorten it")
        }
        return ChatSession(model: model, template: template, sampling: p.sampling, maxTokens: p.maxTokens, system: p.system)
    }

    /// A conversation `{"messages": [...]}` (as in the SFT chat format) whose last message is the
    /// user's; `file` names it in errors.
    public static func parseConversation(_ text: String, file: String) throws -> [ChatMessage] {
        let any: Any
        do { any = try JSONSerialization.jsonObject(with: Data(text.utf8)) } catch {
            throw LMError.badInput(file: file, "not valid JSON (\(SFTData.shortReason(error)))", fix: "pass {\"messages\": [{\"role\": \"user\", \"content\": \"...\"}]}")
        }
        let r = try SFTData.record(any, location: "conversation", file: file, requireAssistant: false)
        guard r.messages.last?.role == .user else {
            throw LMError.badInput(file: file, "conversation: the last message is not the user's, so there is nothing to answer",
                                   fix: "end the messages with a user message")
        }
        return r.messages
    }
}

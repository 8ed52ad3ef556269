import Foundation
import LMModel
import LMSupport
import LMTokenizer

/// Why a reply ended.
public enum ReplyStop: String, Sendable, Codable {
    /// The model produced `<|end|>` (not part of the reply text).
    case end
    /// `maxTokens` were generated without `<|end|>`.
    case maxTokens = "max_tokens"
    /// The context window filled up.
    case context
}

/// One generated assistant message.
public struct ChatReply: Sendable {
    /// Generated ids, without the closing `<|end|>`.
    public var ids: [Int32]
    /// Their text (invalid UTF-8 replaced).
    public var text: String
    public var stop: ReplyStop
    /// Tokens of the prompt the reply was generated from.
    public var promptTokens: Int
    /// Oldest messages dropped from the conversation to make it fit the context.
    public var droppedMessages: Int
}

/// A multi-turn conversation with a chat-tuned GPT: keeps the messages, renders them with the
/// `ChatTemplate`, generates each reply with the KV cache (`InferenceSession`) token by token.
///
/// Context: a reply needs room for `replyRoom` = min(maxTokens, context / 2) tokens after the
/// prompt. When the prompt would leave less, the oldest turns (a user message and the reply to
/// it; a system message at the start is kept) are dropped until it fits; a single message too long to fit throws `LMError.badInput`.
/// The prompt is re-read for every turn (cheap next to generation for lmkit-sized models).
public final class ChatSession {
    public let model: GPT
    public let template: ChatTemplate
    public let maxTokens: Int
    /// An optional system message kept at the start of the conversation (also after `reset`).
    public let system: String?
    /// The conversation so far (system message first if any).
    public private(set) var messages: [ChatMessage] = []
    var sampler: TokenSampler
    let session: InferenceSession

    public init(model: GPT, template: ChatTemplate, sampling: SamplingParameters, maxTokens: Int, system: String? = nil) {
        self.model = model
        self.template = template
        self.maxTokens = maxTokens
        self.system = system
        sampler = TokenSampler(sampling)
        session = InferenceSession(model)
        reset()
    }

    /// Forgets the conversation (keeps the system message).
    public func reset() {
        messages = system.map { [ChatMessage(.system, $0)] } ?? []
    }

    /// Replaces the conversation (e.g. one read from JSON).
    public func load(_ conversation: [ChatMessage]) { messages = conversation }

    /// Tokens kept free for the reply.
    public var replyRoom: Int { max(1, min(maxTokens, model.config.context / 2)) }

    /// Adds the user's message, generates and records the reply; `emit` gets each token's bytes.
    public func send(_ text: String, emit: ([UInt8]) -> Void) throws -> ChatReply {
        messages.append(ChatMessage(.user, text))
        do {
            return try respond(emit: emit)
        } catch {
            messages.removeLast()
            throw error
        }
    }

    /// Generates the assistant's reply to the conversation as it is (its last message is
    /// normally the user's) and appends it.
    public func respond(emit: ([UInt8]) -> Void) throws -> ChatReply {
        let context = model.config.context
        var dropped = 0
        var kept = messages
        var prompt = template.promptIDs(kept)
        while prompt.count + replyRoom > context {
            let first = kept.first?.role == .system ? 1 : 0
            guard kept.count - first > 1 else {
                throw LMError.badInput("the message is \(prompt.count) tokens with the template; with room for a reply (\(replyRoom)) it does not fit the model's context of \(context) tokens",
                                       fix: "send a shorter message (or lower --max-tokens)")
            }
            // Drop the oldest turn: its user message and the assistant's reply to it.
            kept.remove(at: first)
            dropped += 1
            while kept.count - first > 1 && kept[first].role == .assistant { kept.remove(at: first); dropped += 1 }
            prompt = template.promptIDs(kept)
        }
        var reply = ChatSession.generate(session: session, template: template, prompt: prompt,
                                         maxTokens: maxTokens, sampler: &sampler, emit: emit)
        reply.droppedMessages = dropped
        messages = kept + [ChatMessage(.assistant, reply.text)]
        return reply
    }

    /// Feeds `prompt` and samples until `<|end|>`, `maxTokens` or a full context.
    public static func generate(session: InferenceSession, template: ChatTemplate, prompt: [Int32], maxTokens: Int,
                                sampler: inout TokenSampler, emit: ([UInt8]) -> Void) -> ChatReply {
        let context = session.model.config.context
        session.reset()
        var logits: [Float] = []
        for t in prompt { logits = session.append(t) }
        var ids: [Int32] = []
        var bytes: [UInt8] = []
        var stop = ReplyStop.maxTokens
        while ids.count < maxTokens {
            let next = Int32(sampler.sample(logits))
            if next == template.endID { stop = .end; break }
            ids.append(next)
            let b = (try? template.tokenizer.decode([next])) ?? []
            bytes += b
            emit(b)
            if session.count >= context { stop = .context; break }
            logits = session.append(next)
        }
        return ChatReply(ids: ids, text: String(decoding: bytes, as: UTF8.self), stop: stop,
                         promptTokens: prompt.count, droppedMessages: 0)
    }
}

import LMKernels
import LMSupport

/// Token-by-token inference with a key/value cache: each `append` costs O(L·C² + L·t·C) for the
/// t tokens seen so far, instead of re-running the whole prefix.
///
///     let session = InferenceSession(model)
///     var logits = session.append(prompt[0])   // V logits for the next token
///     for t in prompt.dropFirst() { logits = session.append(t) }
public final class InferenceSession {
    /// The model this session reads (its weights must not change while the session is used).
    public let model: GPT
    /// Tokens appended so far (≤ `model.config.context`).
    public private(set) var count = 0

    public init(_ model: GPT) {
        self.model = model
    }

    /// Feeds one token (0..<V) at position `count` and returns the V logits for the next token.
    /// Precondition: `count < model.config.context` (call `reset()` to start over).
    public func append(_ token: Int32) -> [Float] {
        fatalError("InferenceSession.append: not implemented yet")
    }

    /// Forgets every appended token.
    public func reset() { count = 0 }
}

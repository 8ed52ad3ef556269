import LMKernels
import LMSupport

/// Token-by-token inference with a key/value cache: each `append` costs O(L·C² + L·t·C + Vp·C)
/// for the t tokens seen so far, instead of re-running the whole prefix.
///
///     let session = InferenceSession(model)
///     var logits = session.append(prompt[0])   // V logits for the next token
///     for t in prompt.dropFirst() { logits = session.append(t) }
///
/// Performance notes: the matmuls are sgemm calls with one row (OpenBLAS treats them as
/// matrix-vector products). Inside the blocks OpenBLAS runs single-threaded: waking its second
/// thread for each of the ~4L small products cost more than it saved on a busy 2-core machine;
/// only the Vp × C head uses all threads. Attention over the cache is a pointer loop per head
/// (t·hs MACs); the first version indexed Swift arrays held by the class, whose exclusivity and
/// bounds checks made `small` run at ~90 tokens/s. All buffers are one allocation made in `init`.
/// It is the one-row case of `BatchInferenceSession`, which holds the kernels.
public final class InferenceSession {
    /// The model this session reads (its weights must not change while the session is used).
    public var model: GPT { batch.model }
    /// Tokens appended so far (≤ `model.config.context`).
    public var count: Int { batch.counts[0] }

    /// The one-row case of the batched session (same kernels, same order).
    private let batch: BatchInferenceSession

    public init(_ model: GPT) {
        batch = BatchInferenceSession(model, capacity: 1)
    }

    /// Feeds one token (0..<V) at position `count` and returns the V logits for the next token.
    /// Precondition: `count < model.config.context` (call `reset()` to start over).
    public func append(_ token: Int32) -> [Float] {
        batch.append([token], rows: [0])[0]
    }

    /// Forgets every appended token.
    public func reset() { batch.reset(row: 0) }
}

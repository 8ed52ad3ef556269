import LMKernels
import LMSupport

extension GPT {
    /// Runs the model on `inputs` (B·T token ids, row-major (B, T), each in 0..<V) and keeps the
    /// activations for `backward()`. With `targets` (B·T ids, −1 = no loss at that position)
    /// returns the mean cross-entropy over positions whose target is not −1 (0 if none);
    /// without targets returns 0 and `backward()` is not allowed. T ≤ `config.context`.
    @discardableResult
    public func forward(inputs: [Int32], targets: [Int32]?, batch: Int, time: Int) -> Float {
        fatalError("GPT.forward: not implemented yet")
    }

    /// Adds ∂loss/∂parameters of the last `forward` (which must have had targets) to `gradients`.
    /// Overwrites the stored logits with ∂loss/∂logits.
    public func backward() {
        fatalError("GPT.backward: not implemented yet")
    }

    /// The logits of the last `forward`, (B, T, Vp) row-major; entries V..<Vp of each row are
    /// meaningless (masked in the loss). Valid until the next `backward()`.
    public var logits: [Float] {
        fatalError("GPT.logits: not implemented yet")
    }
}

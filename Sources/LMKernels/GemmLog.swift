import Foundation

/// Records the arguments of every `Matmul.gemm` call while on, so that a benchmark can replay
/// a training step's matrix products alone (`lmkit-bench model`: the step's sgemm floor).
/// Off by default; when off, a call costs one load and a branch. Not for concurrent `start`/`stop`.
public enum GemmLog {
    /// One `cblas_sgemm` call's shape: C (m×n, leading dimension ldc) = op(A)·op(B) + β·C,
    /// row-major, op(A) m×k, op(B) k×n; leading dimensions in floats.
    public struct Call: Hashable, Sendable {
        public var transA: Bool, transB: Bool
        public var m: Int, n: Int, k: Int
        public var lda: Int, ldb: Int, ldc: Int
        public var beta: Float
        /// Multiply-adds × 2.
        public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
        /// Floats A, B and C span in memory (rows × leading dimension).
        public var aFloats: Int { (transA ? k : m) * lda }
        public var bFloats: Int { (transB ? n : k) * ldb }
        public var cFloats: Int { m * ldc }
    }

    nonisolated(unsafe) static var enabled = false
    nonisolated(unsafe) private static var calls: [Call] = []
    private static let lock = NSLock()

    /// Starts recording (forgets earlier calls).
    public static func start() {
        lock.lock(); defer { lock.unlock() }
        calls = []
        enabled = true
    }

    /// Stops recording and returns the calls made since `start`, in completion order.
    public static func stop() -> [Call] {
        lock.lock(); defer { lock.unlock() }
        enabled = false
        return calls
    }

    /// Appends one call (any thread).
    static func record(_ call: Call) {
        lock.lock(); defer { lock.unlock() }
        calls.append(call)
    }
}

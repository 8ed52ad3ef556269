import Foundation

/// Buffered writes to stdout (fd 1) that are safe under Swift 6 strict concurrency.
///
/// `print` is fine for a few lines; use this for bulk output (ids, decoded text, shards
/// `cat`) and call `flush()` when a partial result should appear now (streamed tokens).
public final class StandardOutput: @unchecked Sendable {
    /// The process-wide instance.
    public static let shared = StandardOutput()
    private var buffer: [UInt8] = []
    private let lock = NSLock()
    private let limit = 1 << 16

    /// Appends a string as UTF-8; flushes when the buffer is full.
    public func write(_ s: String) { write(Array(s.utf8)) }

    /// Appends bytes; flushes when the buffer is full.
    public func write(_ bytes: [UInt8]) {
        lock.lock(); defer { lock.unlock() }
        buffer.append(contentsOf: bytes)
        if buffer.count >= limit { flushLocked() }
    }

    /// Writes out everything buffered.
    public func flush() {
        lock.lock(); defer { lock.unlock() }
        flushLocked()
    }

    private func flushLocked() {
        var offset = 0
        buffer.withUnsafeBytes { p in
            while offset < p.count {
                let n = Foundation.write(1, p.baseAddress! + offset, p.count - offset)
                if n <= 0 { break }  // EPIPE etc.: nothing sensible to do but stop
                offset += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

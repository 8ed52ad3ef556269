import Foundation
import LMKernels
import LMSupport

/// AdamW's state: both moment buffers (same layout as the parameters) and the number of steps
/// taken. Saved as `RUN/optimizer.bin`.
///
/// `optimizer.bin` layout (little-endian):
///
///     offset  size  field
///     0       8     magic "LMKADAMW"
///     8       4     version (u32) = 1
///     12      4     reserved (u32) = 0
///     16      8     n: floats per moment buffer (u64)
///     24      8     step: AdamW steps taken (u64)
///     32      4n    first moment m (f32 × n)
///     32+4n   4n    second moment v (f32 × n)
///     32+8n   8     FNV-1a 64 of bytes [0, 32+8n) (u64)
public struct OptimizerState {
    public static let magic = Array("LMKADAMW".utf8)
    public static let version: UInt32 = 1
    /// File name inside a run directory.
    public static let fileName = "optimizer.bin"

    /// First moment (mean of gradients), n floats.
    public var firstMoment: [Float]
    /// Second moment (mean of squared gradients), n floats.
    public var secondMoment: [Float]
    /// AdamW steps taken so far (the next update uses step + 1 for bias correction).
    public var step: Int

    /// Zero moments for `count` parameters, step 0.
    public init(count: Int) {
        firstMoment = Array(repeating: 0, count: count)
        secondMoment = Array(repeating: 0, count: count)
        step = 0
    }

    /// Number of floats per moment buffer.
    public var count: Int { firstMoment.count }

    /// Applies one AdamW update to `parameters` with `gradients` (scaled by `gradScale`) and
    /// advances `step`.
    public mutating func apply(parameters: UnsafeMutableBufferPointer<Float>,
                               gradients: UnsafeBufferPointer<Float>, decayRanges: [Range<Int>],
                               hyper: AdamWHyperparameters, gradScale: Float, threads: Int) {
        step += 1
        let t = step
        firstMoment.withUnsafeMutableBufferPointer { m in
            secondMoment.withUnsafeMutableBufferPointer { v in
                AdamW.step(parameters: parameters, gradients: gradients, firstMoment: m, secondMoment: v,
                           decayRanges: decayRanges, step: t, hyper: hyper, gradScale: gradScale,
                           threads: threads)
            }
        }
    }

    /// Writes `optimizer.bin` atomically; returns the FNV-1a 64 hash stored in its trailer (hex).
    @discardableResult
    public func write(to path: String) throws -> String {
        var header = ByteWriter(capacity: 32)
        header.writeBytes(OptimizerState.magic)
        header.writeInteger(OptimizerState.version)
        header.writeInteger(UInt32(0))
        header.writeInteger(UInt64(count))
        header.writeInteger(UInt64(step))
        var hash = FNV1a64()
        let w = try AtomicFileWriter(path: path)
        hash.update(header.bytes)
        try w.write(header.bytes)
        for buffer in [firstMoment, secondMoment] {
            try buffer.withUnsafeBytes { raw in
                hash.update(raw)
                try w.write(raw)
            }
        }
        var trailer = ByteWriter(capacity: 8)
        trailer.writeInteger(hash.value)
        try w.write(trailer.bytes)
        try w.commit()
        return hash.hex
    }

    /// Reads and checks `optimizer.bin` (magic, version, size, checksum). `expectedCount` is the
    /// model's parameter count. Throws `LMError.badFormat`/`.mismatch` naming the file.
    public static func read(from path: String, expectedCount: Int) throws -> OptimizerState {
        let bytes = try FileIO.readBytes(path)
        let r = ByteReader(bytes)
        guard bytes.count >= 40, Array(bytes[0..<8]) == magic else {
            throw LMError.badFormat(file: path, "not an lmkit optimizer state (bad magic)",
                                    fix: "resume from a run directory written by lmkit pretrain")
        }
        let version: UInt32 = r.getInteger(at: 8)!
        guard version == OptimizerState.version else {
            throw LMError.badFormat(file: path, "optimizer state version \(version), expected \(OptimizerState.version)",
                                    fix: "resume with the lmkit version that wrote it")
        }
        let n = Int(r.getInteger(at: 16, as: UInt64.self)!)
        let step = Int(r.getInteger(at: 24, as: UInt64.self)!)
        guard n == expectedCount else {
            throw LMError.mismatch(file: path, "optimizer state holds \(n) parameters, the model has \(expectedCount)",
                                   fix: "resume with the same model configuration")
        }
        let end = 32 + 8 * n
        guard bytes.count == end + 8 else {
            throw LMError.badFormat(file: path, "truncated or oversized (\(bytes.count) bytes, expected \(end + 8))",
                                    fix: "the checkpoint is damaged; start a new run or restore a backup")
        }
        var hash = FNV1a64()
        bytes.withUnsafeBytes { hash.update(UnsafeRawBufferPointer(rebasing: $0[0..<end])) }
        guard hash.value == r.getInteger(at: end, as: UInt64.self)! else {
            throw LMError.badFormat(file: path, "checksum mismatch", fix: "the checkpoint is damaged; start a new run")
        }
        var state = OptimizerState(count: n)
        state.step = step
        bytes.withUnsafeBytes { raw in
            state.firstMoment.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[32..<(32 + 4 * n)])) }
            state.secondMoment.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[(32 + 4 * n)..<end])) }
        }
        return state
    }
}

extension FNV1a64 {
    /// Hash of a whole file (hex), or nil if it cannot be read.
    static func fileHex(_ path: String) -> String? {
        guard let bytes = try? FileIO.readBytes(path) else { return nil }
        var h = FNV1a64()
        h.update(bytes)
        return h.hex
    }
}

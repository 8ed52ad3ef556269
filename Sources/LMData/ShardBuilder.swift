import Dispatch
import Foundation
import LMCompression
import LMSupport

/// Builds one shard as tokens arrive: each full frame is converted, checksummed and compressed
/// on a background queue right away, so closing the shard only compresses its last frame and
/// writes the file. Produces the same bytes as `ShardWriter.write` for the same tokens.
///
/// Memory: the compressed frames plus one partial frame (not the shard's raw tokens).
/// Not thread-safe: one thread appends; the compression jobs run concurrently.
///
/// Performance notes: with whole-shard compression at close time, the sharder's tail (last
/// shards) and every close were serial; compressing frames as they fill overlaps compression
/// with encoding on all cores.
final class ShardBuilder: @unchecked Sendable {
    let path: String
    let options: ShardWriter.Options
    private let width: Int
    private var pending: [UInt32] = []
    /// Tokens appended so far.
    private(set) var tokenCount = 0
    /// Exclusive ends of the documents appended so far.
    private(set) var documentEnds: [Int] = []
    private var submitted = 0
    private var results: [Int: Result<ShardWriter.CompressedFrame, LMError>] = [:]
    private let lock = NSLock()
    private let group = DispatchGroup()
    private static let queue = DispatchQueue(label: "lmkit.frame-compress", attributes: .concurrent)
    private static let pool = CompressorPool()
    /// Receives CPU time as stages "compress" (per frame: width conversion, CRC, zstd) and
    /// "write" (index, CRCs of the compressed frames, file write and fsync).
    var clock: StageClock?

    init(path: String, options: ShardWriter.Options) {
        self.path = path
        self.options = options
        width = ShardFormat.tokenWidth(vocabSize: options.vocabSize)
        pending.reserveCapacity(options.frameTokens)
    }

    /// Appends ids; full frames go to compression.
    func append(_ ids: [UInt32]) {
        var k = 0
        let ft = options.frameTokens
        while k < ids.count {
            let n = min(ft - pending.count, ids.count - k)
            pending.append(contentsOf: ids[k..<(k + n)])
            k += n
            if pending.count == ft { submitPending() }
        }
        tokenCount += ids.count
    }

    /// Appends one id.
    func append(_ id: UInt32) { append([id]) }

    /// Marks the end of a document at the current token count.
    func endDocument() { documentEnds.append(tokenCount) }

    private func submitPending() {
        let frame = pending
        pending = []
        pending.reserveCapacity(options.frameTokens)
        let index = submitted
        submitted += 1
        let (options, width, path, clock) = (self.options, self.width, self.path, self.clock)
        Self.queue.async(group: group) { [self] in
            let t0 = threadCPUSeconds()
            defer { clock?.add("compress", threadCPUSeconds() - t0) }
            let c = Self.pool.take()
            let r = frame.withUnsafeBufferPointer {
                ShardWriter.compressFrame($0, index: index, width: width, options: options, compressor: c, path: path)
            }
            Self.pool.give(c)
            lock.lock(); results[index] = r; lock.unlock()
        }
    }

    /// Compresses the last frame, waits for all, writes the file (temp + rename).
    func finish() throws -> ShardWriter.Written {
        if !pending.isEmpty { submitPending() }
        group.wait()
        guard tokenCount > 0 else {
            throw LMError.badInput(file: path, "no tokens to write", fix: "give the shard at least one token")
        }
        lock.lock()
        let frames = try (0..<submitted).map { try results[$0]!.get() }
        results = [:]
        lock.unlock()
        let t0 = threadCPUSeconds()
        defer { clock?.add("write", threadCPUSeconds() - t0) }
        return try ShardWriter.assemble(frames: frames, tokenCount: tokenCount, documentEnds: documentEnds,
                                        to: path, options: options)
    }
}

/// Reusable zstd compression contexts shared by the frame-compression jobs.
final class CompressorPool: @unchecked Sendable {
    private var free: [ZstdFrame.Compressor] = []
    private let lock = NSLock()
    func take() -> ZstdFrame.Compressor {
        lock.lock(); defer { lock.unlock() }
        return free.popLast() ?? ZstdFrame.Compressor()
    }
    func give(_ c: ZstdFrame.Compressor) {
        lock.lock(); free.append(c); lock.unlock()
    }
}

import Foundation
import LMCompression
import LMSupport

/// Writes one `.lmshard` file from tokens held in memory: splits them into frames of
/// `frameTokens`, compresses the frames in parallel, and writes header + frames + index to a
/// temporary name that is renamed into place only when complete (`AtomicFileWriter`).
///
///     let info = try ShardWriter.write(tokens: ids, documentEnds: [3, 7], to: "out/train-00000.lmshard",
///                                      options: .init(vocabSize: 50257, vocabFingerprint: fp))
///
/// Complexity: O(tokens); memory ≈ compressed size + one frame per thread.
/// Performance notes: frames are compressed on `threads` threads, each thread converting its
/// frames to the on-disk width, checksumming and compressing with one reused zstd context;
/// `lmkit-bench data` measured 21–46 M tokens/s on 2 threads of a heavily shared 2-core machine
/// (zstd -3 of u16 ids); in `lmkit shard` encoding costs ~10× more CPU than this.
public enum ShardWriter {
    /// How shards are written.
    public struct Options: Sendable {
        /// Ids the vocabulary defines; tokens must be `< vocabSize`. Chooses u16 or u32 width.
        public var vocabSize: Int
        /// Vocabulary identity stored in the header.
        public var vocabFingerprint: UInt64
        /// Tokens per frame (the unit of random access and of checksums).
        public var frameTokens: Int = ShardFormat.defaultFrameTokens
        /// zstd level (1...19; default `ShardFormat.defaultLevel`).
        public var level: Int = ShardFormat.defaultLevel
        /// Compression threads.
        public var threads: Int = Threads.available

        public init(vocabSize: Int, vocabFingerprint: UInt64, frameTokens: Int = ShardFormat.defaultFrameTokens,
                    level: Int = ShardFormat.defaultLevel, threads: Int = Threads.available) {
            self.vocabSize = vocabSize
            self.vocabFingerprint = vocabFingerprint
            self.frameTokens = frameTokens
            self.level = level
            self.threads = threads
        }
    }

    /// What was written.
    public struct Written: Sendable, Equatable {
        public var path: String
        public var tokens: Int
        public var documents: Int
        public var frames: Int
        /// Size of the file in bytes.
        public var bytes: Int
    }

    /// Writes `tokens` (ids) with `documentEnds` (exclusive token offsets, strictly increasing,
    /// ≤ tokens.count) to `path`. Throws `LMError.badInput` for an id ≥ vocabSize.
    @discardableResult
    public static func write(tokens: [UInt32], documentEnds: [Int], to path: String,
                             options: Options) throws -> Written {
        try tokens.withUnsafeBufferPointer {
            try write(tokens: $0, documentEnds: documentEnds, to: path, options: options)
        }
    }

    /// Pointer form of `write(tokens:documentEnds:to:options:)`.
    @discardableResult
    public static func write(tokens: UnsafeBufferPointer<UInt32>, documentEnds: [Int], to path: String,
                             options: Options) throws -> Written {
        guard tokens.count > 0 else {
            throw LMError.badInput(file: path, "no tokens to write", fix: "give the shard at least one token")
        }
        guard options.frameTokens > 0, options.frameTokens <= 1 << 28 else {
            throw LMError.badInput(file: path, "frame size \(options.frameTokens) tokens is out of range (1...2^28)")
        }
        guard options.vocabSize > 0, options.vocabSize <= Int(UInt32.max) else {
            throw LMError.badInput(file: path, "vocab size \(options.vocabSize) is out of range")
        }
        var previous = 0
        for e in documentEnds {
            guard e > previous, e <= tokens.count else {
                throw LMError.badInput(file: path, "document end \(e) is not increasing or exceeds \(tokens.count) tokens")
            }
            previous = e
        }
        let width = ShardFormat.tokenWidth(vocabSize: options.vocabSize)
        let ft = options.frameTokens
        let frameCount = (tokens.count + ft - 1) / ft
        let compressed = ResultSlots<Result<CompressedFrame, LMError>>(count: frameCount)
        let src = SendableConstPointer(tokens.baseAddress!)
        let total = tokens.count
        Parallel.forRanges(frameCount, parts: max(1, options.threads)) { range in
            let compressor = ZstdFrame.Compressor()
            for f in range {
                let lo = f * ft
                let n = min(ft, total - lo)
                compressed[f] = compressFrame(UnsafeBufferPointer(start: src.pointer + lo, count: n), index: f,
                                              width: width, options: options, compressor: compressor, path: path)
            }
        }
        return try assemble(frames: (0..<frameCount).map { try compressed[$0]!.get() }, tokenCount: total,
                            documentEnds: documentEnds, to: path, options: options)
    }

    /// One compressed frame and the facts its index entry needs.
    struct CompressedFrame: Sendable {
        var bytes: [UInt8]
        var tokenCount: Int
        var tokensCRC: UInt32
    }

    /// Converts `tokens` to the on-disk width, checks ids, checksums and compresses them.
    static func compressFrame(_ tokens: UnsafeBufferPointer<UInt32>, index f: Int, width: Int, options: Options,
                              compressor: ZstdFrame.Compressor, path: String) -> Result<CompressedFrame, LMError> {
        let n = tokens.count
        var maxID: UInt32 = 0
        let body = UnsafeRawBufferPointer(compressor.stagingBuffer(count: n * width))
        let dst = UnsafeMutableRawPointer(mutating: body.baseAddress!)
        if width == 2 {
            let d = dst.bindMemory(to: UInt16.self, capacity: n)
            for i in 0..<n {
                let t = tokens[i]
                maxID = max(maxID, t)
                d[i] = UInt16(truncatingIfNeeded: t).littleEndian
            }
        } else {
            let d = dst.bindMemory(to: UInt32.self, capacity: n)
            for i in 0..<n {
                let t = tokens[i]
                maxID = max(maxID, t)
                d[i] = t.littleEndian
            }
        }
        if maxID >= UInt32(truncatingIfNeeded: options.vocabSize) {
            return .failure(LMError.badInput(file: path,
                "token id \(maxID) in frame \(f) is outside the vocabulary (size \(options.vocabSize))",
                fix: "shard with the vocabulary that produced these ids"))
        }
        do {
            return .success(CompressedFrame(bytes: try compressor.compress(body, level: options.level),
                                            tokenCount: n, tokensCRC: CRC32.checksum(body)))
        } catch let e as LMError {
            return .failure(e)
        } catch {
            return .failure(LMError.io(file: path, "\(error)"))
        }
    }

    /// Writes header + `frames` + index to `path` atomically.
    static func assemble(frames compressed: [CompressedFrame], tokenCount total: Int, documentEnds: [Int],
                         to path: String, options: Options) throws -> Written {
        var frames: [FrameEntry] = []
        frames.reserveCapacity(compressed.count)
        var offset = ShardFormat.headerSize
        for c in compressed {
            frames.append(FrameEntry(offset: offset, compressedSize: c.bytes.count, tokenCount: c.tokenCount,
                                     compressedCRC: CRC32.checksum(c.bytes), tokensCRC: c.tokensCRC))
            offset += c.bytes.count
        }
        let header = ShardHeader(tokenWidth: ShardFormat.tokenWidth(vocabSize: options.vocabSize),
                                 vocabFingerprint: options.vocabFingerprint,
                                 vocabSize: options.vocabSize, tokenCount: total,
                                 documentCount: documentEnds.count, frameTokens: options.frameTokens,
                                 frameCount: compressed.count, indexOffset: offset)
        let writer = try AtomicFileWriter(path: path)
        try writer.write(header.encoded())
        for c in compressed { try writer.write(c.bytes) }
        try writer.write(ShardIndex(frames: frames, documentEnds: documentEnds).encoded())
        try writer.commit()
        return Written(path: path, tokens: total, documents: documentEnds.count, frames: compressed.count,
                       bytes: header.fileSize)
    }
}

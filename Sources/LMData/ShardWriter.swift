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
/// at level 3 this runs at ~150–250 M tokens/s per core for u16 text tokens, so compression is a
/// small fraction of sharding time (encoding dominates).
public enum ShardWriter {
    /// How shards are written.
    public struct Options: Sendable {
        /// Ids the vocabulary defines; tokens must be `< vocabSize`. Chooses u16 or u32 width.
        public var vocabSize: Int
        /// Vocabulary identity stored in the header.
        public var vocabFingerprint: UInt64
        /// Tokens per frame (the unit of random access and of checksums).
        public var frameTokens: Int = ShardFormat.defaultFrameTokens
        /// zstd level (1...19; 3 is zstd's default).
        public var level: Int = 3
        /// Compression threads.
        public var threads: Int = Threads.available

        public init(vocabSize: Int, vocabFingerprint: UInt64, frameTokens: Int = ShardFormat.defaultFrameTokens,
                    level: Int = 3, threads: Int = Threads.available) {
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
        let compressed = ResultSlots<Result<([UInt8], UInt32), LMError>>(count: frameCount)
        let src = SendableConstPointer(tokens.baseAddress!)
        let total = tokens.count
        let vocabSize = UInt32(truncatingIfNeeded: options.vocabSize)
        let level = options.level
        Parallel.forRanges(frameCount, parts: max(1, options.threads)) { range in
            let compressor = ZstdFrame.Compressor()
            var raw = [UInt8](repeating: 0, count: ft * width)
            for f in range {
                let lo = f * ft
                let n = min(ft, total - lo)
                var maxID: UInt32 = 0
                raw.withUnsafeMutableBytes { dst in
                    if width == 2 {
                        let d = dst.baseAddress!.assumingMemoryBound(to: UInt16.self)
                        for i in 0..<n {
                            let t = src[lo &+ i]
                            maxID = max(maxID, t)
                            d[i] = UInt16(truncatingIfNeeded: t).littleEndian
                        }
                    } else {
                        let d = dst.baseAddress!.assumingMemoryBound(to: UInt32.self)
                        for i in 0..<n {
                            let t = src[lo &+ i]
                            maxID = max(maxID, t)
                            d[i] = t.littleEndian
                        }
                    }
                }
                if maxID >= vocabSize {
                    compressed[f] = .failure(LMError.badInput(file: path,
                        "token id \(maxID) in frame \(f) is outside the vocabulary (size \(vocabSize))",
                        fix: "shard with the vocabulary that produced these ids"))
                    continue
                }
                let result: Result<([UInt8], UInt32), LMError> = raw.withUnsafeBytes { p in
                    let body = UnsafeRawBufferPointer(rebasing: p[0..<(n * width)])
                    do {
                        return .success((try compressor.compress(body, level: level), CRC32.checksum(body)))
                    } catch let e as LMError {
                        return .failure(e)
                    } catch {
                        return .failure(LMError.io(file: path, "\(error)"))
                    }
                }
                compressed[f] = result
            }
        }
        var frames: [FrameEntry] = []
        frames.reserveCapacity(frameCount)
        var offset = ShardFormat.headerSize
        var payloads: [[UInt8]] = []
        payloads.reserveCapacity(frameCount)
        for f in 0..<frameCount {
            let (bytes, tokensCRC) = try compressed[f]!.get()
            frames.append(FrameEntry(offset: offset, compressedSize: bytes.count,
                                     tokenCount: min(ft, total - f * ft),
                                     compressedCRC: CRC32.checksum(bytes), tokensCRC: tokensCRC))
            offset += bytes.count
            payloads.append(bytes)
        }
        let header = ShardHeader(tokenWidth: width, vocabFingerprint: options.vocabFingerprint,
                                 vocabSize: options.vocabSize, tokenCount: total,
                                 documentCount: documentEnds.count, frameTokens: ft,
                                 frameCount: frameCount, indexOffset: offset)
        let writer = try AtomicFileWriter(path: path)
        try writer.write(header.encoded())
        for p in payloads { try writer.write(p) }
        try writer.write(ShardIndex(frames: frames, documentEnds: documentEnds).encoded())
        try writer.commit()
        return Written(path: path, tokens: total, documents: documentEnds.count, frames: frameCount,
                       bytes: header.fileSize)
    }
}

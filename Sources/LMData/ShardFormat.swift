import LMCompression
import LMSupport

/// The `.lmshard` file layout (version 1), documented byte by byte in `docs/SHARD_FORMAT.md`.
///
/// ```
/// [0, 64)                 header (magic, version, widths, counts, index offset, header CRC-32)
/// [64, indexOffset)       frames: independent zstd frames, back to back, in token order
/// [indexOffset, end)      index: frame entries (24 B each), document ends (8 B each), CRC-32
/// ```
/// Every byte is covered by a checksum: the header by its CRC, each frame by the CRC of its
/// compressed bytes (and of its decoded tokens), the index by its trailing CRC; frames must
/// tile `[64, indexOffset)` exactly and the file must end where the index ends.
public enum ShardFormat {
    /// First 8 bytes of every shard: "LMSHARD" and a zero byte.
    public static let magic: [UInt8] = Array("LMSHARD".utf8) + [0]
    /// The version this code writes and reads.
    public static let version: UInt32 = 1
    /// Header size in bytes.
    public static let headerSize = 64
    /// Bytes per frame-index entry.
    public static let frameEntrySize = 24
    /// Bytes per document end.
    public static let documentEntrySize = 8
    /// File extension.
    public static let fileExtension = "lmshard"
    /// Default tokens per frame (128 KiB of u16 tokens).
    public static let defaultFrameTokens = 65_536
    /// Default zstd level of `lmkit shard`: 1, zstd's fastest regular level. On GPT-2 ids of the
    /// Gutenberg corpus it makes frames 4.7% larger than level 3 (1.358 vs 1.297 bytes/token,
    /// still 0.68 of the raw u16 size) for ~40% of level 3's compression CPU, so that compressing
    /// costs ~15% of what encoding does (the sharding target of BENCHMARKS.md). Any level
    /// 1...19 is accepted (`--level 19`: ~27% smaller than level 1, ~100× the compression time);
    /// readers do not depend on it.
    public static let defaultLevel = 1

    /// Token width for a vocabulary of `vocabSize` ids: 2 bytes when every id fits in u16.
    public static func tokenWidth(vocabSize: Int) -> Int { vocabSize <= 65_536 ? 2 : 4 }
}

/// The fixed 64-byte header of a shard.
public struct ShardHeader: Sendable, Equatable {
    /// Bytes per token on disk: 2 (u16) or 4 (u32).
    public var tokenWidth: Int
    /// Identity of the vocabulary the ids belong to (see `Manifest.vocabFingerprint`).
    public var vocabFingerprint: UInt64
    /// Number of ids the vocabulary defines; every token is `< vocabSize`.
    public var vocabSize: Int
    /// Tokens in the shard.
    public var tokenCount: Int
    /// Documents that end in the shard (each ends with the end-of-text id when sharded from text).
    public var documentCount: Int
    /// Tokens per frame; every frame but the last holds exactly this many.
    public var frameTokens: Int
    /// Number of frames: ceil(tokenCount / frameTokens).
    public var frameCount: Int
    /// Byte offset of the index (= 64 + total compressed frame bytes).
    public var indexOffset: Int

    public init(tokenWidth: Int, vocabFingerprint: UInt64, vocabSize: Int, tokenCount: Int,
                documentCount: Int, frameTokens: Int, frameCount: Int, indexOffset: Int) {
        self.tokenWidth = tokenWidth
        self.vocabFingerprint = vocabFingerprint
        self.vocabSize = vocabSize
        self.tokenCount = tokenCount
        self.documentCount = documentCount
        self.frameTokens = frameTokens
        self.frameCount = frameCount
        self.indexOffset = indexOffset
    }

    /// Size in bytes of the index section (frame entries, document ends, CRC).
    public var indexSize: Int {
        frameCount * ShardFormat.frameEntrySize + documentCount * ShardFormat.documentEntrySize + 4
    }

    /// Total file size implied by the header.
    public var fileSize: Int { indexOffset + indexSize }

    /// The 64 header bytes, CRC included.
    public func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: ShardFormat.headerSize)
        w.writeBytes(ShardFormat.magic)
        w.writeInteger(ShardFormat.version)
        w.writeInteger(UInt32(tokenWidth))
        w.writeInteger(vocabFingerprint)
        w.writeInteger(UInt64(tokenCount))
        w.writeInteger(UInt64(documentCount))
        w.writeInteger(UInt32(frameTokens))
        w.writeInteger(UInt32(frameCount))
        w.writeInteger(UInt64(indexOffset))
        w.writeInteger(UInt32(vocabSize))
        w.writeInteger(CRC32.checksum(w.bytes))
        return w.bytes
    }

    /// Parses and validates a header. `file` names the shard in errors; `fileSize` is the
    /// actual size on disk (a mismatch means truncation or trailing garbage).
    public static func decode(_ bytes: [UInt8], file: String, fileSize: Int) throws -> ShardHeader {
        func bad(_ what: String) -> LMError {
            LMError.badFormat(file: file, "header: \(what)",
                              fix: "the shard is corrupt or truncated; re-create it (lmkit shard re-makes bad shards)")
        }
        guard bytes.count >= ShardFormat.headerSize, fileSize >= ShardFormat.headerSize else {
            throw bad("file is \(fileSize) bytes, shorter than the 64-byte header")
        }
        guard Array(bytes[0..<8]) == ShardFormat.magic else {
            throw LMError.badFormat(file: file, "header: not an .lmshard file (magic bytes differ)",
                                    fix: "pass a directory made by lmkit shard, or convert with lmkit shards import")
        }
        let r = ByteReader(Array(bytes[0..<ShardFormat.headerSize]))
        let crc: UInt32 = r.getInteger(at: 60)!
        guard CRC32.checksum(Array(bytes[0..<60])) == crc else { throw bad("checksum mismatch") }
        let version: UInt32 = r.getInteger(at: 8)!
        guard version == ShardFormat.version else {
            throw LMError.badFormat(file: file, "header: format version \(version), this lmkit reads version \(ShardFormat.version)",
                                    fix: "use the lmkit that wrote it or re-create the shards")
        }
        let h = ShardHeader(
            tokenWidth: Int(r.getInteger(at: 12, as: UInt32.self)!),
            vocabFingerprint: r.getInteger(at: 16)!,
            vocabSize: Int(r.getInteger(at: 56, as: UInt32.self)!),
            tokenCount: Int(clamping: r.getInteger(at: 24, as: UInt64.self)!),
            documentCount: Int(clamping: r.getInteger(at: 32, as: UInt64.self)!),
            frameTokens: Int(r.getInteger(at: 40, as: UInt32.self)!),
            frameCount: Int(r.getInteger(at: 44, as: UInt32.self)!),
            indexOffset: Int(clamping: r.getInteger(at: 48, as: UInt64.self)!))
        guard h.tokenWidth == 2 || h.tokenWidth == 4 else { throw bad("token width \(h.tokenWidth), expected 2 or 4") }
        guard h.frameTokens > 0 else { throw bad("frame size is 0 tokens") }
        guard h.frameCount == (h.tokenCount + h.frameTokens - 1) / h.frameTokens else {
            throw bad("\(h.frameCount) frames cannot hold \(h.tokenCount) tokens of \(h.frameTokens) per frame")
        }
        guard h.documentCount <= h.tokenCount, h.indexOffset >= ShardFormat.headerSize,
              h.indexOffset <= fileSize else {
            throw bad("counts or index offset out of range")
        }
        guard h.fileSize == fileSize else {
            throw bad("file is \(fileSize) bytes but the header describes \(h.fileSize) (truncated or appended to)")
        }
        return h
    }
}

/// One entry of the frame index: where a frame is and how to check it.
public struct FrameEntry: Sendable, Equatable {
    /// Byte offset of the zstd frame in the file.
    public var offset: Int
    /// Compressed size in bytes.
    public var compressedSize: Int
    /// Tokens the frame decodes to.
    public var tokenCount: Int
    /// CRC-32 of the compressed bytes (checked before decompressing).
    public var compressedCRC: UInt32
    /// CRC-32 of the decoded little-endian token bytes (checked after decompressing).
    public var tokensCRC: UInt32

    public init(offset: Int, compressedSize: Int, tokenCount: Int, compressedCRC: UInt32, tokensCRC: UInt32) {
        self.offset = offset
        self.compressedSize = compressedSize
        self.tokenCount = tokenCount
        self.compressedCRC = compressedCRC
        self.tokensCRC = tokensCRC
    }
}

/// The parsed index section: frame entries and document ends.
public struct ShardIndex: Sendable, Equatable {
    public var frames: [FrameEntry]
    /// Exclusive end (token offset in the shard) of each document, strictly increasing.
    public var documentEnds: [Int]

    public init(frames: [FrameEntry], documentEnds: [Int]) {
        self.frames = frames
        self.documentEnds = documentEnds
    }

    /// The index bytes (entries, document ends, CRC-32 of both).
    public func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: frames.count * 24 + documentEnds.count * 8 + 4)
        for f in frames {
            w.writeInteger(UInt64(f.offset))
            w.writeInteger(UInt32(f.compressedSize))
            w.writeInteger(UInt32(f.tokenCount))
            w.writeInteger(f.compressedCRC)
            w.writeInteger(f.tokensCRC)
        }
        for d in documentEnds { w.writeInteger(UInt64(d)) }
        w.writeInteger(CRC32.checksum(w.bytes))
        return w.bytes
    }

    /// Parses and validates the index against its header.
    public static func decode(_ bytes: [UInt8], header h: ShardHeader, file: String) throws -> ShardIndex {
        func bad(_ what: String) -> LMError {
            LMError.badFormat(file: file, "index: \(what)",
                              fix: "the shard is corrupt; re-create it (lmkit shard re-makes bad shards)")
        }
        guard bytes.count == h.indexSize else { throw bad("is \(bytes.count) bytes, expected \(h.indexSize)") }
        let body = bytes.count - 4
        let r = ByteReader(bytes)
        let crc: UInt32 = r.getInteger(at: body)!
        guard bytes.withUnsafeBytes({ CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<body])) }) == crc else {
            throw bad("checksum mismatch")
        }
        var frames: [FrameEntry] = []
        frames.reserveCapacity(h.frameCount)
        var expectedOffset = ShardFormat.headerSize
        for i in 0..<h.frameCount {
            let o = i * ShardFormat.frameEntrySize
            let f = FrameEntry(offset: Int(clamping: r.getInteger(at: o, as: UInt64.self)!),
                               compressedSize: Int(r.getInteger(at: o + 8, as: UInt32.self)!),
                               tokenCount: Int(r.getInteger(at: o + 12, as: UInt32.self)!),
                               compressedCRC: r.getInteger(at: o + 16)!,
                               tokensCRC: r.getInteger(at: o + 20)!)
            let expectedTokens = i == h.frameCount - 1 ? h.tokenCount - i * h.frameTokens : h.frameTokens
            guard f.offset == expectedOffset, f.tokenCount == expectedTokens, f.compressedSize > 0 else {
                throw bad("frame \(i) entry is inconsistent (offset \(f.offset), \(f.tokenCount) tokens)")
            }
            expectedOffset += f.compressedSize
            frames.append(f)
        }
        guard expectedOffset == h.indexOffset else { throw bad("frames do not end at the index offset") }
        var ends: [Int] = []
        ends.reserveCapacity(h.documentCount)
        var previous = 0
        let base = h.frameCount * ShardFormat.frameEntrySize
        for d in 0..<h.documentCount {
            let e = Int(clamping: r.getInteger(at: base + d * 8, as: UInt64.self)!)
            guard e > previous, e <= h.tokenCount else { throw bad("document \(d) end \(e) out of order") }
            ends.append(e)
            previous = e
        }
        return ShardIndex(frames: frames, documentEnds: ends)
    }
}

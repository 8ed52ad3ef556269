import Foundation
import LMCompression
import LMSupport

/// Random access to the frames of one `.lmshard` file, with every checksum checked.
///
/// Opening reads and validates the 64-byte header and the index (not the frames). Each
/// `readFrame` reads one frame with `pread`, checks the CRC of its compressed bytes, decodes it,
/// checks the CRC of the decoded tokens and that every id is `< vocabSize`. Any failure is an
/// `LMError.badFormat` naming the shard file and the frame: never wrong tokens, never a crash.
///
///     let r = try ShardReader(path: "shards/train-00000.lmshard")
///     let ids = try r.readFrame(0)          // [UInt32], r.index.frames[0].tokenCount long
///     try r.verify()                        // every frame
///
/// Thread-safe: `pread` does not move a shared offset, and each call uses its own state.
public final class ShardReader: @unchecked Sendable {
    public let path: String
    public let header: ShardHeader
    public let index: ShardIndex
    private let fd: Int32

    /// Opens and validates header and index. Throws `LMError.io` if the file cannot be opened,
    /// `LMError.badFormat` if it is not a valid shard.
    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw LMError.io(file: path, "cannot open: \(String(cString: strerror(errno)))", fix: "check the path")
        }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw LMError.io(file: path, "is not a regular file", fix: "name a .lmshard file")
        }
        do {
            let size = Int(st.st_size)
            let head = try ShardReader.pread(fd, offset: 0, count: min(size, ShardFormat.headerSize), path: path)
            let h = try ShardHeader.decode(head, file: path, fileSize: size)
            let indexBytes = try ShardReader.pread(fd, offset: h.indexOffset, count: h.indexSize, path: path)
            index = try ShardIndex.decode(indexBytes, header: h, file: path)
            header = h
            self.fd = fd
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    /// File name without directories, for messages.
    public var name: String { (path as NSString).lastPathComponent }

    /// Decodes frame `i` into `[UInt32]` of `index.frames[i].tokenCount` ids.
    /// `checkTokens: false` skips the CRC of the decoded bytes (the loader's fast path: the CRC of
    /// the compressed bytes already covers every stored byte, and zstd checks the decoded size).
    public func readFrame(_ i: Int, decompressor: ZstdFrame.Decompressor? = nil,
                          checkTokens: Bool = true) throws -> [UInt32] {
        guard i >= 0, i < index.frames.count else {
            throw LMError.badInput(file: path, "frame \(i) does not exist (\(index.frames.count) frames)")
        }
        let n = index.frames[i].tokenCount
        return try [UInt32](unsafeUninitializedCapacity: n) { buffer, count in
            try readFrame(i, into: buffer, decompressor: decompressor, checkTokens: checkTokens)
            count = n
        }
    }

    /// Decodes frame `i` into `destination` (exactly `index.frames[i].tokenCount` ids).
    public func readFrame(_ i: Int, into destination: UnsafeMutableBufferPointer<UInt32>,
                          decompressor: ZstdFrame.Decompressor? = nil, checkTokens: Bool = true) throws {
        guard i >= 0, i < index.frames.count else {
            throw LMError.badInput(file: path, "frame \(i) does not exist (\(index.frames.count) frames)")
        }
        let f = index.frames[i]
        precondition(destination.count == f.tokenCount, "destination must hold the frame's tokens")
        func bad(_ what: String) -> LMError {
            LMError.badFormat(file: path, "frame \(i): \(what)",
                              fix: "the shard is corrupt; re-create it (lmkit shard re-makes bad shards)")
        }
        let compressed = try ShardReader.pread(fd, offset: f.offset, count: f.compressedSize, path: path)
        guard CRC32.checksum(compressed) == f.compressedCRC else { throw bad("checksum of compressed bytes mismatch") }
        let width = header.tokenWidth
        let d = decompressor ?? ZstdFrame.Decompressor()
        if width == 4 {
            try compressed.withUnsafeBytes { src in
                let dst = UnsafeMutableRawBufferPointer(destination)
                do { try d.decompress(src, into: dst) } catch let e as LMError { throw bad(e.message) }
                guard !checkTokens || CRC32.checksum(UnsafeRawBufferPointer(dst)) == f.tokensCRC else { throw bad("checksum of tokens mismatch") }
            }
            var maxID: UInt32 = 0
            for k in 0..<destination.count {
                let t = UInt32(littleEndian: destination[k])
                destination[k] = t
                maxID = max(maxID, t)
            }
            guard maxID < UInt32(truncatingIfNeeded: header.vocabSize) else { throw bad("token id \(maxID) ≥ vocab size \(header.vocabSize)") }
        } else {
            var raw = [UInt16](unsafeUninitializedCapacity: f.tokenCount) { _, c in c = f.tokenCount }
            try compressed.withUnsafeBytes { src in
                try raw.withUnsafeMutableBytes { dst in
                    do { try d.decompress(src, into: dst) } catch let e as LMError { throw bad(e.message) }
                    guard !checkTokens || CRC32.checksum(UnsafeRawBufferPointer(dst)) == f.tokensCRC else { throw bad("checksum of tokens mismatch") }
                }
            }
            var maxID: UInt16 = 0
            raw.withUnsafeBufferPointer { s in
                for k in 0..<s.count {
                    let t = UInt16(littleEndian: s[k])
                    destination[k] = UInt32(t)
                    maxID = max(maxID, t)
                }
            }
            guard Int(maxID) < header.vocabSize else { throw bad("token id \(maxID) ≥ vocab size \(header.vocabSize)") }
        }
    }

    /// All tokens of the shard, in order (reads every frame).
    public func readAll() throws -> [UInt32] {
        var out = [UInt32](repeating: 0, count: header.tokenCount)
        let d = ZstdFrame.Decompressor()
        try out.withUnsafeMutableBufferPointer { p in
            for (i, f) in index.frames.enumerated() {
                let lo = i * header.frameTokens
                try readFrame(i, into: UnsafeMutableBufferPointer(rebasing: p[lo..<(lo + f.tokenCount)]), decompressor: d)
            }
        }
        return out
    }

    /// Decodes and checks every frame; throws the first fault (naming the frame).
    public func verify() throws {
        let d = ZstdFrame.Decompressor()
        var buffer = [UInt32](repeating: 0, count: header.frameTokens)
        for (i, f) in index.frames.enumerated() {
            try buffer.withUnsafeMutableBufferPointer { p in
                try readFrame(i, into: UnsafeMutableBufferPointer(rebasing: p[0..<f.tokenCount]), decompressor: d)
            }
        }
    }

    private static func pread(_ fd: Int32, offset: Int, count: Int, path: String) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        try out.withUnsafeMutableBytes { p in
            while done < count {
                let n = Foundation.pread(fd, p.baseAddress! + done, count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw LMError.io(file: path, "read failed: \(String(cString: strerror(errno)))")
                }
                if n == 0 {
                    throw LMError.badFormat(file: path, "file ended at byte \(offset + done), expected \(offset + count)",
                                            fix: "the shard is truncated; re-create it")
                }
                done += n
            }
        }
        return out
    }
}

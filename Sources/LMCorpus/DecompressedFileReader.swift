import Foundation
import LMCompression
import LMSupport

/// Reads one corpus file as a stream of decompressed byte blocks (plain, zstd or gzip).
///
///     let r = try DecompressedFileReader(file)
///     while let block = try r.nextBlock() { … }   // blocks of ~1 MiB, in file order
///
/// Memory: one raw read buffer (1 MiB) plus the blocks the decoder produces; never the file.
/// Errors (`LMError`, naming the file): missing or unreadable file, corrupt or truncated data.
final class DecompressedFileReader {
    let file: CorpusFile
    private let fd: Int32
    private var raw: [UInt8]
    private var decoded: [UInt8] = []
    private var eof = false
    private let zstd: ZstdStreamDecoder?
    private let gzip: GzipStreamDecoder?
    /// Raw bytes read from disk so far (for progress over compressed files).
    private(set) var diskBytesRead: Int64 = 0

    static let readSize = 1 << 20

    init(_ file: CorpusFile) throws {
        self.file = file
        let fd = open(file.path, O_RDONLY)
        if fd < 0 {
            let err = String(cString: strerror(errno))
            throw LMError.io(file: file.path, "cannot open: \(err)", fix: "check the path and its permissions")
        }
        self.fd = fd
        raw = [UInt8](repeating: 0, count: DecompressedFileReader.readSize)
        switch file.compression {
        case .none: zstd = nil; gzip = nil
        case .zstd: zstd = try ZstdStreamDecoder(name: file.path); gzip = nil
        case .gzip: gzip = try GzipStreamDecoder(name: file.path); zstd = nil
        }
    }

    deinit { close(fd) }

    /// The next block of decompressed bytes (never empty), or nil at the end of the file.
    func nextBlock() throws -> [UInt8]? {
        decoded.removeAll(keepingCapacity: true)
        return try appendNextBlock(to: &decoded) ? decoded : nil
    }

    /// Appends the next block of decompressed bytes (never empty) to `out`; false at the end of
    /// the file. Saves the copy through a block array for callers that keep their own buffer.
    func appendNextBlock(to out: inout [UInt8]) throws -> Bool {
        while true {
            if eof { return false }
            let n = try readRaw()
            if n == 0 {
                eof = true
                try zstd?.finish()
                try gzip?.finish()
                return false
            }
            let before = out.count
            try raw.withUnsafeBytes { p in
                let input = UnsafeRawBufferPointer(rebasing: p[0..<n])
                if let zstd { try zstd.decompress(input) { out.append(contentsOf: $0) } }
                else if let gzip { try gzip.decompress(input) { out.append(contentsOf: $0) } }
                else { out.append(contentsOf: input) }
            }
            if out.count > before { return true }
        }
    }

    private func readRaw() throws -> Int {
        let n = raw.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        if n < 0 {
            let err = String(cString: strerror(errno))
            throw LMError.io(file: file.path, "read failed: \(err)", fix: "check the file")
        }
        diskBytesRead += Int64(n)
        return n
    }

    /// The decompressed size if it can be known without decompressing: the file size for plain
    /// files, the zstd frame header's content size, or gzip's ISIZE trailer (mod 2³², single
    /// member). nil when unknown. An estimate for progress only.
    static func estimatedSize(of file: CorpusFile) -> Int64? {
        switch file.compression {
        case .none: return file.sizeOnDisk
        case .zstd:
            guard let h = FileHandle(forReadingAtPath: file.path) else { return nil }
            defer { try? h.close() }
            let header = [UInt8]((try? h.read(upToCount: 18)) ?? Data())
            return header.withUnsafeBytes { ZstdStreamDecoder.frameContentSize(header: $0) }
        case .gzip:
            guard file.sizeOnDisk >= 18, let h = FileHandle(forReadingAtPath: file.path) else { return nil }
            defer { try? h.close() }
            try? h.seek(toOffset: UInt64(file.sizeOnDisk - 4))
            let t = [UInt8]((try? h.read(upToCount: 4)) ?? Data())
            guard t.count == 4 else { return nil }
            return Int64(t[0]) | Int64(t[1]) << 8 | Int64(t[2]) << 16 | Int64(t[3]) << 24
        }
    }
}

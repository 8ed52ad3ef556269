import CZlib
import LMSupport

/// Streaming gzip decompression (zlib `inflate` with a gzip header, `16 + MAX_WBITS`): feed
/// compressed bytes in any slices, receive decompressed bytes in blocks. Handles concatenated
/// gzip members (as `gzip -d` does). Memory: a 32 kB window plus one output block.
///
///     let g = try GzipStreamDecoder(name: "corpus.jsonl.gz")
///     try g.decompress(compressedSlice) { block in sink(block) }   // repeat per slice
///     try g.finish()   // throws if the input stopped inside a member
///
/// Corrupt or truncated input throws `LMError.badFormat` naming `name`. This file is the only
/// place `inflate*` is called; each function is wrapped once, in `ZlibInflateHandle`.
public final class GzipStreamDecoder {
    /// File name used in error messages.
    public let name: String
    private let stream: ZlibInflateHandle
    private var output: [UInt8]
    /// True between members (before the first byte and after each member's trailer).
    private var atMemberBoundary = true
    private var sawInput = false
    /// Decompressed bytes produced so far.
    public private(set) var producedBytes: Int64 = 0

    /// Output block size in bytes.
    public static let blockSize = 1 << 17

    /// Creates the inflate context. Throws `LMError.io` if zlib cannot allocate it.
    public init(name: String) throws {
        self.name = name
        stream = try ZlibInflateHandle(name: name)
        output = [UInt8](repeating: 0, count: GzipStreamDecoder.blockSize)
    }

    /// Decompresses all of `input`, calling `body` with each block of output (valid only during
    /// the call). Throws `LMError.badFormat` on corrupt data.
    public func decompress(_ input: UnsafeRawBufferPointer,
                           _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard input.count > 0 else { return }
        sawInput = true
        var consumed = 0
        while consumed < input.count || !atMemberBoundary {
            if atMemberBoundary {
                stream.reset()
                atMemberBoundary = false
            }
            var produced = 0
            let before = consumed
            let status = output.withUnsafeMutableBytes { out in
                stream.inflate(input: input, consumed: &consumed, output: out, produced: &produced)
            }
            if produced > 0 {
                producedBytes += Int64(produced)
                try output.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
            }
            switch status {
            case .streamEnd:
                atMemberBoundary = true
            case .ok, .bufferFull:
                if consumed == input.count && produced < output.count { return }
                if consumed == before && produced == 0 { return }
            case .error(let message):
                throw LMError.badFormat(file: name, "corrupt gzip data: \(message)",
                                        fix: "re-create or re-download the file (check it with gzip -t)")
            }
        }
    }

    /// Checks that the data ended at the end of a gzip member. Throws `LMError.badFormat` if the
    /// input was empty or stopped inside a member (a truncated file).
    public func finish() throws {
        if !sawInput {
            throw LMError.badFormat(file: name, "empty gzip file", fix: "re-create the file")
        }
        if !atMemberBoundary {
            throw LMError.badFormat(file: name, "truncated gzip data (the input ends inside a member)",
                                    fix: "re-create or re-download the file (check it with gzip -t)")
        }
    }
}

/// Owns one heap-allocated `z_stream` (zlib keeps a pointer to it, so it must not move).
final class ZlibInflateHandle {
    enum Status { case ok, bufferFull, streamEnd, error(String) }

    private let strm: UnsafeMutablePointer<z_stream>
    private let name: String

    init(name: String) throws {
        self.name = name
        strm = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        strm.initialize(to: z_stream())
        let r = inflateInit2_(strm, 16 + MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        if r != Z_OK {
            strm.deallocate()
            throw LMError.io(file: name, "zlib could not initialise inflate (code \(r))", fix: "free some memory")
        }
    }

    deinit {
        inflateEnd(strm)
        strm.deallocate()
    }

    /// Starts a new gzip member (`inflateReset`).
    func reset() { inflateReset(strm) }

    /// One `inflate` call from `input[consumed...]` into `output`; advances `consumed`, sets `produced`.
    func inflate(input: UnsafeRawBufferPointer, consumed: inout Int,
                 output: UnsafeMutableRawBufferPointer, produced: inout Int) -> Status {
        let avail = input.count - consumed
        strm.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.advanced(by: consumed)
            .assumingMemoryBound(to: Bytef.self))
        strm.pointee.avail_in = uInt(avail)
        strm.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
        strm.pointee.avail_out = uInt(output.count)
        let r = CZlib.inflate(strm, Z_NO_FLUSH)
        consumed += avail - Int(strm.pointee.avail_in)
        produced = output.count - Int(strm.pointee.avail_out)
        strm.pointee.next_in = nil
        strm.pointee.next_out = nil
        switch r {
        case Z_OK: return .ok
        case Z_BUF_ERROR: return .bufferFull
        case Z_STREAM_END: return .streamEnd
        default:
            let msg = strm.pointee.msg.map { String(cString: $0) } ?? "zlib error \(r)"
            return .error(msg)
        }
    }
}

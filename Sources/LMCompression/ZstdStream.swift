import CZstd
import LMSupport

/// Streaming zstd decompression (`ZSTD_DStream`): feed compressed bytes in any slices, receive
/// decompressed bytes in blocks. Handles concatenated frames. Memory: one window (≤ 8 MB for
/// typical levels) plus one output block, whatever the input size.
///
///     let z = try ZstdStreamDecoder(name: "corpus.txt.zst")
///     try z.decompress(compressedSlice) { block in sink(block) }   // repeat per slice
///     try z.finish()   // throws if the input stopped inside a frame
///
/// Corrupt or truncated input throws `LMError.badFormat` naming `name`. This file is the only
/// place the `ZSTD_*DStream*` functions are called; each is wrapped once below.
public final class ZstdStreamDecoder {
    /// File name used in error messages.
    public let name: String
    private let stream: ZstdDStreamHandle
    private var output: [UInt8]
    /// Last `ZSTD_decompressStream` result: 0 when a frame has just ended.
    private var pending = 0
    private var sawInput = false
    /// Decompressed bytes produced so far.
    public private(set) var producedBytes: Int64 = 0

    /// Creates the decompression context. Throws `LMError.io` if zstd cannot allocate it.
    public init(name: String) throws {
        self.name = name
        stream = try ZstdDStreamHandle(name: name)
        output = [UInt8](repeating: 0, count: ZstdDStreamHandle.recommendedOutputSize)
    }

    /// Decompresses all of `input`, calling `body` with each block of output (valid only during
    /// the call). Throws `LMError.badFormat` on corrupt data.
    public func decompress(_ input: UnsafeRawBufferPointer,
                           _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard input.count > 0 else { return }
        sawInput = true
        var consumed = 0
        let outCount = output.count
        while consumed < input.count || pending > 0 {
            var produced = 0
            let before = consumed
            let ret = output.withUnsafeMutableBytes { out in
                stream.decompress(input: input, consumed: &consumed, output: out, produced: &produced)
            }
            if ZstdDStreamHandle.isError(ret) {
                throw LMError.badFormat(file: name, "corrupt zstd data: \(ZstdDStreamHandle.errorName(ret))",
                                        fix: "re-create or re-download the file (check it with zstd -t)")
            }
            pending = ret
            if produced > 0 {
                producedBytes += Int64(produced)
                try output.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
            }
            // All input consumed and the output block not full: nothing more until more input.
            if consumed == input.count && produced < outCount { break }
            if consumed == before && produced == 0 { break }
        }
    }

    /// Decompressed size recorded in the header of the frame starting at `header` (the first
    /// bytes of a file; 18 are always enough), or nil if the frame does not record it or the
    /// bytes are not a zstd frame. Only the first frame is looked at.
    public static func frameContentSize(header: UnsafeRawBufferPointer) -> Int64? {
        guard let base = header.baseAddress, header.count > 0 else { return nil }
        let r = ZSTD_getFrameContentSize(base, header.count)
        // ZSTD_CONTENTSIZE_UNKNOWN = UInt64.max, ZSTD_CONTENTSIZE_ERROR = UInt64.max - 1 (macros Swift does not import).
        if r >= UInt64.max - 1 || r > UInt64(Int64.max) { return nil }
        return Int64(r)
    }

    /// Checks that the data ended at the end of a frame. Throws `LMError.badFormat` if the input
    /// was empty or stopped inside a frame (a truncated file).
    public func finish() throws {
        if !sawInput {
            throw LMError.badFormat(file: name, "empty zstd file", fix: "re-create the file")
        }
        if pending != 0 {
            throw LMError.badFormat(file: name, "truncated zstd data (the input ends inside a frame)",
                                    fix: "re-create or re-download the file (check it with zstd -t)")
        }
    }
}

/// Owns one `ZSTD_DStream*`; the only type that touches it.
final class ZstdDStreamHandle {
    private let pointer: OpaquePointer

    /// `ZSTD_DStreamOutSize()`: a block size that lets zstd write a whole block at once.
    static let recommendedOutputSize = Int(ZSTD_DStreamOutSize())

    init(name: String) throws {
        guard let p = ZSTD_createDStream() else {
            throw LMError.io(file: name, "zstd could not allocate a decompression context", fix: "free some memory")
        }
        pointer = p
        let r = ZSTD_initDStream(p)
        if ZstdDStreamHandle.isError(r) {
            ZSTD_freeDStream(p)
            throw LMError.io(file: name, "zstd init failed: \(ZstdDStreamHandle.errorName(r))")
        }
    }

    deinit { ZSTD_freeDStream(pointer) }

    /// One `ZSTD_decompressStream` call from `input[consumed...]` into `output`; advances
    /// `consumed`, sets `produced`. Returns zstd's result (0 = frame done, error code, or a hint).
    func decompress(input: UnsafeRawBufferPointer, consumed: inout Int,
                    output: UnsafeMutableRawBufferPointer, produced: inout Int) -> Int {
        var inBuf = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: consumed)
        var outBuf = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
        let r = ZSTD_decompressStream(pointer, &outBuf, &inBuf)
        consumed = inBuf.pos
        produced = outBuf.pos
        return r
    }

    static func isError(_ code: Int) -> Bool { ZSTD_isError(code) != 0 }

    static func errorName(_ code: Int) -> String { String(cString: ZSTD_getErrorName(code)) }
}

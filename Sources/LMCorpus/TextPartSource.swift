import Foundation
import LMSupport

/// Documents of a `.txt` file: the whole file, or (with `splitAtEndOfText`) the runs of lines
/// between lines that hold only `<|endoftext|>` (optionally followed by `\r`). The separator line
/// itself is dropped; the newline before it stays with the preceding document, as in Python's
/// `re.split(r"(?m)^<\|endoftext\|>\r?(?:\n|\Z)", text)`.
///
/// Invalid UTF-8 is an `LMError.badInput` naming the file and the byte offset (in decompressed
/// bytes). With `splitAtEndOfText` a document that fits in `partLimit` bytes (8 MiB) arrives as
/// one part; a longer one (and a whole-file document) in parts of about one decompressed block.
/// Memory: one decompressed block plus the document being read (at most `partLimit`).
///
/// Performance notes: blocks are decompressed straight into one reused buffer and searched for
/// separators with `memchr` + `memcmp` (GB/s); each document is copied once, into the part
/// handed out. Before, every block was copied into a fresh carry buffer and each document was
/// re-assembled from block-sized parts, ~0.3 CPU-s of copies and page faults per 114 MB.
final class TextPartSource: DocumentPartSource {
    private let reader: DecompressedFileReader
    private let split: Bool
    /// Decompressed text not handed out yet starts at `buffer[start]`.
    private var buffer: [UInt8] = []
    private var start = 0
    /// Where the separator search continues (no separator starts in `start..<scanFrom`).
    private var scanFrom = 0
    /// Decompressed file offset of `buffer[0]`.
    private var offset: Int64 = 0
    /// Whether `buffer[start]` starts a line.
    private var atLineStart = true
    private var queue: [DocumentPart] = []
    private var queueHead = 0
    private var finished = false
    private static let separator = Array(endOfTextSeparator.utf8)
    /// Longest part a document is cut into when it has no separator for this long (bytes).
    static let partLimit = 8 << 20

    init(_ file: CorpusFile, splitAtEndOfText: Bool) throws {
        reader = try DecompressedFileReader(file)
        split = splitAtEndOfText
    }

    var path: String { reader.file.path }

    func nextPart() throws -> DocumentPart? {
        while queueHead >= queue.count {
            queue.removeAll(keepingCapacity: true)
            queueHead = 0
            if finished { return nil }
            compact()
            if try reader.appendNextBlock(to: &buffer) {
                try scan()
            } else {
                finished = true
                try finish()
            }
        }
        defer { queueHead += 1 }
        return queue[queueHead]
    }

    /// Drops the handed-out prefix of the buffer (keeping its capacity).
    private func compact() {
        guard start > 0 else { return }
        buffer.removeSubrange(0..<start)
        offset += Int64(start)
        scanFrom -= start
        start = 0
    }

    /// Emits `buffer[start..<end]` as a part and continues after `resume`.
    private func emit(to end: Int, ends: Bool, resume: Int) throws {
        let bytes = Array(buffer[start..<end])
        try UTF8Cut.validate(bytes, file: path, fileOffset: offset + Int64(start))
        queue.append(DocumentPart(bytes: bytes, endsDocument: ends))
        start = resume
        scanFrom = max(scanFrom, resume)
    }

    /// Emits every document completed by the last block, then (if the rest is long, or there is
    /// no splitting) a leading part of the unfinished one.
    private func scan() throws {
        let n = buffer.count
        let sep = TextPartSource.separator
        if split {
            while let idx = TextPartSource.find(sep, in: buffer, from: scanFrom) {
                let startsLine = idx == start ? atLineStart : buffer[idx - 1] == 10
                var after = idx + sep.count
                if after < n && buffer[after] == 13 { after += 1 }
                if after >= n { scanFrom = idx; return }  // may continue in the next block
                if startsLine && buffer[after] == 10 {
                    try emit(to: idx, ends: true, resume: after + 1)
                    atLineStart = true
                } else {
                    scanFrom = idx + 1
                }
            }
            // No separator starts before here (one may start in the last sep.count - 1 bytes).
            scanFrom = max(scanFrom, n - sep.count + 1)
            if n - start < TextPartSource.partLimit { return }
        }
        // Hand out a leading part of the unfinished document: up to the last newline before
        // `scanFrom` (so a separator line is never cut), else a character boundary.
        let limit = split ? max(start, scanFrom) : n
        var cut = limit
        if split, let nl = TextPartSource.lastNewline(in: buffer, start..<limit) { cut = nl + 1 }
        else { cut = max(start, UTF8Cut.completePrefix(buffer, from: start, to: limit)) }
        guard cut > start else { return }
        let lineStart = buffer[cut - 1] == 10
        try emit(to: cut, ends: false, resume: cut)
        atLineStart = lineStart
    }

    private func finish() throws {
        var end = buffer.count
        if split {
            // A separator line at the very end, without a newline after it.
            var e = end
            if e > start && buffer[e - 1] == 13 { e -= 1 }
            let m = TextPartSource.separator.count
            if e - start >= m, buffer[(e - m)..<e].elementsEqual(TextPartSource.separator) {
                let s = e - m
                if s == start ? atLineStart : buffer[s - 1] == 10 { end = s }
            }
        }
        try emit(to: end, ends: true, resume: buffer.count)
    }

    /// Offset of the first occurrence of `needle` in `hay[from...]`: `memchr` for the first byte,
    /// then `memcmp`.
    static func find(_ needle: [UInt8], in hay: [UInt8], from: Int) -> Int? {
        let n = hay.count, m = needle.count
        return hay.withUnsafeBytes { h in
            needle.withUnsafeBytes { s in
                var pos = from
                while pos + m <= n {
                    guard let hit = memchr(h.baseAddress! + pos, Int32(needle[0]), n - pos - m + 1) else { return nil }
                    let i = h.baseAddress!.distance(to: UnsafeRawPointer(hit))
                    if memcmp(h.baseAddress! + i, s.baseAddress!, m) == 0 { return i }
                    pos = i + 1
                }
                return nil
            }
        }
    }

    /// Offset of the last `\n` in `hay[range]`, or nil.
    static func lastNewline(in hay: [UInt8], _ range: Range<Int>) -> Int? {
        hay.withUnsafeBufferPointer { h in
            var i = range.upperBound - 1
            while i >= range.lowerBound { if h[i] == 10 { return i }; i -= 1 }
            return nil
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

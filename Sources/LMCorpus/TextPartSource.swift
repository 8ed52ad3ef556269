import Foundation
import LMSupport

/// Documents of a `.txt` file: the whole file, or (with `splitAtEndOfText`) the runs of lines
/// between lines that hold only `<|endoftext|>` (optionally followed by `\r`). The separator line
/// itself is dropped; the newline before it stays with the preceding document, as in
/// `text.split("<|endoftext|>\n")`.
///
/// Invalid UTF-8 is an `LMError.badInput` naming the file and the byte offset (in decompressed
/// bytes). Memory: one decompressed block plus a carry of at most one short line.
///
/// Performance notes: separators are found with `memchr` + `memcmp` over whole blocks (GB/s); lines are
/// never split one by one.
final class TextPartSource: DocumentPartSource {
    private let reader: DecompressedFileReader
    private let split: Bool
    private var carry: [UInt8] = []
    /// Decompressed file offset of `carry[0]`.
    private var offset: Int64 = 0
    /// Whether `carry[0]` starts a line.
    private var atLineStart = true
    private var queue: [DocumentPart] = []
    private var queueHead = 0
    private var finished = false
    private static let separator = Array(endOfTextSeparator.utf8)

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
            if let block = try reader.nextBlock() {
                var data = carry
                data.append(contentsOf: block)
                carry = []
                try process(data)
            } else {
                finished = true
                try finish()
            }
        }
        defer { queueHead += 1 }
        return queue[queueHead]
    }

    /// Emits `data[lo..<hi]` (starting at file offset `offset + lo`) as a part.
    private func emit(_ data: [UInt8], _ lo: Int, _ hi: Int, ends: Bool) throws {
        let bytes = lo == 0 && hi == data.count ? data : Array(data[lo..<hi])
        try UTF8Cut.validate(bytes, file: path, fileOffset: offset + Int64(lo))
        queue.append(DocumentPart(bytes: bytes, endsDocument: ends))
    }

    private func process(_ data: [UInt8]) throws {
        let n = data.count
        var segStart = 0
        if split {
            let sep = TextPartSource.separator
            var pos = 0
            while pos < n {
                let found = TextPartSource.find(sep, in: data, from: pos)
                guard let idx = found else { break }
                let startsLine = idx == 0 ? atLineStart : data[idx - 1] == 10
                var after = idx + sep.count
                if after < n && data[after] == 13 { after += 1 }
                if after >= n { break }  // may continue in the next block: leave it in the tail
                if startsLine && data[after] == 10 {
                    try emit(data, segStart, idx, ends: true)
                    segStart = after + 1
                }
                pos = idx + 1
            }
        }
        // The tail after the last newline may be the start of a separator line: keep it if short.
        var cut = n
        if split {
            var lastNL = n - 1
            while lastNL >= segStart && data[lastNL] != 10 { lastNL -= 1 }
            let tailStart = lastNL + 1
            let tailStartsLine = tailStart == 0 ? atLineStart : tailStart > segStart || data[tailStart - 1] == 10
            if tailStartsLine && n - tailStart <= TextPartSource.separator.count + 1 {
                cut = tailStart
                atLineStart = true
            }
        }
        if cut == n {
            cut = max(segStart, UTF8Cut.completePrefix(data, from: segStart))
            atLineStart = cut == 0 ? atLineStart : data[cut - 1] == 10
        }
        if cut > segStart { try emit(data, segStart, cut, ends: false) }
        if cut < n { carry = Array(data[cut..<n]) }
        offset += Int64(cut)
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

    private func finish() throws {
        var rest = carry
        carry = []
        if split && atLineStart {
            var trimmed = rest
            if trimmed.last == 13 { trimmed.removeLast() }
            if trimmed == TextPartSource.separator { rest = [] }  // a final separator without newline
        }
        try emit(rest, 0, rest.count, ends: true)
    }
}

#if canImport(Glibc)
import Glibc
#endif

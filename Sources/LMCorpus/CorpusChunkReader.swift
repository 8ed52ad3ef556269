import LMSupport

/// A block of corpus text for parallel processing (tokenizer training, sharding).
public struct CorpusChunk: Sendable {
    /// Valid UTF-8 text of one or more documents (or part of one).
    public var bytes: [UInt8]
    /// Offsets in `bytes` (strictly between 0 and `bytes.count`, increasing) where a new
    /// document starts: text on either side must be processed separately.
    public var documentStarts: [Int]
}

/// Reads a corpus as chunks of about `CorpusOptions.chunkSize` bytes, never the whole corpus.
///
/// Small documents are packed together (their starts listed in `documentStarts`); a document
/// larger than a chunk is cut at a *safe point*: right after a `\n` that follows a visible ASCII
/// character and is followed by an ASCII letter (`…x\nY…`). All three built-in split patterns
/// (gpt2, cl100k, o200k) always end a piece there, and the `\n` is a piece of its own or ends
/// one whether or not text follows, so pre-tokenizing the chunks one by one gives exactly the
/// pieces of the whole document (tested piece for piece for each pattern). Without the visible
/// character before it the rule would fail for gpt2: in `"  \nYes"` its `\s+(?!\S)` gives
/// `"  "`, `"\n"`, but a chunk ending in `"  \n"` gives `"  \n"` by `\s++$`. A document with no safe point for 8 chunk sizes is cut at a character
/// boundary instead (the pieces around that one cut may differ).
///
///     let r = try CorpusChunkReader(inputs: ["corpus.txt.zst"])
///     while let c = try r.next() { process(c.bytes, c.documentStarts) }
public final class CorpusChunkReader {
    private let parts: CorpusPartStream
    private let chunkSize: Int
    private var buffer: [UInt8] = []
    private var starts: [Int] = []
    private var documentEnded = false
    private var exhausted = false

    /// Resolves `inputs` (see `CorpusInputs.resolve`); nothing is read yet.
    public convenience init(inputs: [String], options: CorpusOptions = CorpusOptions()) throws {
        self.init(files: try CorpusInputs.resolve(inputs), options: options)
    }

    public init(files: [CorpusFile], options: CorpusOptions = CorpusOptions()) {
        parts = CorpusPartStream(files: files, options: options)
        chunkSize = options.chunkSize
    }

    /// The files in reading order.
    public var files: [CorpusFile] { parts.files }

    /// Decompressed text size of all files if known up front (progress only), else nil.
    public var totalInputBytes: Int64? { CorpusSize.estimate(parts.files) }

    /// Text bytes read from the files so far.
    public var bytesRead: Int64 { parts.textBytes }

    /// The next chunk, or nil at the end. Throws `LMError` for bad input (see `CorpusDocumentReader`).
    public func next() throws -> CorpusChunk? {
        while buffer.count < chunkSize, try pull() {}
        while true {
            if buffer.isEmpty { return nil }
            if exhausted && buffer.count <= chunkSize { return take(buffer.count) }
            if let cut = cutPoint() { return take(cut) }
            // No place to cut yet: read on (bounded by the forced cut in `cutPoint`).
            if try !pull() { return take(buffer.count) }
        }
    }

    /// Appends the next part to the buffer; false at the end of the corpus.
    private func pull() throws -> Bool {
        if exhausted { return false }
        guard let (part, _) = try parts.next() else { exhausted = true; return false }
        if !part.bytes.isEmpty {
            if documentEnded && !buffer.isEmpty { starts.append(buffer.count) }
            documentEnded = false
            buffer.append(contentsOf: part.bytes)
        }
        if part.endsDocument { documentEnded = true }
        return true
    }

    /// Where to end the next chunk: the last document start or safe point at or before
    /// `chunkSize`; else the first one after it; else (past 8 chunk sizes) a character boundary.
    private func cutPoint() -> Int? {
        let n = buffer.count
        let limit = min(n, chunkSize)
        let lastStart = starts.last { $0 <= limit } ?? 0
        let before = buffer.withUnsafeBufferPointer { CorpusChunkReader.lastSafePoint(b: $0, in: (lastStart + 1)..<(limit + 1)) }
        let cut = max(lastStart, before ?? 0)
        if cut > 0 { return cut }
        let nextStart = starts.first { $0 > limit }
        let upper = nextStart ?? n
        if let after = buffer.withUnsafeBufferPointer({ CorpusChunkReader.firstSafePoint(b: $0, in: (limit + 1)..<upper) }) {
            return after
        }
        if let nextStart { return nextStart }
        if n >= 8 * chunkSize { return UTF8Cut.completePrefix(Array(buffer[0..<(n - 4)])) }
        return nil
    }

    /// A safe point `i`: `b[i-1] == "\n"`, `b[i-2]` is visible ASCII (`!`…`~`) and `b[i]` an ASCII letter.
    @inline(__always)
    private static func isSafe(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> Bool {
        guard i >= 2 && i < b.count && b[i &- 1] == 10 else { return false }
        let p = b[i &- 2]
        guard p > 0x20 && p < 0x7F else { return false }
        let c = b[i] | 0x20
        return c >= 0x61 && c <= 0x7A
    }

    private static func lastSafePoint(b: UnsafeBufferPointer<UInt8>, in r: Range<Int>) -> Int? {
        var i = min(r.upperBound, b.count) - 1
        while i >= r.lowerBound { if isSafe(b, i) { return i }; i &-= 1 }
        return nil
    }

    private static func firstSafePoint(b: UnsafeBufferPointer<UInt8>, in r: Range<Int>) -> Int? {
        var i = r.lowerBound
        while i < r.upperBound { if isSafe(b, i) { return i }; i &+= 1 }
        return nil
    }

    private func take(_ cut: Int) -> CorpusChunk {
        let bytes = Array(buffer[0..<cut])
        let inside = starts.filter { $0 > 0 && $0 < cut }
        buffer.removeFirst(cut)
        starts = starts.filter { $0 > cut }.map { $0 - cut }
        return CorpusChunk(bytes: bytes, documentStarts: inside)
    }
}

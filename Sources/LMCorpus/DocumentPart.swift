import LMSupport

/// A run of a document's text as read from a file: documents arrive as one or more parts, the
/// last with `endsDocument` set. Every part is valid UTF-8 and ends on a character boundary.
struct DocumentPart {
    var bytes: [UInt8]
    /// True if the document ends after these bytes.
    var endsDocument: Bool
}

/// Produces the parts of the documents of one file, in order.
protocol DocumentPartSource: AnyObject {
    /// The next part, or nil after the last part of the file.
    func nextPart() throws -> DocumentPart?
}

/// UTF-8 helpers for streams cut into blocks.
enum UTF8Cut {
    /// The largest `cut ≤ end` (default `bytes.count`) such that `bytes[cut..<end]` is only the
    /// start of an incomplete multi-byte sequence (0–3 bytes), so `bytes[..<cut]` can be
    /// validated alone. Looks at no byte before `lower`.
    static func completePrefix(_ bytes: [UInt8], from lower: Int = 0, to end: Int? = nil) -> Int {
        let n = end ?? bytes.count
        var i = n - 1
        let stop = max(lower, n - 4)
        while i >= stop {
            let b = bytes[i]
            if b & 0xC0 != 0x80 {  // a lead byte (or ASCII)
                let need = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
                return i + need <= n ? n : i
            }
            i -= 1
        }
        return n
    }

    /// Throws `LMError.badInput` naming `file` and the absolute byte offset of the first invalid
    /// UTF-8 sequence in `bytes`, which start at `fileOffset` of the decompressed file.
    static func validate(_ bytes: [UInt8], file: String, fileOffset: Int64, what: String = "") throws {
        if let bad = UTF8Validation.firstInvalidOffset(bytes) {
            let at = fileOffset + Int64(bad)
            throw LMError.badInput(file: file, "\(what)invalid UTF-8 at byte offset \(at)",
                                   fix: "convert the file to UTF-8 (e.g. iconv -f LATIN1 -t UTF-8) or remove the bad bytes")
        }
    }
}

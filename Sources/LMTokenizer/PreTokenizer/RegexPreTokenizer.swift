import Foundation
import LMSupport

/// Pre-tokenizer that runs a split pattern with ICU regular expressions (NSRegularExpression).
///
/// It is the reference ("naive twin") the fast scanners are tested against, and the engine
/// for custom patterns. It is slow (~10 MB/s): built-in patterns use the hand-written
/// scanners instead.
public struct RegexPreTokenizer: @unchecked Sendable {
    // NSRegularExpression is immutable and documented thread-safe.
    private let regex: NSRegularExpression
    public let pattern: SplitPattern

    /// Compiles the pattern; a custom regex that does not compile is an `LMError.badInput`.
    public init(pattern: SplitPattern) throws {
        self.pattern = pattern
        do {
            regex = try NSRegularExpression(pattern: pattern.regex, options: [])
        } catch {
            throw LMError.badInput("split pattern does not compile as a regex: \(pattern.regex)",
                                   fix: "use gpt2, gpt4 or o200k, or fix the regex")
        }
    }

    /// Splits valid UTF-8 `text` and calls `body` with each piece's byte range, in order.
    /// Unmatched bytes (a custom pattern that does not cover everything) become their own pieces,
    /// so the ranges always tile the input. Invalid UTF-8 does not crash: each invalid byte is a
    /// piece of its own and the valid stretches between them are split independently.
    public func forEachPiece(in text: UnsafeRawBufferPointer, _ body: (Range<Int>) -> Void) {
        guard let base = text.baseAddress, text.count > 0 else { return }
        let bytes = ClassifiedText(base.assumingMemoryBound(to: UInt8.self), count: text.count)
        guard let firstBad = bytes.firstInvalidUTF8(from: 0) else {
            splitValid(text, offset: 0, body)
            return
        }
        var start = 0, bad = firstBad
        while true {
            if bad > start { splitValid(UnsafeRawBufferPointer(rebasing: text[start..<bad]), offset: start, body) }
            guard bad < text.count else { return }
            body(bad..<(bad + 1))
            start = bad + 1
            bad = bytes.firstInvalidUTF8(from: start) ?? text.count
        }
    }

    /// `forEachPiece` on valid UTF-8, reporting ranges shifted by `offset`.
    private func splitValid(_ text: UnsafeRawBufferPointer, offset: Int, _ body: (Range<Int>) -> Void) {
        let string = String(decoding: text, as: UTF8.self)
        let ns = string as NSString
        // Map UTF-16 offsets to UTF-8 byte offsets.
        var utf16ToByte = [Int](repeating: 0, count: ns.length + 1)
        var u16 = 0, byte = 0
        for scalar in string.unicodeScalars {
            let w16 = scalar.utf16.count, w8 = scalar.utf8.count
            for k in 0..<w16 { utf16ToByte[u16 + k] = byte }
            u16 += w16; byte += w8
        }
        utf16ToByte[u16] = byte
        var last = 0
        let matches = regex.matches(in: string, options: [], range: NSRange(location: 0, length: ns.length))
        for m in matches where m.range.length > 0 {
            let lo = utf16ToByte[m.range.location], hi = utf16ToByte[m.range.location + m.range.length]
            if lo > last { body((offset + last)..<(offset + lo)) }
            body((offset + lo)..<(offset + hi))
            last = hi
        }
        if last < byte { body((offset + last)..<(offset + byte)) }
    }

    /// Convenience: the pieces of `text` as strings.
    public func pieces(_ text: String) -> [String] {
        var bytes = Array(text.utf8)
        var out: [String] = []
        bytes.withUnsafeMutableBytes { p in
            let raw = UnsafeRawBufferPointer(p)
            forEachPiece(in: raw) { r in
                out.append(String(decoding: UnsafeRawBufferPointer(rebasing: raw[r]), as: UTF8.self))
            }
        }
        return out
    }
}

/// A read-only view of UTF-8 bytes that classifies the character at a byte offset; the
/// shared machinery of the three pattern scanners (`ScannerGPT2`, `ScannerCL100k`,
/// `ScannerO200k`). Offsets are byte offsets into the buffer; a "character" is one Unicode
/// scalar (1-4 bytes), or one invalid byte (class `other`, length 1).
///
/// Performance notes:
/// - Letter runs (most of English) classify 8 ASCII bytes per step (`letterRun`).
/// - ASCII goes through a 128-entry table (`ASCIIClassTable`); only bytes ≥ 0x80 are decoded and
///   looked up in `UnicodeClassTable` (built on first use).
/// - Everything here is `@inline(__always)` so that each scanner's loops compile to byte loads,
///   one table load and a mask test; index arithmetic uses `&+`.
/// - Invalid UTF-8 (bad lead byte, missing/bad continuation, overlong, surrogate, > U+10FFFF)
///   never traps: the offending byte is one `other` character. Callers validate UTF-8 first,
///   so this only guarantees that garbage cannot crash the scanner or make it loop.
struct ClassifiedText {
    let bytes: UnsafePointer<UInt8>
    let count: Int
    private let ascii: UnsafePointer<UInt8>

    init(_ bytes: UnsafePointer<UInt8>, count: Int) {
        self.bytes = bytes
        self.count = count
        self.ascii = ASCIIClassTable.table
    }

    @inline(__always) subscript(i: Int) -> UInt8 { bytes[i] }

    /// Class and byte length of the character starting at `i` (requires `i < count`).
    @inline(__always) func char(at i: Int) -> (cls: UInt8, len: Int) {
        let b = bytes[i]
        if b < 0x80 { return (ascii[Int(b)], 1) }
        return nonASCII(at: i, lead: b)
    }

    /// Decodes (and validates) the multi-byte sequence at `i` and looks its class up.
    @inline(never) private func nonASCII(at i: Int, lead b0: UInt8) -> (cls: UInt8, len: Int) {
        let bad = (CharClass.other, 1)
        let rest = count &- i
        if b0 < 0xC2 { return bad }  // continuation byte or overlong 2-byte lead
        if b0 < 0xE0 {
            guard rest >= 2 else { return bad }
            let b1 = bytes[i &+ 1]
            guard b1 & 0xC0 == 0x80 else { return bad }
            let cp = UInt32(b0 & 0x1F) << 6 | UInt32(b1 & 0x3F)
            return (UnicodeClassTable.shared.classOf(cp), 2)
        }
        if b0 < 0xF0 {
            guard rest >= 3 else { return bad }
            let b1 = bytes[i &+ 1], b2 = bytes[i &+ 2]
            guard b1 & 0xC0 == 0x80, b2 & 0xC0 == 0x80 else { return bad }
            if b0 == 0xE0 && b1 < 0xA0 { return bad }  // overlong
            if b0 == 0xED && b1 > 0x9F { return bad }  // surrogate
            let cp = UInt32(b0 & 0x0F) << 12 | UInt32(b1 & 0x3F) << 6 | UInt32(b2 & 0x3F)
            return (UnicodeClassTable.shared.classOf(cp), 3)
        }
        if b0 < 0xF5 {
            guard rest >= 4 else { return bad }
            let b1 = bytes[i &+ 1], b2 = bytes[i &+ 2], b3 = bytes[i &+ 3]
            guard b1 & 0xC0 == 0x80, b2 & 0xC0 == 0x80, b3 & 0xC0 == 0x80 else { return bad }
            if b0 == 0xF0 && b1 < 0x90 { return bad }  // overlong
            if b0 == 0xF4 && b1 > 0x8F { return bad }  // > U+10FFFF
            let cp = UInt32(b0 & 0x07) << 18 | UInt32(b1 & 0x3F) << 12
                | UInt32(b2 & 0x3F) << 6 | UInt32(b3 & 0x3F)
            return (UnicodeClassTable.shared.classOf(cp), 4)
        }
        return bad
    }

    /// Offset of the first byte at or after `i` that does not start a valid UTF-8 scalar, or nil.
    func firstInvalidUTF8(from i: Int) -> Int? {
        var j = i
        while j < count {
            let b = bytes[j]
            if b < 0x80 { j &+= 1; continue }
            let l = nonASCII(at: j, lead: b).len
            if l == 1 { return j }  // every valid non-ASCII scalar is ≥ 2 bytes
            j &+= l
        }
        return nil
    }

    /// End of the longest run of characters whose class is in `mask`, starting at `i`
    /// (possessive `[mask]*+`).
    @inline(__always) func run(from i: Int, _ mask: UInt8) -> Int {
        var j = i
        while j < count {
            let b = bytes[j]
            if b < 0x80 {
                if ascii[Int(b)] & mask == 0 { break }
                j &+= 1
            } else {
                let (c, l) = nonASCII(at: j, lead: b)
                if c & mask == 0 { break }
                j &+= l
            }
        }
        return j
    }

    /// `run(from: i, CharClass.letter)` (`\p{L}*+`), eight ASCII bytes at a time: one 8-byte
    /// load classifies a whole English word (SWAR: per byte, `b | 0x20` in `a...z`), so the
    /// per-byte loop and its hard-to-predict exit branch are skipped; at the first non-ASCII byte
    /// (which may still be a letter: "café") it continues with `run`. Same result as `run`.
    @inline(__always) func letterRun(from i: Int) -> Int {
        var j = i
        while j &+ 8 <= count {
            let x = UnsafeRawPointer(bytes + j).loadUnaligned(as: UInt64.self)
            let high: UInt64 = 0x8080_8080_8080_8080
            // Low 7 bits of each byte, folded to lower case: the adds below cannot carry.
            let y = (x | 0x2020_2020_2020_2020) & 0x7F7F_7F7F_7F7F_7F7F
            let atLeastA = y &+ 0x1F1F_1F1F_1F1F_1F1F       // bit 7 set iff y >= 0x61 ('a')
            let pastZ = y &+ 0x0505_0505_0505_0505          // bit 7 set iff y >= 0x7B (after 'z')
            let letters = atLeastA & ~pastZ & ~x & high      // ASCII letters (not bytes >= 0x80)
            let stop = ~letters & high
            if stop == 0 { j &+= 8; continue }
            j &+= stop.trailingZeroBitCount >> 3            // little-endian: first byte is lowest
            return bytes[j] < 0x80 ? j : run(from: j, CharClass.letter)
        }
        return run(from: j, CharClass.letter)
    }

    /// End of `\p{N}{1,3}` given that a number character of length `len` starts at `i`.
    @inline(__always) func upToThreeDigits(at i: Int, len: Int) -> Int {
        var j = i &+ len
        var k = 1
        while k < 3 && j < count {
            let (c, l) = char(at: j)
            if c & CharClass.number == 0 { break }
            j &+= l
            k &+= 1
        }
        return j
    }

    /// End of the run of bytes equal to `\r` or `\n` (or also `/` when `slash`) from `i`.
    @inline(__always) func lineBreakRun(from i: Int, slash: Bool) -> Int {
        var j = i
        while j < count {
            let b = bytes[j]
            if b == 0x0A || b == 0x0D || (slash && b == 0x2F) { j &+= 1 } else { break }
        }
        return j
    }

    /// The white-space run starting at `i` (whose first character has length `len`):
    /// `end` of the run, `lastStart` = offset of its last character, `newlineEnd` = offset just
    /// after its last `\r`/`\n` (or -1 when it has none).
    @inline(__always) func whitespaceRun(at i: Int, len: Int)
        -> (end: Int, lastStart: Int, newlineEnd: Int) {
        var lastStart = i
        var newlineEnd = -1
        if bytes[i] == 0x0A || bytes[i] == 0x0D { newlineEnd = i &+ 1 }
        var j = i &+ len
        while j < count {
            let (c, l) = char(at: j)
            if c & CharClass.whitespace == 0 { break }
            if c == CharClass.newline { newlineEnd = j &+ 1 }
            lastStart = j
            j &+= l
        }
        return (j, lastStart, newlineEnd)
    }

    /// After `'` at `i`: end of a contraction `'(?:[sdmt]|ll|ve|re)` when `caseInsensitive` is
    /// false (gpt2), or of its case-insensitive form (cl100k, o200k; `ſ` U+017F folds to `s`,
    /// as in fancy-regex and Python `regex`), else nil. Requires `bytes[i] == '`.
    @inline(__always) func contraction(at i: Int, caseInsensitive: Bool) -> Int? {
        guard i &+ 1 < count else { return nil }
        var x = bytes[i &+ 1]
        if caseInsensitive {
            if x == 0xC5 && i &+ 2 < count && bytes[i &+ 2] == 0xBF { return i &+ 3 }  // 'ſ
            if x >= 0x41 && x <= 0x5A { x |= 0x20 }
        }
        switch x {
        case 0x73, 0x64, 0x6D, 0x74: return i &+ 2  // s d m t
        case 0x6C, 0x76, 0x72:  // l v r: need ll, ve, re
            guard i &+ 2 < count else { return nil }
            var y = bytes[i &+ 2]
            if caseInsensitive && y >= 0x41 && y <= 0x5A { y |= 0x20 }
            let want: UInt8 = x == 0x6C ? 0x6C : 0x65
            return y == want ? i &+ 3 : nil
        default: return nil
        }
    }
}

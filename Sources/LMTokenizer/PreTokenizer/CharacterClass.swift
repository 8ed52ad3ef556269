/// The character classes the built-in split patterns distinguish, as one bit each, so that a
/// regex class such as `[^\s\p{L}\p{N}]` is one mask test (`cls & mask != 0`).
///
/// Every Unicode scalar falls in exactly one class:
///
/// | bit | class | Unicode |
/// |---|---|---|
/// | `other` | anything below | punctuation, symbols, controls, unassigned, private use, surrogates; also an invalid UTF-8 byte |
/// | `upper` | upper/title-case letter | `Lu`, `Lt` |
/// | `lower` | lower-case letter | `Ll` |
/// | `caseless` | letter without case | `Lm`, `Lo` |
/// | `mark` | combining mark | `Mn`, `Mc`, `Me` |
/// | `number` | number | `Nd`, `Nl`, `No` |
/// | `space` | white space except CR/LF | `White_Space` property (what `\s` means in fancy-regex and Python `regex`) |
/// | `newline` | `\r` or `\n` | U+000D, U+000A |
///
/// Performance notes: classes are single bits so the pattern-specific sets below are one `&`.
enum CharClass {
    static let other: UInt8 = 1 << 0
    static let upper: UInt8 = 1 << 1
    static let lower: UInt8 = 1 << 2
    static let caseless: UInt8 = 1 << 3
    static let mark: UInt8 = 1 << 4
    static let number: UInt8 = 1 << 5
    static let space: UInt8 = 1 << 6
    static let newline: UInt8 = 1 << 7

    /// `\p{L}`.
    static let letter: UInt8 = upper | lower | caseless
    /// `\p{N}`.
    static let numeric: UInt8 = number
    /// `\s`.
    static let whitespace: UInt8 = space | newline
    /// `[^\s\p{L}\p{N}]` ("punctuation and everything else"; marks are in it).
    static let punctuation: UInt8 = other | mark
    /// `[^\r\n\p{L}\p{N}]` (the optional one-character prefix of cl100k/o200k words).
    static let wordPrefix: UInt8 = other | mark | space
    /// o200k `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`.
    static let o200kUpper: UInt8 = upper | caseless | mark
    /// o200k `[\p{Ll}\p{Lm}\p{Lo}\p{M}]`.
    static let o200kLower: UInt8 = lower | caseless | mark
    /// In both o200k letter classes.
    static let o200kBoth: UInt8 = caseless | mark

    /// The class of a Unicode scalar, from the standard library's Unicode tables (slow: ~100 ns;
    /// used once per scalar to build `UnicodeClassTable`).
    static func of(_ scalar: Unicode.Scalar) -> UInt8 {
        if scalar == "\r" || scalar == "\n" { return newline }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .titlecaseLetter: return upper
        case .lowercaseLetter: return lower
        case .modifierLetter, .otherLetter: return caseless
        case .nonspacingMark, .spacingMark, .enclosingMark: return mark
        case .decimalNumber, .letterNumber, .otherNumber: return number
        default: return scalar.properties.isWhitespace ? space : other
        }
    }
}

/// Character class of every Unicode scalar as a two-level table, built once, lazily, the first
/// time a non-ASCII scalar is classified (~30 ms; pure-ASCII input never builds it).
///
/// Layout: `blockIndex[cp >> 8]` (4,352 bytes) names one of the ~140 distinct 256-entry
/// blocks in `blocks` (~36 KB), so a lookup is two dependent loads that stay in L1/L2.
///
/// Performance notes: `Unicode.Scalar.Properties.generalCategory` per scalar runs the pattern
/// scanners at ~20 MB/s on non-Latin text; this table makes the non-ASCII path a UTF-8 decode
/// plus two loads. The storage is allocated once and never freed (process lifetime), so the
/// hot loop reads raw pointers without retain/release or bounds checks.
final class UnicodeClassTable: @unchecked Sendable {
    // Safety: both buffers are written only in `init` and read-only afterwards.
    private let blockIndex: UnsafeMutablePointer<UInt8>
    private let blocks: UnsafeMutablePointer<UInt8>
    /// Number of distinct 256-scalar blocks.
    let blockCount: Int

    static let shared = UnicodeClassTable()

    private init() {
        let blockTotal = 0x110000 >> 8
        var index = [UInt8](repeating: 0, count: blockTotal)
        var unique: [[UInt8]] = []
        var seen: [[UInt8]: UInt8] = [:]
        var block = [UInt8](repeating: 0, count: 256)
        let allOther = [UInt8](repeating: CharClass.other, count: 256)
        for b in 0..<blockTotal {
            if UnicodeClassTable.isAllOther(plane: b >> 8) {
                block = allOther
            } else {
                UnicodeClassTable.classify(block: b, into: &block)
            }
            if let id = seen[block] {
                index[b] = id
            } else {
                precondition(unique.count < 256, "more than 256 distinct Unicode class blocks")
                let id = UInt8(unique.count)
                seen[block] = id
                unique.append(block)
                index[b] = id
            }
        }
        blockCount = unique.count
        blockIndex = .allocate(capacity: blockTotal)
        blockIndex.initialize(from: index, count: blockTotal)
        blocks = .allocate(capacity: unique.count << 8)
        for (id, blk) in unique.enumerated() { (blocks + (id << 8)).initialize(from: blk, count: 256) }
    }

    /// Writes the class of each scalar of the 256-scalar block `b` (U+b00 ... U+bFF) to `out`.
    static func classify(block b: Int, into out: inout [UInt8]) {
        for k in 0..<256 {
            let cp = UInt32(b << 8 | k)
            out[k] = Unicode.Scalar(cp).map(CharClass.of) ?? CharClass.other  // surrogates
        }
    }

    /// Planes with no letter, mark, number or white space in Unicode 17: 4-13 are unassigned,
    /// 15-16 private use. Skipping them builds the table ~3× faster (~30 ms instead of ~0.1 s
    /// of every process that sees non-ASCII text); a test checks them scalar by scalar.
    static func isAllOther(plane: Int) -> Bool { (4...13).contains(plane) || plane >= 15 }

    /// Class of scalar value `cp` (must be ≤ 0x10FFFF).
    @inline(__always) func classOf(_ cp: UInt32) -> UInt8 {
        let b = Int(blockIndex[Int(cp >> 8)])
        return blocks[b &<< 8 | Int(cp & 0xFF)]
    }
}

/// The 128-entry class table of ASCII (the fast path), written out from the rules above:
/// `A-Z` upper, `a-z` lower, `0-9` number, `\t \v \f space` space, `\r \n` newline, the rest other.
enum ASCIIClassTable {
    /// Process-lifetime table; index with a byte < 0x80.
    // Safety: written once inside the initializer, read-only afterwards.
    nonisolated(unsafe) static let table: UnsafePointer<UInt8> = {
        let t = UnsafeMutablePointer<UInt8>.allocate(capacity: 128)
        for b in 0..<128 {
            let c: UInt8
            switch UInt8(b) {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): c = CharClass.upper
            case UInt8(ascii: "a")...UInt8(ascii: "z"): c = CharClass.lower
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c = CharClass.number
            case 0x0A, 0x0D: c = CharClass.newline
            case 0x09, 0x0B, 0x0C, 0x20: c = CharClass.space
            default: c = CharClass.other
            }
            t[b] = c
        }
        return UnsafePointer(t)
    }()
}

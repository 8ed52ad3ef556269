/// Standard base64 (RFC 4648, `+/`, `=` padding) over bytes, for the text vocab formats.
///
/// Small and allocation-light: vocab files hold ~100k short base64 strings, and Foundation's
/// `Data(base64Encoded:)` costs a `String` and a `Data` per line.
///
///     Base64.encode(Array("hi".utf8))          // "aGk="
///     Base64.decode(Array("aGk=".utf8)[...])   // [0x68, 0x69]
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Value of each ASCII byte (0...63), 0xFF for bytes outside the alphabet.
    private static let values: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    /// Base64 text of `bytes`, padded with `=`.
    static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let b = Array(bytes)
        var out = [UInt8]()
        out.reserveCapacity((b.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= b.count {
            let v = UInt32(b[i]) << 16 | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2])
            out.append(alphabet[Int(v >> 18 & 63)]); out.append(alphabet[Int(v >> 12 & 63)])
            out.append(alphabet[Int(v >> 6 & 63)]); out.append(alphabet[Int(v & 63)])
            i += 3
        }
        let rest = b.count - i
        if rest > 0 {
            let v = UInt32(b[i]) << 16 | (rest == 2 ? UInt32(b[i + 1]) << 8 : 0)
            out.append(alphabet[Int(v >> 18 & 63)]); out.append(alphabet[Int(v >> 12 & 63)])
            out.append(rest == 2 ? alphabet[Int(v >> 6 & 63)] : UInt8(ascii: "="))
            out.append(UInt8(ascii: "="))
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes padded base64; nil if the length is not a multiple of 4 or a byte is outside the alphabet.
    static func decode(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        let n = text.count
        if n % 4 != 0 { return nil }
        var out = [UInt8]()
        out.reserveCapacity(n / 4 * 3)
        var i = text.startIndex
        while i < text.endIndex {
            let c0 = values[Int(text[i])], c1 = values[Int(text[i + 1])]
            let p2 = text[i + 2], p3 = text[i + 3]
            if c0 == 0xFF || c1 == 0xFF { return nil }
            out.append(c0 << 2 | c1 >> 4)
            if p2 == UInt8(ascii: "=") {
                if p3 != UInt8(ascii: "=") || i + 4 != text.endIndex { return nil }
                break
            }
            let c2 = values[Int(p2)]
            if c2 == 0xFF { return nil }
            out.append((c1 & 0x0F) << 4 | c2 >> 2)
            if p3 == UInt8(ascii: "=") {
                if i + 4 != text.endIndex { return nil }
                break
            }
            let c3 = values[Int(p3)]
            if c3 == 0xFF { return nil }
            out.append((c2 & 0x03) << 6 | c3)
            i += 4
        }
        return out
    }
}

/// Splits a byte buffer into lines (without the `\n`; a trailing `\r` is kept).
/// The last line is included only if non-empty; `endsWithNewline` tells whether the buffer ended with `\n`.
func splitLines(_ bytes: [UInt8]) -> (lines: [ArraySlice<UInt8>], endsWithNewline: Bool) {
    var lines: [ArraySlice<UInt8>] = []
    var start = 0
    for i in 0..<bytes.count where bytes[i] == UInt8(ascii: "\n") {
        lines.append(bytes[start..<i])
        start = i + 1
    }
    if start < bytes.count { lines.append(bytes[start..<bytes.count]) }
    return (lines, bytes.last == UInt8(ascii: "\n"))
}

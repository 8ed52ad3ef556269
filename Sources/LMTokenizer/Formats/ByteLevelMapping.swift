/// GPT-2's byte ↔ unicode mapping, used by `encoder.json`, `vocab.bpe` and byte-level
/// `tokenizer.json` files to store token bytes as printable strings.
///
/// Printable Latin-1 bytes (`!`…`~`, `¡`…`¬`, `®`…`ÿ`) map to themselves; the other 68 bytes map,
/// in increasing byte order, to U+0100, U+0101, … (so space 0x20 is `Ġ` U+0120, `\n` is `Ċ` U+010A).
/// This is `bytes_to_unicode()` of openai/gpt-2 `encoder.py`.
public enum ByteLevelMapping {
    /// Unicode scalar of each byte.
    public static let scalarOfByte: [Unicode.Scalar] = {
        var printable = [Int]()
        printable += Array(Int(UInt8(ascii: "!"))...Int(UInt8(ascii: "~")))
        printable += Array(0xA1...0xAC)
        printable += Array(0xAE...0xFF)
        var map = [Unicode.Scalar](repeating: " ", count: 256)
        for b in printable { map[b] = Unicode.Scalar(UInt32(b))! }
        var n: UInt32 = 0
        for b in 0..<256 where !printable.contains(b) {
            map[b] = Unicode.Scalar(256 + n)!
            n += 1
        }
        return map
    }()

    /// Byte of each mapped scalar value (index = scalar value, 0...0x143), -1 if not a mapped scalar.
    private static let byteOfScalar: [Int16] = {
        var t = [Int16](repeating: -1, count: 0x144)
        for (b, s) in scalarOfByte.enumerated() { t[Int(s.value)] = Int16(b) }
        return t
    }()

    /// The mapped string of token bytes.
    public static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(scalarOfByte[Int(b)]) }
        return String(s)
    }

    /// The bytes of a mapped string, or nil if it contains a character outside the mapping.
    public static func decode(_ s: String) -> [UInt8]? {
        var out = [UInt8]()
        out.reserveCapacity(s.unicodeScalars.count)
        for u in s.unicodeScalars {
            let v = Int(u.value)
            guard v < byteOfScalar.count, byteOfScalar[v] >= 0 else { return nil }
            out.append(UInt8(byteOfScalar[v]))
        }
        return out
    }
}

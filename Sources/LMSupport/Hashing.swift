/// FNV-1a 64-bit hash: tiny, stable across platforms and versions; used for fingerprints
/// (vocab identity, config identity), never for security.
///
///     var h = FNV1a64(); h.update(Array("abc".utf8)); h.hex  // "e71fa2190541574b"
public struct FNV1a64: Sendable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
    public init() {}
    /// Mixes bytes into the hash. O(n).
    public mutating func update<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        for b in bytes { value = (value ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
    }
    /// Mixes a fixed-width integer (little-endian bytes).
    public mutating func update<T: FixedWidthInteger>(integer v: T) {
        withUnsafeBytes(of: v.littleEndian) { update($0) }
    }
    /// 16 lowercase hex digits.
    public var hex: String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}

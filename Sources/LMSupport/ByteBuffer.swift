/// Little-endian binary writer into a growable byte array.
///
/// Verbs follow swift-nio: `write*` appends, `set*(at:)` overwrites in place.
///
///     var w = ByteWriter()
///     w.writeBytes(Array("LMSH".utf8)); w.writeInteger(UInt32(1))
///     w.bytes   // [0x4C,0x4D,0x53,0x48, 1,0,0,0]
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    /// Appends a fixed-width integer, little-endian.
    public mutating func writeInteger<T: FixedWidthInteger>(_ v: T) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }
    /// Appends an IEEE float, little-endian.
    public mutating func writeFloat(_ v: Float) { writeInteger(v.bitPattern) }
    /// Appends raw bytes.
    public mutating func writeBytes<S: Sequence>(_ s: S) where S.Element == UInt8 { bytes.append(contentsOf: s) }
    /// Appends `count` zero bytes.
    public mutating func writeZeros(_ count: Int) { bytes.append(contentsOf: repeatElement(0, count: count)) }
    /// Overwrites a fixed-width integer at `offset` (which must already exist).
    public mutating func setInteger<T: FixedWidthInteger>(_ v: T, at offset: Int) {
        withUnsafeBytes(of: v.littleEndian) { src in
            for i in 0..<src.count { bytes[offset + i] = src[i] }
        }
    }
    /// Current length in bytes.
    public var count: Int { bytes.count }
}

/// Little-endian binary reader over a byte array.
///
/// `read*` consumes and returns nil when not enough bytes remain; `get*(at:)` peeks.
public struct ByteReader: Sendable {
    public let bytes: [UInt8]
    /// Next offset `read*` consumes from.
    public var offset: Int
    public init(_ bytes: [UInt8], offset: Int = 0) { self.bytes = bytes; self.offset = offset }

    /// Bytes left to read.
    public var remaining: Int { bytes.count - offset }

    /// Peeks a little-endian integer at `at`; nil if out of range.
    public func getInteger<T: FixedWidthInteger>(at: Int, as: T.Type = T.self) -> T? {
        let size = MemoryLayout<T>.size
        guard at >= 0, at + size <= bytes.count else { return nil }
        var v: T = 0
        for i in 0..<size { v |= T(bytes[at + i]) << (8 * i) }
        return v
    }

    /// Reads a little-endian integer; nil if not enough bytes.
    public mutating func readInteger<T: FixedWidthInteger>(as: T.Type = T.self) -> T? {
        guard let v: T = getInteger(at: offset) else { return nil }
        offset += MemoryLayout<T>.size
        return v
    }

    /// Reads `count` raw bytes; nil if not enough.
    public mutating func readBytes(_ count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, offset + count <= bytes.count else { return nil }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    /// Reads an IEEE float; nil if not enough bytes.
    public mutating func readFloat() -> Float? { readInteger(as: UInt32.self).map(Float.init(bitPattern:)) }
}

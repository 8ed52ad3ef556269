import CZlib
import Foundation

/// CRC-32 (IEEE 802.3, the polynomial of zlib, gzip, PNG and Python's `zlib.crc32`), computed
/// by zlib's `crc32`. Chosen over CRC-32C so that readers in any language have it in their
/// standard library (`zlib.crc32` in Python, `hash/crc32` in Go, `java.util.zip.CRC32`).
///
///     CRC32.checksum(Array("123456789".utf8))   // 0xCBF43926
///
/// Performance notes: zlib 1.2.13's braided implementation runs at several GB/s on this
/// machine, far above the loader's needs (200 MB/s of u16 tokens at 100 M tokens/s).
public enum CRC32 {
    /// CRC-32 of `bytes`, continuing from `initial` (0 to start).
    public static func checksum(_ bytes: UnsafeRawBufferPointer, initial: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return initial }
        var crc = UInt(initial)
        var p = base.assumingMemoryBound(to: UInt8.self)
        var left = bytes.count
        // zlib takes a 32-bit length; feed large buffers in 1 GiB pieces.
        while left > 0 {
            let n = min(left, 1 << 30)
            crc = crc32(crc, p, UInt32(n))
            p += n
            left -= n
        }
        return UInt32(truncatingIfNeeded: crc)
    }

    /// CRC-32 of a byte array (or slice).
    public static func checksum<C: ContiguousBytes>(_ bytes: C, initial: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0, initial: initial) }
    }
}

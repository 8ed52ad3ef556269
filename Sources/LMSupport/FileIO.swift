import Foundation

/// Whole-file reads with lmkit's one-line errors.
public enum FileIO {
    /// Reads a whole file as bytes. Throws `LMError.io` naming the file if it is missing or unreadable.
    public static func readBytes(_ path: String) throws -> [UInt8] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw LMError.io(file: path, "no such file", fix: "check the path")
        }
        if isDir.boolValue {
            throw LMError.io(file: path, "is a directory, expected a file", fix: "name a file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LMError.io(file: path, "cannot read the file", fix: "check its permissions")
        }
        return [UInt8](data)
    }

    /// Reads a whole file as UTF-8 text; invalid UTF-8 is an error naming the byte offset.
    public static func readText(_ path: String) throws -> String {
        let bytes = try readBytes(path)
        guard let s = String(validating: bytes, as: UTF8.self) else {
            let offset = UTF8Validation.firstInvalidOffset(bytes) ?? 0
            throw LMError.badInput(file: path, "invalid UTF-8 at byte offset \(offset)",
                                   fix: "convert the file to UTF-8 (e.g. iconv -t UTF-8)")
        }
        return s
    }

    /// True if `path` exists and is a directory.
    public static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    /// True if `path` exists (file or directory).
    public static func exists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path)
    }
}

/// UTF-8 validity checks over raw bytes.
public enum UTF8Validation {
    /// Offset of the first byte that starts an invalid UTF-8 sequence, or nil if valid. O(n).
    public static func firstInvalidOffset(_ bytes: [UInt8]) -> Int? {
        bytes.withUnsafeBufferPointer { firstInvalidOffset(UnsafeRawBufferPointer($0)) }
    }

    /// Offset of the first byte that starts an invalid UTF-8 sequence, or nil if valid. O(n).
    ///
    /// Performance notes: runs of ASCII are skipped 16 bytes at a time (English text: several
    /// GB/s, against ~0.5 GB/s byte by byte).
    public static func firstInvalidOffset(_ p: UnsafeRawBufferPointer) -> Int? {
        let n = p.count
        var i = 0
        while i < n {
            while i &+ 16 <= n {
                let a = p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                let b = p.loadUnaligned(fromByteOffset: i &+ 8, as: UInt64.self)
                if (a | b) & 0x8080_8080_8080_8080 != 0 { break }
                i &+= 16
            }
            if i >= n { break }
            let b = p[i]
            if b < 0x80 { i &+= 1; continue }
            var need = 0
            var minScalar: UInt32 = 0
            var scalar: UInt32 = 0
            if b & 0xE0 == 0xC0 { need = 1; minScalar = 0x80; scalar = UInt32(b & 0x1F) }
            else if b & 0xF0 == 0xE0 { need = 2; minScalar = 0x800; scalar = UInt32(b & 0x0F) }
            else if b & 0xF8 == 0xF0 { need = 3; minScalar = 0x10000; scalar = UInt32(b & 0x07) }
            else { return i }
            if i + need >= n { return i }  // sequence runs past the end
            for k in 1...need {
                let c = p[i + k]
                if c & 0xC0 != 0x80 { return i }
                scalar = (scalar << 6) | UInt32(c & 0x3F)
            }
            if scalar < minScalar || scalar > 0x10FFFF || (scalar >= 0xD800 && scalar <= 0xDFFF) { return i }
            i &+= need + 1
        }
        return nil
    }
}

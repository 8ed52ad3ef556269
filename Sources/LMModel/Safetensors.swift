import Foundation
import LMSupport

/// Reads and writes the safetensors format (https://github.com/huggingface/safetensors):
///
///     u64 little-endian N | N bytes of JSON header (space-padded to a multiple of 8) | data
///     header: {"__metadata__": {"format": "pt"},
///              "NAME": {"dtype": "F32", "shape": [d0, d1], "data_offsets": [begin, end]}, …}
///
/// Offsets are relative to the first data byte; lmkit writes tensors back to back in the order
/// given, fp32 little-endian, and reads F32 (plus F16/BF16, widened to fp32).
public enum Safetensors {
    /// One tensor of a file: name, shape and fp32 values (row-major).
    public struct Tensor: Sendable {
        public var name: String
        public var shape: [Int]
        public var values: [Float]
        public init(name: String, shape: [Int], values: [Float]) {
            self.name = name
            self.shape = shape
            self.values = values
        }
    }

    /// Writes `tensors` (each `values.count` = product of `shape`) to `path` atomically.
    /// `write(values)` is called once per tensor in order with a writer that appends raw fp32.
    public static func write(to path: String, tensors: [(name: String, shape: [Int])],
                             metadata: [String: String] = ["format": "pt"],
                             values: (Int, (UnsafeBufferPointer<Float>) throws -> Void) throws -> Void) throws {
        var header = "{\"__metadata__\":{"
        header += metadata.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }
            .joined(separator: ",")
        header += "}"
        var offset = 0
        for t in tensors {
            let bytes = t.shape.reduce(1, *) * 4
            header += ",\(jsonString(t.name)):{\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + bytes)]}"
            offset += bytes
        }
        header += "}"
        var headerBytes = Array(header.utf8)
        while (headerBytes.count + 8) % 8 != 0 { headerBytes.append(0x20) }
        let w = try AtomicFileWriter(path: path)
        var lengthBytes = [UInt8](repeating: 0, count: 8)
        var n = UInt64(headerBytes.count).littleEndian
        withUnsafeBytes(of: &n) { for i in 0..<8 { lengthBytes[i] = $0[i] } }
        try w.write(lengthBytes)
        try w.write(headerBytes)
        for (i, t) in tensors.enumerated() {
            let expected = t.shape.reduce(1, *)
            try values(i) { buf in
                precondition(buf.count == expected, "Safetensors.write: \(t.name) has \(buf.count) values, shape says \(expected)")
                try w.write(UnsafeRawBufferPointer(buf))  // x86-64 / arm64 are little-endian
            }
        }
        try w.commit()
    }

    /// Reads every tensor of `path`. Throws `LMError.badFormat` naming the file (and the tensor)
    /// for a bad header, an unsupported dtype, or data beyond the end of the file (truncated).
    public static func read(_ path: String) throws -> [String: Tensor] {
        let bytes = try FileIO.readBytes(path)
        func bad(_ m: String) -> LMError {
            LMError.badFormat(file: path, m, fix: "re-save the checkpoint (it is truncated or not a safetensors file)")
        }
        guard bytes.count >= 8 else { throw bad("file is \(bytes.count) bytes, shorter than the 8-byte header length") }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard n <= UInt64(bytes.count - 8) else { throw bad("header length \(n) runs past the end of the file (\(bytes.count) bytes)") }
        let headerEnd = 8 + Int(n)
        guard let json = try? JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd])),
              let dict = json as? [String: Any] else { throw bad("the header is not a JSON object") }
        let dataSize = bytes.count - headerEnd
        var out: [String: Tensor] = [:]
        for (name, value) in dict where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = (entry["shape"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                  let offs = (entry["data_offsets"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                  offs.count == 2 else { throw bad("tensor \(name): malformed header entry") }
            let count = shape.reduce(1, *)
            let width: Int
            switch dtype {
            case "F32": width = 4
            case "F16", "BF16": width = 2
            default:
                throw LMError.badFormat(file: path, "tensor \(name) has dtype \(dtype); lmkit reads F32, F16 and BF16",
                                        fix: "save the model in float32")
            }
            guard offs[0] >= 0, offs[1] >= offs[0], offs[1] - offs[0] == count * width else {
                throw bad("tensor \(name): data_offsets \(offs) do not match shape \(shape) × \(width) bytes")
            }
            guard offs[1] <= dataSize else {
                throw bad("tensor \(name): data ends at byte \(offs[1]) but the file holds only \(dataSize) data bytes")
            }
            var values = [Float](repeating: 0, count: count)
            let start = headerEnd + offs[0]
            bytes.withUnsafeBytes { raw in
                let src = raw.baseAddress! + start
                values.withUnsafeMutableBufferPointer { dst in
                    switch dtype {
                    case "F32":
                        for i in 0..<count { dst[i] = Float(bitPattern: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian) }
                    case "BF16":
                        for i in 0..<count {
                            dst[i] = Float(bitPattern: UInt32(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) << 16)
                        }
                    default:
                        for i in 0..<count {
                            dst[i] = halfToFloat(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian)
                        }
                    }
                }
            }
            out[name] = Tensor(name: name, shape: shape, values: values)
        }
        return out
    }

    /// IEEE binary16 → Float.
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign: Float = (h & 0x8000) != 0 ? -1 : 1
        let exp = Int((h >> 10) & 0x1F), frac = Float(h & 0x3FF)
        if exp == 0 { return sign * frac * 0x1p-24 }
        if exp == 31 { return frac == 0 ? sign * .infinity : .nan }
        return sign * (1 + frac / 1024) * Float(sign: .plus, exponent: exp - 15, significand: 1)
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where ch.value < 0x20: out += String(format: "\\u%04x", ch.value)
            default: out.unicodeScalars.append(ch)
            }
        }
        return out + "\""
    }
}

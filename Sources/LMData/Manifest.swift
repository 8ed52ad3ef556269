import Foundation
import LMSupport

/// `manifest.json` of a shard directory: what the shards hold and how they were made.
///
/// Written by `Sharder` (after every finished shard, with `complete: false` until the run ends)
/// and by the importers; read by `DataLoader`, `lmkit shards …` and a resumed `lmkit shard`.
///
///     let m = try Manifest.read(directory: "shards")
///     m.train.map(\.tokens).reduce(0, +)     // training tokens
public struct Manifest: Codable, Sendable, Equatable {
    /// Always "lmkit-shards".
    public var format: String = Manifest.formatName
    /// Manifest version (1).
    public var version: Int = 1
    /// Identity of the vocabulary the ids belong to (16 hex digits in JSON).
    @HexFingerprint public var vocabFingerprint: UInt64
    /// Ids the vocabulary defines (every token is below it).
    public var vocabSize: Int
    /// Bytes per token on disk (2 or 4).
    public var tokenWidth: Int
    /// End-of-text id appended after every document, if the shards came from text.
    public var endOfTextID: Int?
    /// Tokens per zstd frame.
    public var frameTokens: Int
    /// False while a `lmkit shard` run is still making shards (or was interrupted).
    public var complete: Bool
    /// How the shards were made (inputs and options); a resumed run must match it exactly.
    public var config: [String: String]
    /// The command line that made the directory (informational).
    public var command: String
    /// Training shards, in order.
    public var train: [Entry]
    /// Validation shards, in order.
    public var val: [Entry]

    /// One shard file.
    public struct Entry: Codable, Sendable, Equatable {
        /// File name inside the directory.
        public var file: String
        public var tokens: Int
        public var documents: Int
        public var frames: Int
        /// Size on disk.
        public var bytes: Int
        /// Global index of the first input document in this shard (resume bookkeeping).
        public var firstDocument: Int
        /// One past the global index of the last input document in this shard.
        public var endDocument: Int

        public init(file: String, tokens: Int, documents: Int, frames: Int, bytes: Int,
                    firstDocument: Int, endDocument: Int) {
            self.file = file
            self.tokens = tokens
            self.documents = documents
            self.frames = frames
            self.bytes = bytes
            self.firstDocument = firstDocument
            self.endDocument = endDocument
        }
    }

    public static let formatName = "lmkit-shards"
    public static let fileName = "manifest.json"

    public init(vocabFingerprint: UInt64, vocabSize: Int, endOfTextID: Int?, frameTokens: Int,
                complete: Bool, config: [String: String], command: String,
                train: [Entry] = [], val: [Entry] = []) {
        self.vocabFingerprint = vocabFingerprint
        self.vocabSize = vocabSize
        self.tokenWidth = ShardFormat.tokenWidth(vocabSize: vocabSize)
        self.endOfTextID = endOfTextID
        self.frameTokens = frameTokens
        self.complete = complete
        self.config = config
        self.command = command
        self.train = train
        self.val = val
    }

    /// Shards of one split.
    public func entries(_ split: Split) -> [Entry] { split == .train ? train : val }

    /// Path of the manifest in `directory`.
    public static func path(directory: String) -> String { (directory as NSString).appendingPathComponent(fileName) }

    /// Reads `directory/manifest.json`. Throws `LMError` naming the file when it is missing or invalid.
    public static func read(directory: String) throws -> Manifest {
        let p = path(directory: directory)
        guard FileIO.exists(p) else {
            if !FileIO.isDirectory(directory) {
                throw LMError.io(file: directory, "no such directory", fix: "pass a directory made by lmkit shard")
            }
            throw LMError.badInput(file: directory, "no manifest.json: not a shard directory",
                                   fix: "make one with lmkit shard or lmkit shards import")
        }
        let bytes = try FileIO.readBytes(p)
        let m: Manifest
        do {
            m = try JSONDecoder().decode(Manifest.self, from: Data(bytes))
        } catch {
            throw LMError.badFormat(file: p, "not a valid lmkit manifest (\(Manifest.describe(error)))",
                                    fix: "re-create the directory with lmkit shard")
        }
        guard m.format == formatName else {
            throw LMError.badFormat(file: p, "format is \"\(m.format)\", expected \"\(formatName)\"")
        }
        guard m.version == 1 else {
            throw LMError.badFormat(file: p, "manifest version \(m.version), this lmkit reads version 1",
                                    fix: "use the lmkit that wrote it")
        }
        return m
    }

    /// Writes `directory/manifest.json` atomically (sorted keys, pretty-printed).
    public func write(directory: String) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try enc.encode(self)
        try AtomicFileWriter.write(Array(data) + [0x0A], to: Manifest.path(directory: directory))
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing key \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            return "wrong type at \(c.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.dataCorrupted(let c): return c.debugDescription
        default: return "\(error)"
        }
    }
}

/// Which part of a shard directory to read.
public enum Split: String, Codable, Sendable, CaseIterable {
    case train, val
}

/// A `UInt64` stored in JSON as 16 lowercase hex digits (JSON numbers lose bits above 2^53).
@propertyWrapper
public struct HexFingerprint: Codable, Sendable, Equatable {
    public var wrappedValue: UInt64
    public init(wrappedValue: UInt64) { self.wrappedValue = wrappedValue }
    public init(from decoder: Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        guard s.count == 16, let v = UInt64(s, radix: 16) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "fingerprint \"\(s)\" is not 16 hex digits"))
        }
        wrappedValue = v
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(Self.hex(wrappedValue))
    }
    /// 16 lowercase hex digits.
    public static func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}

import Foundation
import LMSupport

/// Facts about a shard directory (`lmkit shards inspect`) and a full check (`lmkit shards verify`).
public enum ShardInspection {
    /// One shard's numbers.
    public struct ShardStats: Codable, Sendable {
        public var file: String
        public var split: String
        public var tokens: Int
        public var documents: Int
        public var frames: Int
        public var bytesOnDisk: Int
        /// Bytes per token on disk.
        public var bytesPerToken: Double
        /// Uncompressed (tokens × width) / bytes on disk.
        public var compressionRatio: Double
        public var vocabFingerprint: String
    }

    /// A directory's numbers, per shard and in total.
    public struct Report: Codable, Sendable {
        public var directory: String
        public var vocabFingerprint: String
        public var vocabSize: Int
        public var tokenWidth: Int
        public var frameTokens: Int
        public var complete: Bool
        public var command: String
        public var shards: [ShardStats]
        public var trainTokens: Int
        public var valTokens: Int
        public var documents: Int
        public var bytesOnDisk: Int
        public var bytesPerToken: Double
        public var compressionRatio: Double
    }

    /// Reads the manifest and every shard header/index (not the frames).
    public static func inspect(directory: String) throws -> Report {
        let m = try Manifest.read(directory: directory)
        var shards: [ShardStats] = []
        for s in Split.allCases {
            for e in m.entries(s) {
                let r = try ShardReader(path: (directory as NSString).appendingPathComponent(e.file))
                let size = r.header.fileSize
                shards.append(ShardStats(
                    file: e.file, split: s.rawValue, tokens: r.header.tokenCount, documents: r.header.documentCount,
                    frames: r.header.frameCount, bytesOnDisk: size,
                    bytesPerToken: Double(size) / Double(r.header.tokenCount),
                    compressionRatio: Double(r.header.tokenCount * r.header.tokenWidth) / Double(size),
                    vocabFingerprint: HexFingerprint.hex(r.header.vocabFingerprint)))
            }
        }
        let tokens = shards.reduce(0) { $0 + $1.tokens }
        let bytes = shards.reduce(0) { $0 + $1.bytesOnDisk }
        return Report(directory: directory, vocabFingerprint: HexFingerprint.hex(m.vocabFingerprint),
                      vocabSize: m.vocabSize, tokenWidth: m.tokenWidth, frameTokens: m.frameTokens,
                      complete: m.complete, command: m.command, shards: shards,
                      trainTokens: shards.filter { $0.split == "train" }.reduce(0) { $0 + $1.tokens },
                      valTokens: shards.filter { $0.split == "val" }.reduce(0) { $0 + $1.tokens },
                      documents: shards.reduce(0) { $0 + $1.documents }, bytesOnDisk: bytes,
                      bytesPerToken: tokens > 0 ? Double(bytes) / Double(tokens) : 0,
                      compressionRatio: bytes > 0 ? Double(tokens * m.tokenWidth) / Double(bytes) : 0)
    }

    /// Checks the manifest and every checksum and count of every shard (in parallel over shards).
    /// Returns one line per fault (empty = all good); `progress` is called after each shard.
    public static func verify(directory: String, threads: Int = Threads.available,
                              progress: (@Sendable (Int) -> Void)? = nil) throws -> [String] {
        let m = try Manifest.read(directory: directory)
        let all = Split.allCases.flatMap { s in m.entries(s).map { (s, $0) } }
        let faults = ResultSlots<String>(count: all.count)
        Parallel.forEach(all.count, threads: threads) { i in
            let (_, e) = all[i]
            let path = (directory as NSString).appendingPathComponent(e.file)
            do {
                let r = try ShardReader(path: path)
                try r.verify()
                var wrong: [String] = []
                if r.header.tokenCount != e.tokens { wrong.append("tokens \(r.header.tokenCount) (manifest \(e.tokens))") }
                if r.header.documentCount != e.documents { wrong.append("documents \(r.header.documentCount) (manifest \(e.documents))") }
                if r.header.vocabFingerprint != m.vocabFingerprint { wrong.append("vocab fingerprint \(HexFingerprint.hex(r.header.vocabFingerprint))") }
                if r.header.vocabSize != m.vocabSize { wrong.append("vocab size \(r.header.vocabSize)") }
                faults[i] = wrong.isEmpty ? "" : LMError.mismatch(file: path, "differs from manifest.json: " + wrong.joined(separator: ", ")).description
            } catch {
                faults[i] = "\(error)"
            }
            progress?(e.tokens)
        }
        var out = (0..<all.count).compactMap { faults[$0] }.filter { !$0.isEmpty }
        if !m.complete {
            out.append(LMError.badInput(file: directory, "manifest.json says the run is not complete",
                                        fix: "re-run the same lmkit shard command to finish it").description)
        }
        return out
    }
}

import Foundation
import LMSupport

/// Text → shards: encodes documents in parallel with a caller-supplied `encode` closure (LMData
/// never imports the tokenizer), appends the end-of-text id after each document, splits
/// train/val by document, and writes `.lmshard` files plus `manifest.json`.
///
/// Determinism: shard contents depend only on the documents, their order and the parameters
/// (not on threads), so a re-run makes byte-identical shards. That is what resume builds on:
/// a re-run of the same command keeps every shard recorded in the manifest after verifying it,
/// skips (without encoding) the documents those shards hold, and makes the rest. Another vocab or
/// config into the same directory is refused.
///
/// Split rule: document d goes to `val` when `splitHash(seed, d) < valFraction`, where the hash
/// is SplitMix64 of `SeededRNG.derive(seed, d)` mapped to [0, 1) (53 bits).
///
///     let summary = try Sharder.run(params, source: DocumentArray(strings: ["a b", "c"]),
///                                   encode: { bytes in bytes.map(UInt32.init) })
///
/// Performance notes: documents are read on a background thread and encoded on `threads`
/// threads as soon as they are read (`EncodePipeline`, no batch barriers), so a corpus of many
/// documents uses every core; a single huge document is encoded on one core (splitting it would
/// change BPE ids). Finished shards are compressed and written by `ShardWriteQueue` in the
/// background while the next batch encodes (frames in parallel inside `ShardWriter`). Open
/// shards are a class: as a struct in a dictionary, appending copied the whole token array for
/// every document (sharding ran at 0.18× the encode rate; fixed).
public enum Sharder {
    /// What to make and how. `config` identifies the run for resume (inputs, options): a later
    /// run into the same directory must pass an equal `config`, vocab fingerprint and sizes.
    public struct Parameters: Sendable {
        public var output: String
        public var vocabSize: Int
        public var vocabFingerprint: UInt64
        /// Appended after every document.
        public var endOfTextID: UInt32
        /// A shard is closed at the first document end at or after this many tokens.
        public var shardTokens: Int = 1 << 24
        public var frameTokens: Int = ShardFormat.defaultFrameTokens
        /// Fraction of documents (0..<1) that go to the validation split.
        public var valFraction: Double = 0
        public var splitSeed: UInt64 = 0
        /// zstd level (default `ShardFormat.defaultLevel`).
        public var level: Int = ShardFormat.defaultLevel
        public var threads: Int = Threads.available
        /// Most input bytes read ahead of the shard being filled (memory ≈ 5× this while encoding).
        public var batchBytes: Int = 32 << 20
        public var quiet: Bool = true
        /// Inputs and options that define the run (recorded in the manifest, compared on resume).
        public var config: [String: String] = [:]
        /// The command line, recorded in the manifest.
        public var command: String = ""

        public init(output: String, vocabSize: Int, vocabFingerprint: UInt64, endOfTextID: UInt32) {
            self.output = output
            self.vocabSize = vocabSize
            self.vocabFingerprint = vocabFingerprint
            self.endOfTextID = endOfTextID
        }

        /// The config as recorded: the caller's entries plus every option that changes the shards.
        var fullConfig: [String: String] {
            var c = config
            c["shardTokens"] = String(shardTokens)
            c["frameTokens"] = String(frameTokens)
            c["valFraction"] = String(valFraction)
            c["splitSeed"] = String(splitSeed)
            c["level"] = String(level)
            c["endOfTextID"] = String(endOfTextID)
            return c
        }
    }

    /// What a run did.
    public struct Summary: Sendable {
        public var documents = 0
        public var trainTokens = 0
        public var valTokens = 0
        /// Input bytes read in this run (documents skipped on resume count too).
        public var bytesIn: Int64 = 0
        /// Bytes of all shards in the directory.
        public var bytesOnDisk = 0
        /// Shards kept from an earlier run (verified) and shards made now.
        public var shardsKept = 0
        public var shardsMade = 0
        public var seconds = 0.0
        /// Tokens encoded in this run.
        public var tokensEncoded = 0
        /// Thread CPU seconds by stage: "read" (decompress, split, validate), "encode",
        /// "compress" (frames: width conversion, CRC, zstd), "write" (files, fsync).
        public var stageCPUSeconds: [String: Double] = [:]
    }

    /// True when document `index` belongs to the validation split.
    public static func isValidation(document index: Int, fraction: Double, seed: UInt64) -> Bool {
        if fraction <= 0 { return false }
        var x = SeededRNG.derive(seed, UInt64(index))
        let u = Double(SeededRNG.splitMix64(&x) >> 11) * (1.0 / 9_007_199_254_740_992.0)
        return u < fraction
    }

    /// Runs the sharder. Throws `LMError` for bad input, an output directory made differently,
    /// or I/O failure; a shard is only ever visible complete (temp + rename).
    @discardableResult
    public static func run(_ p: Parameters, source: DocumentSource,
                           encode: @escaping @Sendable ([UInt8]) -> [UInt32]) throws -> Summary {
        guard p.valFraction >= 0, p.valFraction < 1 else {
            throw LMError.badInput("--val-fraction must be in [0, 1) (got \(p.valFraction))")
        }
        guard p.shardTokens >= 1, p.frameTokens >= 1 else {
            throw LMError.badInput("shard and frame sizes must be at least 1 token")
        }
        guard Int(p.endOfTextID) < p.vocabSize else {
            throw LMError.badInput("end-of-text id \(p.endOfTextID) is outside the vocabulary (size \(p.vocabSize))")
        }
        let started = Date()
        let existed = FileIO.exists(p.output)
        let hadManifest = FileIO.exists(Manifest.path(directory: p.output))
        var manifest = try ShardDirectory.prepare(p)
        if !manifest.complete { try manifest.write(directory: p.output) }   // marks the directory as ours
        do {
            return try make(p, source: source, encode: encode, manifest: &manifest, started: started)
        } catch {
            // A fresh run that failed before its first shard leaves nothing behind.
            if !hadManifest && manifest.train.isEmpty && manifest.val.isEmpty {
                unlink(Manifest.path(directory: p.output))
                if !existed { rmdir(p.output) }
            }
            throw error
        }
    }

    private static func make(_ p: Parameters, source: DocumentSource, encode: @escaping @Sendable ([UInt8]) -> [UInt32],
                             manifest: inout Manifest, started: Date) throws -> Summary {
        var summary = Summary()
        summary.shardsKept = manifest.train.count + manifest.val.count
        if manifest.complete {
            summary.bytesOnDisk = (manifest.train + manifest.val).reduce(0) { $0 + $1.bytes }
            summary.trainTokens = manifest.train.reduce(0) { $0 + $1.tokens }
            summary.valTokens = manifest.val.reduce(0) { $0 + $1.tokens }
            summary.documents = (manifest.train + manifest.val).reduce(0) { $0 + $1.documents }
            if !p.quiet { printError("shard: \(p.output) is already complete (\(summary.shardsKept) shards verified)") }
            return summary
        }
        let writerOptions = ShardWriter.Options(vocabSize: p.vocabSize, vocabFingerprint: p.vocabFingerprint,
                                                frameTokens: p.frameTokens, level: p.level, threads: p.threads)
        // Per split: the document index from which documents are still needed, and the open shard.
        var splits: [Split: OpenShard] = [:]
        for s in Split.allCases {
            let done = manifest.entries(s)
            splits[s] = OpenShard(split: s, number: done.count, nextDocument: done.last?.endDocument ?? 0)
        }
        let firstNeeded = splits.values.map(\.nextDocument).min()!
        let progress = ProgressReporter(label: "shard", total: source.totalBytes, unit: .bytes, quiet: p.quiet)

        let clock = StageClock()
        let writer = ShardWriteQueue(manifest: manifest, directory: p.output, options: writerOptions)
        func note() -> String {
            let secs = max(progress.elapsed, 1e-9)
            // No frame is compressed yet early on: "ratio –" rather than a misleading 0.00×.
            let ratio = writer.compressedBytes > 0
                ? String(format: "%.2f×", Double(writer.rawBytes) / Double(writer.compressedBytes)) : "–"
            return "\(ProgressReporter.count(Double(summary.tokensEncoded) / secs)) tok/s  ratio \(ratio)"
        }

        func shardName(_ s: Split, _ number: Int) -> String {
            "\(s.rawValue)-\(String(format: "%05d", number)).\(ShardFormat.fileExtension)"
        }
        func builder(_ s: Split) -> ShardBuilder {
            let open = splits[s]!
            if let b = open.builder { return b }
            let b = ShardBuilder(path: (p.output as NSString).appendingPathComponent(shardName(s, open.number)),
                                 options: writerOptions)
            b.clock = clock
            open.builder = b
            return b
        }
        func closeShard(_ s: Split) throws {
            guard let open = splits[s], let b = open.builder, b.tokenCount > 0 else { return }
            try writer.submit(name: shardName(s, open.number), split: s, builder: b,
                              firstDocument: open.firstDocument, endDocument: open.nextDocument)
            open.number += 1
            open.builder = nil
            open.firstDocument = open.nextDocument
        }

        // Documents are read on a background thread and encoded on `threads` threads; they come
        // back here in document order.
        let initialNext = [Split.train: splits[.train]!.nextDocument, Split.val: splits[.val]!.nextDocument]
        let (fraction, seed) = (p.valFraction, p.splitSeed)
        let pipeline = EncodePipeline(source: source, threads: p.threads, maxBytesInFlight: max(1, p.batchBytes),
                                      clock: clock, skip: { d in
            let s: Split = isValidation(document: d, fraction: fraction, seed: seed) ? .val : .train
            return d < firstNeeded || d < initialNext[s]!     // held by a kept shard: no need to encode
        }, encode: encode)

        func append(_ group: EncodePipeline.Group) throws {
            for (k, ids) in group.ids.enumerated() {
                let d = group.indexes[k]
                let s: Split = isValidation(document: d, fraction: p.valFraction, seed: p.splitSeed) ? .val : .train
                let open = splits[s]!
                let b = builder(s)
                if b.tokenCount == 0 { open.firstDocument = d }
                b.append(ids)
                b.append(p.endOfTextID)
                b.endDocument()
                open.nextDocument = d + 1
                summary.tokensEncoded += ids.count + 1
                if s == .train { summary.trainTokens += ids.count + 1 } else { summary.valTokens += ids.count + 1 }
                if b.tokenCount >= p.shardTokens { try closeShard(s) }
            }
        }

        do {
            while let group = try pipeline.next() {
                try append(group)
                progress.advance(by: pipeline.takeBytesSeen(), note: p.quiet ? nil : note())
            }
            progress.advance(by: pipeline.takeBytesSeen())
            summary.documents = pipeline.documentCount
            summary.bytesIn = pipeline.totalBytesSeen
            if summary.documents == 0 {
                throw LMError.badInput(file: p.config["inputs"], "the input holds no documents",
                                       fix: "check the input paths (and --text-field for JSONL)")
            }
            for s in Split.allCases { try closeShard(s) }
            manifest = try writer.drain()
        } catch {
            pipeline.cancel()
            manifest = (try? writer.drain()) ?? writer.manifest
            throw error
        }
        summary.shardsMade = writer.made
        manifest.complete = true
        try manifest.write(directory: p.output)
        summary.trainTokens = manifest.train.reduce(0) { $0 + $1.tokens }
        summary.valTokens = manifest.val.reduce(0) { $0 + $1.tokens }
        summary.bytesOnDisk = (manifest.train + manifest.val).reduce(0) { $0 + $1.bytes }
        summary.seconds = Date().timeIntervalSince(started)
        summary.stageCPUSeconds = clock.seconds
        progress.finish(note: note())
        return summary
    }

    /// The shard being filled for one split (a class: appending must not copy the token array).
    final class OpenShard {
        var split: Split
        var number: Int
        /// One past the last document index this split has taken (or kept).
        var nextDocument: Int
        var firstDocument = 0
        /// The shard being filled (nil until its first document).
        var builder: ShardBuilder?

        init(split: Split, number: Int, nextDocument: Int) {
            self.split = split
            self.number = number
            self.nextDocument = nextDocument
            self.firstDocument = nextDocument
        }
    }
}

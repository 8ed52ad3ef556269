import Foundation
import LMSupport

/// The documents of a shard directory, one `[UInt32]` at a time (one shard decoded at a time),
/// for one split or for both in the original input order (`lmkit shards cat`).
///
/// With `split == nil` the train and val streams are interleaved by re-applying the split rule
/// recorded in the manifest (`valFraction`, `splitSeed`), which gives back the input order.
public final class ShardDocuments {
    private let directory: String
    private let manifest: Manifest
    private let split: Split?
    private var streams: [Split: Stream] = [:]
    private var documentIndex = 0

    final class Stream {
        var files: [String]
        var tokens: [UInt32] = []
        var ends: [Int] = []
        var next = 0
        init(files: [String]) { self.files = files }

        func nextDocument() throws -> [UInt32]? {
            while next >= ends.count {
                guard !files.isEmpty else { return nil }
                let r = try ShardReader(path: files.removeFirst())
                tokens = try r.readAll()
                ends = r.index.documentEnds
                if ends.last != tokens.count { ends.append(tokens.count) }
                next = 0
            }
            let lo = next == 0 ? 0 : ends[next - 1]
            let doc = Array(tokens[lo..<ends[next]])
            next += 1
            return doc
        }
    }

    /// `split` nil = both splits in input order.
    public init(directory: String, split: Split?) throws {
        self.directory = directory
        manifest = try Manifest.read(directory: directory)
        self.split = split
        for s in Split.allCases {
            streams[s] = Stream(files: manifest.entries(s).map { (directory as NSString).appendingPathComponent($0.file) })
        }
    }

    /// The next document's ids (ending with the end-of-text id for text shards), or nil at the end.
    public func next() throws -> [UInt32]? {
        if let split { return try streams[split]!.nextDocument() }
        let fraction = Double(manifest.config["valFraction"] ?? "0") ?? 0
        let seed = UInt64(manifest.config["splitSeed"] ?? "0") ?? 0
        let s: Split = Sharder.isValidation(document: documentIndex, fraction: fraction, seed: seed) ? .val : .train
        documentIndex += 1
        if let d = try streams[s]!.nextDocument() { return d }
        // The other split may still hold documents (imported directories have no split rule).
        return try streams[s == .train ? .val : .train]!.nextDocument()
    }
}

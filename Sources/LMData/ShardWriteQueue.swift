import Foundation
import LMSupport

/// Writes finished shards on a background queue while the sharder encodes the next documents,
/// and records each one in the manifest (in order) once its file is in place.
///
/// At most one shard is being written while the next one fills (memory: two shards of tokens).
/// Performance notes: on 2 cores this hides the fsync and most of the compression behind
/// encoding; without it the sharder paused encoding for every shard.
final class ShardWriteQueue: @unchecked Sendable {
    private let queue = DispatchQueue(label: "lmkit.shard-writer")
    private let slot = DispatchSemaphore(value: 1)
    private let lock = NSLock()
    private var failure: Error?
    private var manifestValue: Manifest
    private let directory: String
    private let options: ShardWriter.Options
    private(set) var compressedBytes = 0
    private(set) var rawBytes = 0
    private(set) var made = 0

    init(manifest: Manifest, directory: String, options: ShardWriter.Options) {
        manifestValue = manifest
        self.directory = directory
        self.options = options
    }

    /// The manifest as of the last shard written (call `drain()` first for the final one).
    var manifest: Manifest { lock.lock(); defer { lock.unlock() }; return manifestValue }

    /// Queues one shard; throws the error of an earlier shard if one failed.
    func submit(name: String, split: Split, builder: ShardBuilder, firstDocument: Int, endDocument: Int) throws {
        try rethrow()
        slot.wait()
        queue.async { [self] in
            defer { slot.signal() }
            do {
                let w = try builder.finish()
                let entry = Manifest.Entry(file: name, tokens: w.tokens, documents: w.documents, frames: w.frames,
                                           bytes: w.bytes, firstDocument: firstDocument, endDocument: endDocument)
                lock.lock()
                if split == .train { manifestValue.train.append(entry) } else { manifestValue.val.append(entry) }
                let m = manifestValue
                compressedBytes += w.bytes
                rawBytes += w.tokens * ShardFormat.tokenWidth(vocabSize: options.vocabSize)
                made += 1
                lock.unlock()
                try m.write(directory: directory)
            } catch {
                lock.lock(); if failure == nil { failure = error }; lock.unlock()
            }
        }
    }

    /// Waits for every queued shard; throws the first failure.
    func drain() throws -> Manifest {
        queue.sync {}
        try rethrow()
        return manifest
    }

    private func rethrow() throws {
        lock.lock(); let f = failure; lock.unlock()
        if let f { throw f }
    }
}

import Foundation
import LMSupport

/// Reads a `DocumentSource` on one background thread and encodes its documents on `threads`
/// encoder threads, handing the encoded documents back in document order (`next()`).
///
/// Nothing waits for a whole batch: the reader hands off groups of consecutive documents
/// (≥ `groupBytes` of text, or one document) as soon as they are read, each encoder takes the
/// next group as soon as it is free, and the consumer takes finished groups in order while later
/// ones are still encoding. Memory: at most `maxBytesInFlight` bytes of text (plus one group)
/// are read but not yet taken by `next()`, together with their ids.
///
/// Performance notes: this replaced batches of 32 MB encoded with `Parallel.forEach` (every
/// batch waited for its slowest document, and the first batch for the reader), which left the
/// cores idle for ~40% of `lmkit shard` on the Gutenberg corpus.
final class EncodePipeline: @unchecked Sendable {
    /// Consecutive documents (skipped ones left out): their global indexes, and, once encoded,
    /// their ids.
    struct Group {
        var indexes: [Int] = []
        var ids: [[UInt32]] = []
        fileprivate var documents: [[UInt8]] = []
        /// Text bytes of the documents.
        fileprivate var bytes = 0
    }

    private let cond = NSCondition()
    /// Read groups not yet taken by an encoder, in order, with their sequence numbers.
    private var waiting: [(Int, Group)] = []
    private var waitingHead = 0
    /// Encoded groups (or the reader's error) by sequence number, not yet taken by `next()`.
    private var results: [Int: Result<Group, Error>] = [:]
    /// Sequence numbers given out by the reader so far / the one `next()` returns next.
    private var readSequence = 0
    private var nextSequence = 0
    private var readerFinished = false
    private var cancelled = false
    private var liveThreads = 0
    /// Text bytes read and not yet returned by `next()`.
    private var bytesInFlight = 0
    private let maxBytesInFlight: Int
    /// Documents seen (including skipped) once the reader has finished.
    private(set) var documentCount = 0
    /// Input bytes seen so far (including skipped documents).
    private var bytesSeen: Int64 = 0
    private var bytesReported: Int64 = 0

    private struct Cancelled: Error {}

    /// Starts the reader and the encoders. `skip(d)` says whether document `d` is already held by
    /// a kept shard (it is then neither kept nor encoded).
    /// CPU time goes to `clock` as stages "read" (the reader thread: decompressing, splitting,
    /// validating) and "encode".
    init(source: DocumentSource, threads: Int, maxBytesInFlight: Int, groupBytes: Int = 256 << 10, clock: StageClock,
         skip: @escaping @Sendable (Int) -> Bool, encode: @escaping @Sendable ([UInt8]) -> [UInt32]) {
        self.maxBytesInFlight = max(1, maxBytesInFlight)
        let groupBytes = max(1, min(groupBytes, self.maxBytesInFlight / 4))
        let encoders = max(1, threads)
        liveThreads = 1 + encoders
        let box = SourceBox(source)
        let reader = Thread { [self] in
            clock.measure("read") { read(box.source, groupBytes: groupBytes, skip: skip) }
        }
        reader.name = "lmkit-shard-reader"
        reader.start()
        for k in 0..<encoders {
            let t = Thread { [self] in encodeLoop(encode, clock: clock) }
            t.name = "lmkit-shard-encode-\(k)"
            t.start()
        }
    }

    private func read(_ source: DocumentSource, groupBytes: Int, skip: (Int) -> Bool) {
        var group = Group()
        var d = 0
        var seen: Int64 = 0
        do {
            try source.forEachDocument { doc in
                defer { d += 1 }
                seen += Int64(doc.count)
                if skip(d) { return }
                group.documents.append(doc)
                group.indexes.append(d)
                group.bytes += doc.count
                if group.bytes >= groupBytes || group.documents.count >= 4096 {
                    try push(group, seen: seen)
                    group = Group()
                }
            }
            if !group.indexes.isEmpty { try push(group, seen: seen) }
            cond.lock()
            bytesSeen = seen
        } catch {
            cond.lock()
            bytesSeen = seen
            if !(error is Cancelled) {
                results[readSequence] = .failure(error)
                readSequence += 1
            }
        }
        documentCount = d
        readerFinished = true
        liveThreads -= 1
        cond.broadcast()
        cond.unlock()
    }

    /// Queues a group for the encoders; waits while too much text is in flight.
    private func push(_ g: Group, seen: Int64) throws {
        cond.lock(); defer { cond.unlock() }
        bytesSeen = seen
        while bytesInFlight > 0 && bytesInFlight + g.bytes > maxBytesInFlight && !cancelled { cond.wait() }
        if cancelled { throw Cancelled() }
        waiting.append((readSequence, g))
        readSequence += 1
        bytesInFlight += g.bytes
        cond.broadcast()
    }

    private func encodeLoop(_ encode: ([UInt8]) -> [UInt32], clock: StageClock) {
        cond.lock()
        while true {
            while waitingHead == waiting.count && !readerFinished && !cancelled { cond.wait() }
            if cancelled || waitingHead == waiting.count { break }
            var (sequence, g) = waiting[waitingHead]
            waiting[waitingHead].1 = Group()
            waitingHead += 1
            if waitingHead > 1024 && waitingHead * 2 > waiting.count {
                waiting.removeFirst(waitingHead)
                waitingHead = 0
            }
            cond.unlock()
            g.ids = clock.measure("encode") { g.documents.map(encode) }
            g.documents = []
            cond.lock()
            results[sequence] = .success(g)
            cond.broadcast()
        }
        liveThreads -= 1
        cond.broadcast()
        cond.unlock()
    }

    /// The next group of encoded documents in document order, nil at the end of the input;
    /// rethrows the source's error (after every group read before it).
    func next() throws -> Group? {
        cond.lock()
        while results[nextSequence] == nil && !(readerFinished && nextSequence == readSequence) { cond.wait() }
        guard let r = results.removeValue(forKey: nextSequence) else { cond.unlock(); return nil }
        nextSequence += 1
        if case .success(let g) = r { bytesInFlight -= g.bytes }
        cond.broadcast()
        cond.unlock()
        return try r.get()
    }

    /// Input bytes seen so far, skipped documents included.
    var totalBytesSeen: Int64 { cond.lock(); defer { cond.unlock() }; return bytesSeen }

    /// Input bytes seen since the last call (for progress).
    func takeBytesSeen() -> Int64 {
        cond.lock(); defer { cond.unlock() }
        let n = bytesSeen - bytesReported
        bytesReported = bytesSeen
        return n
    }

    /// Stops reading and encoding and waits until every thread has let go of the source.
    func cancel() {
        cond.lock()
        cancelled = true
        cond.broadcast()
        while liveThreads > 0 { cond.wait() }
        cond.unlock()
    }
}

/// Carries a (possibly non-Sendable) source to the reader thread, which alone uses it.
private struct SourceBox: @unchecked Sendable {
    let source: DocumentSource
    init(_ s: DocumentSource) { source = s }
}

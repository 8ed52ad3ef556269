import Foundation
import LMSupport

// Stage 1 of training: pre-tokenize every chunk and count distinct pieces, on all threads.
//
// Performance notes: chunks are gathered in batches of `4 × threads` on the calling thread,
// then each thread counts a strided share of the batch into its own `PieceCounter` (no locks,
// no shared writes). Reading the next batch does not overlap counting; with ~1 MB chunks and
// zstd input the reader's share is a few percent of the pre-tokenizer's. The per-thread tables
// are merged once at the end (cost O(distinct pieces)).
extension BPETrainer {
    func countPieces(totalBytes: Int64?, nextChunk: () throws -> TextChunk?,
                     stats: inout Statistics) throws -> PieceCounter {
        let threads = max(1, parameters.threads)
        let counters = ResultSlots<PieceCounter>(count: threads)
        for t in 0..<threads { counters[t] = PieceCounter() }
        let pieceCounts = ResultSlots<Int64>(count: threads)
        let errors = ResultSlots<LMError>(count: threads)
        for t in 0..<threads { pieceCounts[t] = 0 }
        let progress = ProgressReporter(label: "vocab train: counting", total: totalBytes, unit: .bytes,
                                        quiet: parameters.quiet)
        let specials = parameters.specialTokens.map { Array($0.utf8) }
        let pre = preTokenizer
        var chunkIndex = 0
        var batch: [TextChunk] = []
        while true {
            batch.removeAll(keepingCapacity: true)
            while batch.count < 4 * threads, let chunk = try nextChunk() {
                if !chunk.bytes.isEmpty { batch.append(chunk) }
            }
            if batch.isEmpty { break }
            let work = batch
            let firstIndex = chunkIndex
            Parallel.forEach(min(threads, work.count), threads: threads) { t in
                var counter = counters[t]!
                counters[t] = nil  // keep the tables uniquely referenced: no copy on write
                defer { counters[t] = counter }
                var pieces: Int64 = 0
                for i in stride(from: t, to: work.count, by: threads) {
                    let starts = work[i].documentStarts
                    work[i].bytes.withUnsafeBytes { text in
                        if let bad = UTF8Validation.firstInvalidOffset(text) {
                            errors[t] = LMError.badInput("training text chunk \(firstIndex + i) is not valid UTF-8 at byte offset \(bad)",
                                                         fix: "pass valid UTF-8 text")
                            return
                        }
                        var lo = 0
                        for end in starts + [text.count] where end > lo && end <= text.count {
                            let document = UnsafeRawBufferPointer(rebasing: text[lo..<end])
                            lo = end
                            BPETrainer.forEachSegment(of: document, excluding: specials) { segment in
                                pre.forEachPiece(in: segment) { r in
                                    counter.add(UnsafeRawBufferPointer(rebasing: segment[r]))
                                    pieces &+= 1
                                }
                            }
                        }
                    }
                    progress.advance(by: Int64(work[i].bytes.count))
                }
                pieceCounts[t] = pieceCounts[t]! + pieces
            }
            for t in 0..<threads { if let e = errors[t] { throw e } }
            for c in work { stats.inputBytes += Int64(c.bytes.count) }
            chunkIndex += work.count
        }
        if stats.inputBytes == 0 {
            throw LMError.badInput("the training text is empty", fix: "pass a corpus with some text in it")
        }
        var total = counters[0]!
        counters[0] = nil
        for t in 1..<threads {
            total.merge(counters[t]!)
            counters[t] = nil
        }
        stats.pieces = (0..<threads).reduce(Int64(0)) { $0 + pieceCounts[$1]! }
        progress.finish(note: "\(stats.pieces) pieces, \(total.uniqueCount) distinct")
        return total
    }

    /// Calls `body` with the parts of `text` between occurrences of the `specials` byte strings
    /// (the specials themselves are skipped, so they never become training pieces). O(n · specials).
    static func forEachSegment(of text: UnsafeRawBufferPointer, excluding specials: [[UInt8]],
                               _ body: (UnsafeRawBufferPointer) -> Void) {
        if specials.isEmpty { body(text); return }
        let n = text.count
        var start = 0
        var i = 0
        while i < n {
            var matched = 0
            for s in specials where s.count <= n - i && s[0] == text[i] {
                let hit = s.withUnsafeBytes { sp in memcmp(text.baseAddress! + i, sp.baseAddress!, s.count) == 0 }
                if hit { matched = s.count; break }
            }
            if matched > 0 {
                if i > start { body(UnsafeRawBufferPointer(rebasing: text[start..<i])) }
                i += matched
                start = i
            } else {
                i &+= 1
            }
        }
        if start < n { body(UnsafeRawBufferPointer(rebasing: text[start..<n])) }
    }
}

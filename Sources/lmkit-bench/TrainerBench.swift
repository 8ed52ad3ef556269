import Foundation
import LMCorpus
import LMSupport
import LMTokenizer

/// Group `trainer`: BPE training throughput, median of 3 runs, GPT-4 pattern.
/// - `count-*`: stage 1 (pre-tokenize + count distinct pieces) in MB/s of input text, one
///   thread and all threads, on Tiny Shakespeare (`Corpora/tinyshakespeare.txt`, 1.1 MB) cut
///   into 64 kB chunks at safe points by `CorpusChunkReader`.
/// - `merge-*`: stages 2–3 (words, pair counts, merge loop) in merges per second, for 4096 and
///   32768 ids (Tiny Shakespeare runs out of pairs at 20 717 ids at 32k).
/// - With `../shared/corpora`: the same on Gutenberg (114 MB, read from `.zst`, all threads, one
///   run, 32768 ids).
///
///     swift run -c release lmkit-bench trainer
enum TrainerBench {
    static var group: BenchmarkGroup { BenchmarkGroup(name: "trainer") { _ in run() } }

    static func run() -> [BenchmarkResult] {
        let cwd = FileManager.default.currentDirectoryPath
        let shakespeare = cwd + "/Corpora/tinyshakespeare.txt"
        guard FileManager.default.fileExists(atPath: shakespeare) else {
            printError("lmkit-bench trainer: Corpora/tinyshakespeare.txt not found; run from the repository root")
            return []
        }
        var results: [BenchmarkResult] = []
        let chunks = readChunks(shakespeare, options: .init(chunkSize: 1 << 16))
        for threads in [1, Threads.available] {
            let stats = (0..<3).map { _ in train(chunks, vocabSize: 256, threads: threads) }
            results.append(result("count-tinyshakespeare-\(threads)t", stats.map(\.bytesPerSecond), scale: 1e-6, unit: "MB/s"))
        }
        for vocab in [4096, 32768] {
            let stats = (0..<3).map { _ in train(chunks, vocabSize: vocab, threads: Threads.available) }
            results.append(result("merge-tinyshakespeare-\(vocab)", stats.map(\.mergesPerSecond), scale: 1, unit: "merges/s"))
        }
        let gutenberg = (cwd as NSString).deletingLastPathComponent + "/shared/corpora/gutenberg-en-A.txt.zst"
        if FileManager.default.fileExists(atPath: gutenberg),
           let reader = try? CorpusChunkReader(inputs: [gutenberg], options: .init(splitAtEndOfText: true)) {
            let trainer = try! BPETrainer(.init(vocabSize: 32768, threads: Threads.available))
            if let s = try? trainer.train(totalBytes: nil, nextChunk: {
                try reader.next().map { BPETrainer.TextChunk($0.bytes, documentStarts: $0.documentStarts) }
            }).statistics {
                results.append(result("count-gutenberg-zst-\(Threads.available)t", [s.bytesPerSecond], scale: 1e-6, unit: "MB/s"))
                results.append(result("merge-gutenberg-32768", [s.mergesPerSecond], scale: 1, unit: "merges/s"))
            }
        }
        return results
    }

    static func readChunks(_ path: String, options: CorpusOptions) -> [BPETrainer.TextChunk] {
        let reader = try! CorpusChunkReader(inputs: [path], options: options)
        var out: [BPETrainer.TextChunk] = []
        while let c = try! reader.next() { out.append(.init(c.bytes, documentStarts: c.documentStarts)) }
        return out
    }

    static func train(_ chunks: [BPETrainer.TextChunk], vocabSize: Int, threads: Int) -> BPETrainer.Statistics {
        var k = 0
        let trainer = try! BPETrainer(.init(vocabSize: vocabSize, threads: threads))
        return try! trainer.train { defer { k += 1 }; return k < chunks.count ? chunks[k] : nil }.statistics
    }

    static func result(_ name: String, _ values: [Double], scale: Double, unit: String) -> BenchmarkResult {
        let sorted = values.sorted()
        return BenchmarkResult(group: "trainer", name: name, median: sorted[sorted.count / 2] * scale,
                               unit: unit, repeats: values.count)
    }
}

import Foundation
import LMData
import LMSupport
import LMTokenizer

/// Group `data`: shard writing (M tokens/s, MB/s of u16 tokens in) and loader throughput
/// (M tokens/s of ready (B, T) batches), on seeded Zipf-distributed ids (vocab 50,257) that
/// compress about like GPT-2 tokens of English text.
///
/// With `--corpus FILE.txt --vocab V` it also shards that corpus (documents split at
/// `<|endoftext|>` lines, held in memory) and measures, in the same run, the batch encode rate of
/// the same documents with `BPETokenizer.encodeOrdinaryBatch` (all cores): the ratio shows what
/// sharding costs beyond encoding (compression, checksums, writing).
///
///     swift run -c release lmkit-bench data [--tokens N] [--corpus FILE.txt --vocab V [--level L]]
/// User + system CPU seconds of this process so far.
func cpuSeconds() -> Double {
    var u = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
    return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
}

enum DataBench {
    static var group: BenchmarkGroup { BenchmarkGroup(name: "data", run: run) }

    /// Zipf(1.1)-like ids by inverse-CDF table lookup.
    static func zipfTokens(_ n: Int, vocab: Int, seed: UInt64) -> [UInt32] {
        var cdf = [Double](repeating: 0, count: vocab)
        var acc = 0.0
        for i in 0..<vocab { acc += 1.0 / pow(Double(i + 1), 1.1); cdf[i] = acc }
        var rng = SeededRNG(seed: seed)
        var out = [UInt32](repeating: 0, count: n)
        for k in 0..<n {
            let u = rng.nextDouble() * acc
            var lo = 0, hi = vocab - 1
            while lo < hi { let mid = (lo + hi) / 2; if cdf[mid] < u { lo = mid + 1 } else { hi = mid } }
            out[k] = UInt32(lo)
        }
        return out
    }

    static func run(_ args: [String]) -> [BenchmarkResult] {
        var n = 32 << 20
        if let i = args.firstIndex(of: "--tokens"), i + 1 < args.count, let v = Int(args[i + 1]) { n = v }
        if n < 1 << 20 {   // the loader rows need whole B×(T+1) windows in each of 2 shards
            printError("lmkit-bench data: --tokens \(n) is below the minimum of 1048576; using 1048576")
            n = 1 << 20
        }
        let tokens = zipfTokens(n, vocab: 50_257, seed: 1)
        let dir = NSTemporaryDirectory() + "lmkit-bench-data-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var results: [BenchmarkResult] = []
        if let c = args.firstIndex(of: "--corpus"), let v = args.firstIndex(of: "--vocab"),
           c + 1 < args.count, v + 1 < args.count {
            var level: Int?
            if let l = args.firstIndex(of: "--level"), l + 1 < args.count { level = Int(args[l + 1]) }
            results += corpus(args[c + 1], vocab: args[v + 1], dir: dir + "/corpus", level: level)
        }
        let opts = ShardWriter.Options(vocabSize: 50_257, vocabFingerprint: 1)
        var written: ShardWriter.Written?
        let half = n / 2
        let secs = medianSeconds(repeats: 3) {
            written = try! ShardWriter.write(tokens: Array(tokens[..<half]), documentEnds: [half],
                                             to: dir + "/train-00000.lmshard", options: opts)
        }
        try! ShardWriter.write(tokens: Array(tokens[half...]), documentEnds: [n - half],
                               to: dir + "/train-00001.lmshard", options: opts)
        results.append(BenchmarkResult(group: "data", name: "shard_write_Mtok_per_s", median: Double(half) / secs / 1e6,
                                       unit: "M tok/s", repeats: 3))
        results.append(BenchmarkResult(group: "data", name: "shard_write_MB_per_s", median: Double(half * 2) / secs / 1e6,
                                       unit: "MB/s (u16 in)", repeats: 3))
        results.append(BenchmarkResult(group: "data", name: "shard_compression_ratio",
                                       median: Double(half * 2) / Double(written!.bytes), unit: "x", repeats: 1))
        let entries = [half, n - half].enumerated().map { i, t in
            Manifest.Entry(file: "train-0000\(i).lmshard", tokens: t, documents: 1, frames: 0, bytes: 0,
                           firstDocument: i, endDocument: i + 1)
        }
        try! Manifest(vocabFingerprint: 1, vocabSize: 50_257, endOfTextID: nil, frameTokens: opts.frameTokens,
                      complete: true, config: [:], command: "bench", train: entries).write(directory: dir)
        for (b, t) in [(16, 1024), (64, 256)] {
            let loader = try! DataLoader(directory: dir, split: .train, batchSize: b, context: t, seed: 1)
            let batches = max(8, min(loader.batchesPerEpoch, 2000))
            for _ in 0..<4 { _ = try! loader.next() }
            let s = medianSeconds(repeats: 3) { for _ in 0..<batches { _ = try! loader.next() } }
            results.append(BenchmarkResult(group: "data", name: "loader_B\(b)_T\(t)_Mtok_per_s",
                                           median: Double(batches * b * t) / s / 1e6, unit: "M tok/s", repeats: 3))
        }
        let sreader = try! ShardReader(path: dir + "/train-00000.lmshard")
        let rs = medianSeconds(repeats: 3) { try! sreader.verify() }
        results.append(BenchmarkResult(group: "data", name: "shard_read_verify_Mtok_per_s", median: Double(half) / rs / 1e6,
                                       unit: "M tok/s (1 thread)", repeats: 3))
        return results
    }

    /// Encode vs shard throughput on a real corpus (MB/s of input text, all cores).
    /// `level`: the zstd level of the shards (default: `lmkit shard`'s).
    static func corpus(_ path: String, vocab: String, dir: String, level: Int?) -> [BenchmarkResult] {
        let text = try! FileIO.readText(path)
        let docs = text.components(separatedBy: "<|endoftext|>\n").filter { !$0.isEmpty }
        let bytes = Double(docs.reduce(0) { $0 + $1.utf8.count })
        let vocabulary = try! VocabularyImport(input: vocab).run()
        let tokenizer = try! BPETokenizer(vocabulary)
        let docBytes = docs.map { Array($0.utf8) }
        var tokens = 0
        var p = Sharder.Parameters(output: dir, vocabSize: vocabulary.idLimit, vocabFingerprint: 1,
                                   endOfTextID: UInt32(vocabulary.specialID("<|endoftext|>") ?? 0))
        p.valFraction = 0.01
        if let level { p.level = level }
        // Interleaved repeats (encode, shard, encode, shard, …) so that both see the same machine
        // load: the ratio is what matters on a shared, noisy machine.
        var encodeTimes: [Double] = [], shardTimes: [Double] = [], ratios: [Double] = []
        var encodeCPU: [Double] = [], shardCPU: [Double] = []
        for _ in 0..<5 {
            var c0 = cpuSeconds()
            let e = medianSeconds(repeats: 1) { tokens = tokenizer.encodeOrdinaryBatch(docs).reduce(0) { $0 + $1.count } }
            encodeCPU.append(cpuSeconds() - c0)
            c0 = cpuSeconds()
            let s = medianSeconds(repeats: 1) {
                try? FileManager.default.removeItem(atPath: dir)
                try! Sharder.run(p, source: DocumentArray(docBytes), encode: { bytes in
                    // Valid UTF-8 (it came from a String), as LMCorpus guarantees for `lmkit shard`;
                    // the same closure as ShardCommand's.
                    var out: [UInt32] = []
                    out.reserveCapacity(bytes.count / 3 + 16)
                    bytes.withUnsafeBytes { tokenizer.encodeValidUTF8($0, appendingTo: &out) }
                    return out
                })
            }
            shardCPU.append(cpuSeconds() - c0)
            encodeTimes.append(e); shardTimes.append(s); ratios.append(e / s)
        }
        func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
        let encodeSecs = median(encodeTimes), shardSecs = median(shardTimes)
        let name = (path as NSString).lastPathComponent
        return [
            BenchmarkResult(group: "data", name: "encode_batch_MB_per_s[\(name)]", median: bytes / encodeSecs / 1e6,
                            unit: "MB/s (\(tokens) tokens)", repeats: 5),
            BenchmarkResult(group: "data", name: "shard_MB_per_s[\(name)]", median: bytes / shardSecs / 1e6,
                            unit: "MB/s", repeats: 5),
            BenchmarkResult(group: "data", name: "shard_vs_encode_ratio[\(name)]", median: median(ratios),
                            unit: "x (median of interleaved pairs)", repeats: 5),
            BenchmarkResult(group: "data", name: "shard_vs_encode_cpu_ratio[\(name)]", median: median(encodeCPU) / median(shardCPU),
                            unit: "x (CPU seconds of encode / of shard)", repeats: 5),
        ]
    }
}

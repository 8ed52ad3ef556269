import Foundation
import LMSupport
import LMTokenizer

/// Group `pretok`: pre-tokenizer throughput in MB/s (10^6 input bytes per second), single
/// thread, median of 5 runs, for each built-in pattern's scanner on Tiny Shakespeare
/// (`Corpora/tinyshakespeare.txt`, 1.1 MB, ASCII), and the NSRegularExpression engine
/// (`RegexPreTokenizer`) on the same text as the baseline. When `../shared/corpora` exists it
/// also times the scanners on the UDHR sample (3 MB, 388 languages, mostly non-ASCII).
/// Each figure comes twice: from wall time, and (`…-cpu`) from the thread's CPU time, which is
/// the steadier number on a loaded shared machine.
///
///     swift run -c release lmkit-bench pretok
enum PreTokenizerBench {
    static var group: BenchmarkGroup { BenchmarkGroup(name: "pretok") { _ in run() } }

    static func run() -> [BenchmarkResult] {
        var results: [BenchmarkResult] = []
        let cwd = FileManager.default.currentDirectoryPath
        guard let shakespeare = FileManager.default.contents(atPath: cwd + "/Corpora/tinyshakespeare.txt") else {
            printError("lmkit-bench pretok: Corpora/tinyshakespeare.txt not found; run from the repository root")
            return []
        }
        let patterns: [SplitPattern] = [.gpt2, .cl100k, .o200k]
        for pattern in patterns {
            results += (measure(name: "\(pattern.name)-tinyshakespeare", Array(shakespeare), pattern, regex: false))
        }
        results += (measure(name: "regex-gpt4-tinyshakespeare", Array(shakespeare), .cl100k, regex: true))
        let udhrPath = (cwd as NSString).deletingLastPathComponent + "/shared/corpora/multilingual/udhr2-multilingual-A.jsonl"
        if let udhr = udhrText(udhrPath) {
            for pattern in patterns {
                results += (measure(name: "\(pattern.name)-udhr", udhr, pattern, regex: false))
            }
        }
        return results
    }

    /// MB/s of splitting `bytes` with `pattern` (scanner, or the regex engine when `regex`).
    static func measure(name: String, _ bytes: [UInt8], _ pattern: SplitPattern, regex: Bool) -> [BenchmarkResult] {
        let scanner = try! PreTokenizer(pattern: pattern)
        let reference = try! RegexPreTokenizer(pattern: pattern)
        var pieces = 0
        var cpuTimes: [Double] = []
        let seconds = bytes.withUnsafeBytes { raw in
            if !regex { scanner.forEachPiece(in: raw) { _ in } }  // warm-up (builds the Unicode table)
            return medianSeconds(repeats: 5) {
                let c0 = threadCPUSeconds()
                pieces = 0
                if regex {
                    reference.forEachPiece(in: raw) { _ in pieces &+= 1 }
                } else {
                    scanner.forEachPiece(in: raw) { _ in pieces &+= 1 }
                }
                cpuTimes.append(threadCPUSeconds() - c0)
            }
        }
        precondition(pieces > 0)
        let cpu = cpuTimes.sorted()[cpuTimes.count / 2]
        return [
            BenchmarkResult(group: "pretok", name: name, median: Double(bytes.count) / seconds / 1e6,
                            unit: "MB/s", repeats: 5),
            BenchmarkResult(group: "pretok", name: name + "-cpu", median: Double(bytes.count) / cpu / 1e6,
                            unit: "MB/s", repeats: 5),
        ]
    }

    /// CPU time of the calling thread, in seconds.
    static func threadCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// The `text` fields of the UDHR jsonl, joined by newlines, or nil when absent.
    static func udhrText(_ path: String) -> [UInt8]? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        var out: [UInt8] = []
        for line in data.split(separator: UInt8(ascii: "\n")) {
            if let obj = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
               let text = obj["text"] as? String {
                out += text.utf8
                out.append(UInt8(ascii: "\n"))
            }
        }
        return out
    }
}

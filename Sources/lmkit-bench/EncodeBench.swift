import Foundation
import LMSupport
import LMTokenizer

// Group `encode`: BPE encoding speed in MB/s of UTF-8 input.
//
//   lmkit-bench encode [--quick] [--json] [--only=SUBSTRING] [--repeats=N]
//
// `--only=r50k/udhr` runs only the vocab/text pairs whose "vocab/text" name contains the substring;
// `--repeats=N` (default 5, 3 with --quick) sets the runs per row (1 for cachegrind/perf).
//
// For each vocabulary (r50k = Vocab/gpt2.vocab; cl100k from ../shared when present) and each text
// (Tiny Shakespeare from Corpora/; when ../shared exists, the first 8 MB of the Gutenberg corpus
// and all 388 UDHR texts joined with "\n" — 3.1 MB, multilingual, mostly multi-token pieces):
//   single        encodeOrdinary of the whole text on one thread (what tiktoken's encode_ordinary does), wall time
//   single-cpu    the same, thread CPU time (robust when other processes share the cores)
//   cold-cpu      the same with this thread's piece cache emptied before each run: first-pass
//                 speed (the other rows reuse pieces cached by the warm-up and earlier repeats,
//                 which tiktoken, having no cache, cannot)
//   batchN        encodeOrdinaryBatch of ~64 kB newline-aligned chunks on all N cores, wall time
//   pretok-cpu    the pre-tokenizer alone (PreTokenizer.forEachPiece), thread CPU time
//   bpe-only-cpu  the BPE stage alone over pieces split beforehand, thread CPU time
// The last two show which stage limits `single`. Medians of several runs.

enum EncodeBench {
    static var group: BenchmarkGroup { BenchmarkGroup(name: "encode", run: run) }

    static func run(_ args: [String]) -> [BenchmarkResult] {
        let quick = args.contains("--quick")
        let repeats = args.first { $0.hasPrefix("--repeats=") }.flatMap { Int($0.dropFirst("--repeats=".count)) } ?? (quick ? 3 : 5)
        let only = args.first { $0.hasPrefix("--only=") }.map { String($0.dropFirst("--only=".count)) }
        let root = benchRepoRoot()
        let shared = ProcessInfo.processInfo.environment["LMKIT_SHARED_CORPORA"]
            ?? (root as NSString).deletingLastPathComponent + "/shared/corpora"
        let hasShared = FileManager.default.fileExists(atPath: shared + "/vocab")

        var vocabs: [(String, Vocabulary)] = []
        do { vocabs.append(("r50k", try VocabularyFile.read(root + "/Vocab/gpt2.vocab"))) } catch { printError("encode: \(error)") }
        if hasShared, let v = try? VocabularyImport(input: shared + "/vocab/cl100k_base.tiktoken").run() { vocabs.append(("cl100k", v)) }

        var texts: [(String, [UInt8])] = []
        if let t = try? FileIO.readBytes(root + "/Corpora/tinyshakespeare.txt") { texts.append(("shakespeare", t)) }
        if hasShared, let g = zstdHead(shared + "/gutenberg-en-A.txt.zst", bytes: quick ? 2_000_000 : 8_000_000) {
            texts.append(("gutenberg8MB", g))
        }

        if hasShared, let u = udhrText(shared + "/multilingual/udhr2-multilingual-A.jsonl") { texts.append(("udhr", u)) }

        var results: [BenchmarkResult] = []
        for (vname, vocab) in vocabs {
            guard let tok = try? BPETokenizer(vocab) else { continue }
            for (tname, bytes) in texts {
                if let only, !"\(vname)/\(tname)".contains(only) { continue }
                let text = String(decoding: bytes, as: UTF8.self)
                let mb = Double(bytes.count) / 1e6
                func add(_ what: String, _ seconds: Double) {
                    results.append(BenchmarkResult(group: "encode", name: "\(vname)/\(tname)/\(what)",
                                                   median: mb / seconds, unit: "MB/s", repeats: repeats))
                    printError("encode/\(vname)/\(tname)/\(what): \(String(format: "%.1f", mb / seconds)) MB/s")
                }
                var ids: [UInt32] = []
                _ = tok.encodeOrdinary(text)  // warm the cache and pages
                add("single", medianSeconds(repeats: repeats) { ids = tok.encodeOrdinary(text) })
                add("single-cpu", medianCPUSeconds(repeats: repeats) { ids = tok.encodeOrdinary(text) })
                add("cold-cpu", medianCPUSeconds(repeats: repeats, before: BPETokenizer.discardThreadCache) {
                    ids = tok.encodeOrdinary(text)
                })

                let chunks = newlineChunks(text, target: 64 << 10)
                var total = 0
                add("batch\(Threads.available)", medianSeconds(repeats: repeats) {
                    total = tok.encodeOrdinaryBatch(chunks).reduce(0) { $0 + $1.count }
                })

                var pieces: [Range<Int>] = []
                bytes.withUnsafeBytes { raw in tok.preTokenizer.forEachPiece(in: raw) { pieces.append($0) } }
                add("pretok-cpu", medianCPUSeconds(repeats: repeats) {
                    var count = 0
                    bytes.withUnsafeBytes { raw in tok.preTokenizer.forEachPiece(in: raw) { count &+= $0.count } }
                    precondition(count == bytes.count)
                })
                add("bpe-only-cpu", medianCPUSeconds(repeats: repeats) {
                    var out: [UInt32] = []
                    out.reserveCapacity(bytes.count / 3)
                    bytes.withUnsafeBytes { raw in tok.encodePieces(raw, pieces: pieces, appendingTo: &out) }
                    precondition(out.count == ids.count)
                })
                printError("encode/\(vname)/\(tname): \(ids.count) tokens, \(String(format: "%.3f", Double(bytes.count) / Double(ids.count))) bytes/token, batch tokens \(total)")
            }
        }
        return results
    }

    /// Median CPU seconds of the calling thread (robust on a loaded machine; single-thread work only).
    /// `before` runs ahead of each repeat, outside the timed part.
    static func medianCPUSeconds(repeats: Int, before: () -> Void = {}, _ body: () -> Void) -> Double {
        var times: [Double] = []
        for _ in 0..<repeats {
            before()
            var a = timespec(), b = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a)
            body()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b)
            times.append(Double(b.tv_sec - a.tv_sec) + Double(b.tv_nsec - a.tv_nsec) / 1e9)
        }
        times.sort()
        return times[times.count / 2]
    }

    /// All UDHR texts (388 languages) joined with "\n": the multilingual case, where most pieces need merges.
    static func udhrText(_ path: String) -> [UInt8]? {
        guard let bytes = try? FileIO.readBytes(path) else { return nil }
        var out: [UInt8] = []
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            guard let o = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                  let t = o["text"] as? String else { continue }
            if !out.isEmpty { out.append(UInt8(ascii: "\n")) }
            out += Array(t.utf8)
        }
        return out.isEmpty ? nil : out
    }

    /// Chunks of about `target` bytes ending at newlines.
    static func newlineChunks(_ text: String, target: Int) -> [String] {
        var out: [String] = []
        let u = Array(text.utf8)
        var start = 0
        while start < u.count {
            var end = min(u.count, start + target)
            while end < u.count && u[end - 1] != UInt8(ascii: "\n") { end += 1 }
            out.append(String(decoding: u[start..<end], as: UTF8.self))
            start = end
        }
        return out
    }

    /// The first `bytes` bytes of a .zst file (via the zstd command), cut back to a newline.
    static func zstdHead(_ path: String, bytes: Int) -> [UInt8]? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["zstd", "-dc", path]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        var data = Data()
        while data.count < bytes {
            let d = pipe.fileHandleForReading.readData(ofLength: min(1 << 20, bytes - data.count))
            if d.isEmpty { break }
            data.append(d)
        }
        p.terminate()
        var b = [UInt8](data)
        while let last = b.last, last != UInt8(ascii: "\n") { b.removeLast() }
        return b.isEmpty ? nil : b
    }

    /// The package root: the directory holding Package.swift above this executable or the cwd.
    static func benchRepoRoot() -> String {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
        }
        return FileManager.default.currentDirectoryPath
    }
}

import Foundation
import Testing
import LMTestSupport
import LMTokenizer

/// The scanners against Python `regex` on *all* of the shared corpora (Tiny Shakespeare, the
/// 114 MB Gutenberg corpus, UDHR, emoji-test, CPython: ~124 MB, ~80 M pieces per run), through
/// the per-document digests in `Fixtures/pretok_corpus_digests.json` made by
/// `scripts/check_pretok.py` (which also checked that `regex` splits exactly like tiktoken).
/// Skipped when `../shared/corpora` is absent, and for Gutenberg when no `zstd` executable is
/// on the PATH (it is decompressed with `zstd -dc`).
@Suite struct PreTokenizerCorpusDigestTests {
    struct Digests: Decodable {
        struct Corpus: Decodable {
            var documents: Int
            var bytes: Int
            var gpt2: [Digest]
            var cl100k: [Digest]
            var o200k: [Digest]
        }
        /// `[piece count, "hex digest"]`.
        struct Digest: Decodable, Equatable, CustomStringConvertible {
            var count: Int
            var hex: String
            init(count: Int, hex: String) { self.count = count; self.hex = hex }
            init(from decoder: Decoder) throws {
                var c = try decoder.unkeyedContainer()
                count = try c.decode(Int.self)
                hex = try c.decode(String.self)
            }
            var description: String { "\(count) pieces, \(hex)" }
        }
        var corpora: [String: Corpus]
    }

    struct Record: Decodable { var text: String }

    static func load() throws -> Digests {
        let path = TestData.repoPath("Tests/LMTokenizerTests/Fixtures/pretok_corpus_digests.json")
        return try JSONDecoder().decode(Digests.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// The documents of one corpus file, split exactly as `scripts/check_pretok.py` splits them;
    /// nil when it cannot be read here.
    static func documents(_ corpus: String, root: String) throws -> [[UInt8]]? {
        let path = root + "/" + corpus
        if corpus.hasSuffix(".jsonl") {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return try data.split(separator: UInt8(ascii: "\n")).map {
                Array(try JSONDecoder().decode(Record.self, from: Data($0)).text.utf8)
            }
        }
        if corpus.hasSuffix(".zst") {
            guard let raw = zstdDecompress(path) else { return nil }
            return split(raw, on: Array("<|endoftext|>\n".utf8))
        }
        return [Array(try Data(contentsOf: URL(fileURLWithPath: path)))]
    }

    /// `zstd -dc path`, or nil when there is no zstd executable.
    static func zstdDecompress(_ path: String) -> [UInt8]? {
        let candidates = ["/usr/bin/zstd", "/usr/local/bin/zstd", "/opt/homebrew/bin/zstd"]
        guard let exe = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = ["-dc", path]
        let pipe = Pipe()
        p.standardOutput = pipe
        guard (try? p.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return p.terminationStatus == 0 ? Array(data) : nil
    }

    /// Python's `bytes.split(sep)`.
    static func split(_ bytes: [UInt8], on sep: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var start = 0, i = 0
        while i + sep.count <= bytes.count {
            if bytes[i] == sep[0] && bytes[i..<(i + sep.count)].elementsEqual(sep) {
                out.append(Array(bytes[start..<i]))
                i += sep.count
                start = i
            } else {
                i += 1
            }
        }
        out.append(Array(bytes[start...]))
        return out
    }

    /// Piece count and h = h * 0x100000001B3 + length (mod 2^64), as in the script.
    static func digest(_ bytes: [UInt8], _ pre: PreTokenizer) -> Digests.Digest {
        var h: UInt64 = 0
        var n = 0
        bytes.withUnsafeBytes { raw in
            pre.forEachPiece(in: raw) { r in
                h = h &* 0x100_0000_01B3 &+ UInt64(r.count)
                n &+= 1
            }
        }
        let s = String(h, radix: 16)
        return .init(count: n, hex: String(repeating: "0", count: 16 - s.count) + s)
    }

    @Test(arguments: ["tinyshakespeare.txt", "multilingual/emoji-test-A.txt",
                      "multilingual/udhr2-multilingual-A.jsonl", "multilingual/cpython311-stdlib-A.jsonl",
                      "gutenberg-en-A.txt.zst"])
    func scannerMatchesPythonRegexOnWholeCorpus(corpus: String) throws {
        guard let root = TestData.sharedCorpora else { return }  // no ../shared/corpora: skip
        let expected = try #require(try Self.load().corpora[corpus])
        guard let docs = try Self.documents(corpus, root: root) else { return }  // no zstd: skip
        #expect(docs.count == expected.documents)
        #expect(docs.reduce(0) { $0 + $1.count } == expected.bytes)
        for (pattern, digests) in [(SplitPattern.gpt2, expected.gpt2), (.cl100k, expected.cl100k), (.o200k, expected.o200k)] {
            let pre = try PreTokenizer(pattern: pattern)
            var bad: [String] = []
            for (k, doc) in docs.enumerated() where k < digests.count {
                let got = Self.digest(doc, pre)
                if got != digests[k] { bad.append("document \(k): got \(got), expected \(digests[k])") }
            }
            #expect(bad.isEmpty, "\(pattern.name) \(corpus): \(bad.count) documents differ: \(bad.prefix(5))")
        }
    }
}
